// The referrers tag schema's tag (src/oci/referrers.ts; OCI distribution spec 1.1): `<alg>-<ref>`, truncated to 128.
// Listing and writing the fallback index is tested against the stack's real registry (e2e/oci-referrers.e2e.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referrersTag } from '../../src/oci/referrers.js';

test('the fallback tag of a digest is <alg>-<hex>, as cosign and oras write it', () => {
  assert.equal(referrersTag(`sha256:${'ab'.repeat(32)}`), `sha256-${'ab'.repeat(32)}`);
  // a tag is at most 128 characters: sha512's is truncated as the spec says
  assert.equal(referrersTag(`sha512:${'cd'.repeat(64)}`), `sha512-${'cd'.repeat(64)}`.slice(0, 128));
  assert.equal(referrersTag(`sha512:${'cd'.repeat(64)}`).length, 128);
  assert.throws(() => referrersTag('latest'), /not a digest/);
  assert.throws(() => referrersTag('sha256:../../x'), /not a digest/);
});
