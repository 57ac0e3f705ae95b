// The cosign-sign payload (src/formats/cosign-sign.ts): what image signatures are when they are stored as sigstore
// bundles. Its JSON value is checked against cosign v3's own in e2e/oci-referrers.e2e.ts; here, its shape and bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import { ChainsmithError } from '../../src/errors.js';
import { COSIGN_SIGN_PREDICATE, cosignSignStatement, FORMAT_NAMES, payloadFormat } from '../../src/formats/index.js';
import { imageFormat } from '../../src/pipeline/sign-run.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const image = { repository: '127.0.0.1:5000/team/app', digest: DIGEST, source: 'IMAGE_URL' };

test('an image signature for sigstore bundles is an in-toto v1 statement about the digest, as cosign v3 signs it', () => {
  const payload = payloadFormat('cosign-sign').createPayload({ kind: 'Image', image }, DEFAULT_CONFIG);
  assert.equal(payload.kind, 'in-toto');
  assert.equal(payload.predicateType, COSIGN_SIGN_PREDICATE);
  assert.deepEqual(JSON.parse(payload.bytes.toString()), {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: 'ab'.repeat(32) }, annotations: {} }],
    predicateType: 'https://sigstore.dev/cosign/sign/v1',
    predicate: {},
  });
  // storage attaches it to the image's repository, which the statement itself does not name
  assert.deepEqual(payload.subjects, [{ name: image.repository, digest: { sha256: 'ab'.repeat(32) } }]);
  assert.equal(payload.bytes.toString(), cosignSignStatement(DIGEST), 'deterministic: a retry signs the same bytes');
});

test('cosign-sign refuses runs and digests that are not sha256', () => {
  const format = payloadFormat('cosign-sign');
  assert.throws(
    () => format.createPayload({ kind: 'Image', image: { ...image, digest: 'sha512:00' } }, DEFAULT_CONFIG),
    (e: unknown) => e instanceof ChainsmithError && e.reason === 'PayloadFailed',
  );
  assert.throws(() => cosignSignStatement(`sha256:${'AB'.repeat(32)}`), /not sha256:<64 hex>/);
});

test('cosign-sign is not a chains-config format: artifacts.oci.format stays simplesigning', () => {
  assert.ok(!FORMAT_NAMES.includes('cosign-sign'));
});

test('image signatures are cosign-sign statements only when the registry stores them as sigstore bundles', () => {
  const bundles = structuredClone(DEFAULT_CONFIG);
  bundles.storage.oci.encodingFormat = 'sigstore-bundle';
  assert.equal(imageFormat(DEFAULT_CONFIG, ['oci']), 'simplesigning');
  assert.equal(imageFormat(bundles, ['oci']), 'cosign-sign');
  assert.equal(imageFormat(bundles, ['oci', 'tekton']), 'cosign-sign');
  // no registry storage: the encoding does not apply, Chains' simple signing is kept
  assert.equal(imageFormat(bundles, ['tekton']), 'simplesigning');
});
