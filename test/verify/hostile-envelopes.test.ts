// Hostile attestations (odd JSON shapes, wrong types, junk encodings, absurd signature lists), some of them
// validly signed with the verifying key: each is one INVALID layer with a reason, never a raw JavaScript error,
// and the image's other, valid attestation still verifies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadFileSigner } from '../../src/signing/keys.js';
import { createEnvelope } from '../../src/sigstore/dsse.js';
import { assessImage } from '../../src/verify/assess.js';
import { checkAttestation, checkSimpleSigning, type LayerVerdict } from '../../src/verify/checks.js';
import { parsePublicKeyPem } from '../../src/verify/key.js';

const KEYS = join(import.meta.dirname, '..', 'fixtures', 'keys');
const KEY = parsePublicKeyPem(readFileSync(join(KEYS, 'x509-ecdsa-p256', 'cosign.pub'), 'utf8'));
const signer = await loadFileSigner(join(KEYS, 'x509-ecdsa-p256'));
const HEX = 'ab'.repeat(32);
const DIGEST = `sha256:${HEX}`;
const V02 = 'https://slsa.dev/provenance/v0.2';

const statement = (over: Record<string, unknown>) =>
  Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: V02,
      subject: [{ name: 'r/app', digest: { sha256: HEX } }],
      predicate: { builder: { id: 'b' } },
      ...over,
    }),
  );
/** A statement validly signed by the verifying key: only its shape is hostile. */
const signed = async (over: Record<string, unknown>) => createEnvelope(signer, statement(over));
const raw = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const goodEnvelope = JSON.parse((await signed({})).toString()) as { payload: string; signatures: unknown[] };

const hostile: Array<[string, Buffer | Promise<Buffer>, RegExp]> = [
  ['subject: [null]', signed({ subject: [null] }), /^statement: subject\[0\] is not an object$/],
  ['subject not a list', signed({ subject: 'r/app' }), /^statement: the statement's "subject" is not a list$/],
  ['subject an object', signed({ subject: { name: 'r/app' } }), /"subject" is not a list/],
  [
    'digest not an object',
    signed({ subject: [{ name: 'r/app', digest: HEX }] }),
    /^statement: subject\[0\]\.digest is not an object$/,
  ],
  ['digest null', signed({ subject: [{ name: 'r/app', digest: null }] }), /subject\[0\]\.digest is not an object/],
  [
    'digest value a number',
    signed({ subject: [{ name: 'r/app', digest: { sha256: 5 } }] }),
    /subject\[0\]\.digest\.sha256 is not a string/,
  ],
  [
    'name an object',
    signed({ subject: [{ name: {}, digest: { sha256: HEX } }] }),
    /subject\[0\]\.name is not a string/,
  ],
  [
    'statement is null',
    createEnvelope(signer, Buffer.from('null')),
    /^statement: the payload is not an in-toto statement$/,
  ],
  ['statement is a list', createEnvelope(signer, Buffer.from('[1]')), /not an in-toto statement/],
  [
    'payload not JSON',
    createEnvelope(signer, Buffer.from('\u001b[2J VERIFIED')),
    /^statement: the payload is not JSON$/,
  ],
  ['wrong payloadType', createEnvelope(signer, statement({}), 'text/plain'), /^envelope: payloadType is "text\/plain"/],
  [
    'payload not base64',
    raw({ ...goodEnvelope, payload: '%%%not base64%%%' }),
    /^envelope: the envelope payload is not base64$/,
  ],
  [
    'payload a number',
    raw({ ...goodEnvelope, payload: 7 }),
    /^envelope: not a DSSE envelope: payload is not a string$/,
  ],
  ['signatures empty', raw({ ...goodEnvelope, signatures: [] }), /^envelope: the envelope has no signatures$/],
  [
    'signatures huge',
    raw({ ...goodEnvelope, signatures: Array(100_000).fill(goodEnvelope.signatures[0]) }),
    /has 100000 signatures \(at most 16/,
  ],
  [
    'signatures [null]',
    raw({ ...goodEnvelope, signatures: [null] }),
    /^envelope: signatures\[0\] has no "sig" string$/,
  ],
  ['sig not base64', raw({ ...goodEnvelope, signatures: [{ sig: '***' }] }), /signatures\[0\]\.sig is not base64/],
  ['signatures not a list', raw({ ...goodEnvelope, signatures: { sig: 'x' } }), /signatures is not a list/],
  ['envelope null', raw('null'), /^envelope: not a DSSE envelope: not a JSON object$/],
  ['envelope a list', raw([goodEnvelope]), /not a JSON object/],
  ['envelope not JSON', raw('\u0000\u00ff'), /^envelope: not a DSSE envelope: not JSON$/],
  ['envelope empty', Buffer.alloc(0), /not JSON/],
];

const reasonOf = (v: LayerVerdict) => {
  const c = v.checks.find((x) => x.status === 'failed');
  return c ? `${c.name}: ${c.detail}` : '';
};

for (const [name, envelope, reason] of hostile) {
  test(`hostile attestation (${name}): an INVALID layer with a reason; the valid layer still verifies the image`, async () => {
    const bad = checkAttestation('bad layer', await envelope, KEY, DIGEST, { predicateType: V02, builderId: 'b' });
    assert.equal(bad.authentic, false);
    assert.match(reasonOf(bad), reason);
    const good = checkAttestation('good layer', await signed({}), KEY, DIGEST, { predicateType: V02, builderId: 'b' });
    assert.equal(good.authentic, true, reasonOf(good));
    const sig: LayerVerdict = { source: 's', authentic: true, checks: [] };
    const target = { image: `r/app@${DIGEST}`, repository: 'r/app', digest: DIGEST, resolvedDetail: 'exists' };
    for (const order of [
      [bad, good],
      [good, bad],
    ]) {
      const report = assessImage(target, [sig], order, {
        requireAttestation: true,
        predicateType: V02,
        builderId: 'b',
      });
      assert.equal(report.verified, true, report.firstFailure);
    }
  });
}

test('a statement with many subjects is named in a bounded line', async () => {
  const subject = Array.from({ length: 5000 }, (_, i) => ({
    name: `r/app${i}`,
    digest: { sha256: i.toString(16).padStart(64, '0') },
  }));
  const v = checkAttestation('many', await signed({ subject }), KEY, `sha256:${'f'.repeat(64)}`);
  assert.equal(v.authentic, false);
  const detail = v.checks.find((c) => c.name === 'subject')!.detail;
  assert.match(detail, /… and 4995 more\)$/);
  assert.ok(detail.length < 1000, `${detail.length} characters`);
});

test('hostile simple-signing payloads are INVALID with a reason', () => {
  for (const payload of ['null', '[]', '{"critical":null}', '{"critical":{"identity":null,"image":7}}', '\u0000']) {
    const v = checkSimpleSigning('l', Buffer.from(payload), Buffer.from('x'), KEY, {
      repository: 'r/app',
      digest: DIGEST,
    });
    assert.equal(v.authentic, false, payload);
    assert.ok(
      v.checks.some((c) => c.status === 'failed'),
      payload,
    );
  }
});
