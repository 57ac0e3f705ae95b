// The chain of links `chainsmith verify` reports, and which one it names first, from per-signature verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assessImage } from '../../src/verify/assess.js';
import type { LayerVerdict } from '../../src/verify/checks.js';

const target = { image: 'r/app@sha256:x', repository: 'r/app', digest: 'sha256:x', resolvedDetail: 'exists' };
const sig = (authentic: boolean): LayerVerdict => ({
  source: 's',
  authentic,
  checks: [
    { name: 'signature', status: authentic ? 'passed' : 'failed', detail: authentic ? 'ok' : 'does not verify' },
  ],
});
const att = (predicateType: string, builderId: string, authentic = true): LayerVerdict => ({
  source: 'a',
  authentic,
  checks: [],
  predicateType,
  builderId,
});
const V02 = 'https://slsa.dev/provenance/v0.2';
const V1 = 'https://slsa.dev/provenance/v1';

test('one valid signature among invalid ones is enough (as in cosign)', () => {
  const r = assessImage(target, [sig(false), sig(true)], [], { requireAttestation: false });
  assert.equal(r.verified, true);
  assert.equal(r.links.find((l) => l.name === 'attestation')?.status, 'skipped');
});

test('no signatures: the signature link is the first broken one', () => {
  const r = assessImage(target, [], [att(V02, 'b')], { requireAttestation: false });
  assert.equal(r.verified, false);
  assert.equal(r.firstFailure, 'signature: no signatures found');
});

test('an attestation is required only when a predicate type or builder id is asked for', () => {
  assert.equal(assessImage(target, [sig(true)], [att(V02, 'b', false)], { requireAttestation: false }).verified, true);
  const r = assessImage(target, [sig(true)], [att(V02, 'b', false)], { requireAttestation: false, predicateType: V02 });
  assert.match(r.firstFailure!, /^attestation: none of 1 attestation/);
});

test('predicate type filters attestations like cosign --type, naming what was found', () => {
  const r = assessImage(target, [sig(true)], [att(V1, 'b')], { requireAttestation: true, predicateType: V02 });
  assert.equal(
    r.firstFailure,
    `predicate-type: none of the verified attestations has predicateType ${V02} (found: ${V1})`,
  );
});

test('every matching provenance must name the builder; others of another type do not count', () => {
  assert.equal(
    assessImage(target, [sig(true)], [att(V02, 'good'), att(V1, 'evil')], {
      requireAttestation: true,
      predicateType: V02,
      builderId: 'good',
    }).verified,
    true,
  );
  const r = assessImage(target, [sig(true)], [att(V02, 'good'), att(V02, 'evil')], {
    requireAttestation: true,
    predicateType: V02,
    builderId: 'good',
  });
  assert.match(r.firstFailure!, /^builder-id: 1 of 2 .* evil \(expected good\)/);
  // without a predicate type, any SLSA provenance is read
  assert.equal(
    assessImage(target, [sig(true)], [att(V1, 'good')], { requireAttestation: false, builderId: 'good' }).verified,
    true,
  );
});
