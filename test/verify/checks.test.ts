// The per-signature checks of `chainsmith verify`, against real signatures made by the project's signing code
// with the fixture keys (test/fixtures/keys), so a check that drifts from what we sign fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadFileSigner } from '../../src/signing/keys.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import { simpleSigningFormat } from '../../src/formats/simplesigning.js';
import { checkAttestation, checkSimpleSigning } from '../../src/verify/checks.js';
import { parsePublicKeyPem } from '../../src/verify/key.js';
import type { Payload } from '../../src/formats/types.js';

const KEYS = join(import.meta.dirname, '..', 'fixtures', 'keys');
const pub = (dir: string) => parsePublicKeyPem(readFileSync(join(KEYS, dir, 'cosign.pub'), 'utf8'));
const REPO = '127.0.0.1:5000/demo/app';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const OTHER_DIGEST = `sha256:${'cd'.repeat(32)}`;

function imagePayload(repository = REPO, digest = DIGEST): Payload {
  return simpleSigningFormat.createPayload(
    { kind: 'Image', image: { repository, digest } } as never,
    {} as never,
  ) as Payload;
}

function provenance(opts: { predicateType?: string; builderId?: string; digestHex?: string } = {}): Payload {
  const predicateType = opts.predicateType ?? 'https://slsa.dev/provenance/v0.2';
  const builder = { id: opts.builderId ?? 'https://tekton.dev/chains/v2' };
  const predicate = predicateType.endsWith('/v1')
    ? { buildDefinition: {}, runDetails: { builder } }
    : { builder, buildType: 'x' };
  const statement = {
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType,
    subject: [{ name: REPO, digest: { sha256: opts.digestHex ?? DIGEST.slice(7) } }],
    predicate,
  };
  return { bytes: Buffer.from(JSON.stringify(statement)), kind: 'in-toto', predicateType };
}

for (const dir of ['x509-ecdsa-p256', 'x509-ecdsa-p384', 'x509-ed25519', 'x509-rsa', 'cosign-ecdsa-p256']) {
  test(`a simple-signing signature made with ${dir} passes every check`, async () => {
    const signer = await loadFileSigner(join(KEYS, dir));
    const signed = await signPayload(signer, imagePayload());
    const v = checkSimpleSigning('l1', signed.payload, signed.signature, pub(dir), {
      repository: REPO,
      digest: DIGEST,
    });
    assert.equal(v.authentic, true, JSON.stringify(v.checks));
    assert.deepEqual(
      v.checks.map((c) => [c.name, c.status]),
      [
        ['signature', 'passed'],
        ['digest', 'passed'],
        ['reference', 'passed'],
      ],
    );
  });
}

test('a simple-signing signature fails with another key', async () => {
  const signed = await signPayload(await loadFileSigner(join(KEYS, 'x509-ecdsa-p256')), imagePayload());
  const v = checkSimpleSigning('l1', signed.payload, signed.signature, pub('x509-ecdsa-p384'), {
    repository: REPO,
    digest: DIGEST,
  });
  assert.equal(v.authentic, false);
  assert.equal(v.checks.find((c) => c.name === 'signature')?.status, 'failed');
});

test('a simple-signing signature fails when the payload bytes were changed after signing', async () => {
  const signed = await signPayload(await loadFileSigner(join(KEYS, 'x509-ecdsa-p256')), imagePayload());
  const tampered = Buffer.from(signed.payload.toString().replace('"optional":null', '"optional":{"x":"y"}'));
  const v = checkSimpleSigning('l1', tampered, signed.signature, pub('x509-ecdsa-p256'), {
    repository: REPO,
    digest: DIGEST,
  });
  assert.equal(v.authentic, false);
  assert.match(v.checks[0]!.detail, /does not verify/);
});

test('a valid signature for another digest or another repository is not a signature of this image', async () => {
  const signer = await loadFileSigner(join(KEYS, 'x509-ecdsa-p256'));
  const forOther = await signPayload(signer, imagePayload(REPO, OTHER_DIGEST));
  const v1 = checkSimpleSigning('l1', forOther.payload, forOther.signature, pub('x509-ecdsa-p256'), {
    repository: REPO,
    digest: DIGEST,
  });
  assert.equal(v1.authentic, false);
  assert.match(v1.checks.find((c) => c.name === 'digest')!.detail, new RegExp(`${OTHER_DIGEST}.*${DIGEST}`));
  const elsewhere = await signPayload(signer, imagePayload('127.0.0.1:5000/other', DIGEST));
  const v2 = checkSimpleSigning('l1', elsewhere.payload, elsewhere.signature, pub('x509-ecdsa-p256'), {
    repository: REPO,
    digest: DIGEST,
  });
  assert.equal(v2.checks.find((c) => c.name === 'reference')?.status, 'failed');
});

test('a layer without a signature annotation fails with a reason', () => {
  const v = checkSimpleSigning('l1', imagePayload().bytes, undefined, pub('x509-ecdsa-p256'), {
    repository: REPO,
    digest: DIGEST,
  });
  assert.equal(v.authentic, false);
  assert.match(v.checks[0]!.detail, /no dev\.cosignproject\.cosign\/signature/);
});

test('a DSSE attestation made by signPayload verifies, with its predicate type and builder id read back', async () => {
  for (const predicateType of ['https://slsa.dev/provenance/v0.2', 'https://slsa.dev/provenance/v1']) {
    const signed = await signPayload(
      await loadFileSigner(join(KEYS, 'cosign-ecdsa-p256')),
      provenance({ predicateType, builderId: 'https://b/1' }),
    );
    const v = checkAttestation('a1', signed.signature, pub('cosign-ecdsa-p256'), DIGEST, {
      predicateType,
      builderId: 'https://b/1',
    });
    assert.equal(v.authentic, true, JSON.stringify(v.checks));
    assert.equal(v.predicateType, predicateType);
    assert.equal(v.builderId, 'https://b/1');
    assert.ok(v.checks.every((c) => c.status === 'passed'));
  }
});

test('an attestation with another builder id or predicate type is authentic but fails those checks', async () => {
  const signed = await signPayload(
    await loadFileSigner(join(KEYS, 'x509-ecdsa-p256')),
    provenance({ builderId: 'https://evil/builder' }),
  );
  const v = checkAttestation('a1', signed.signature, pub('x509-ecdsa-p256'), DIGEST, {
    predicateType: 'https://slsa.dev/provenance/v1',
    builderId: 'https://good/builder',
  });
  assert.equal(v.authentic, true);
  assert.equal(v.checks.find((c) => c.name === 'predicate-type')?.status, 'failed');
  assert.match(
    v.checks.find((c) => c.name === 'builder-id')!.detail,
    /https:\/\/evil\/builder, expected https:\/\/good\/builder/,
  );
});

test('an attestation fails with another key, another subject, or a changed statement', async () => {
  const signer = await loadFileSigner(join(KEYS, 'x509-ecdsa-p256'));
  const signed = await signPayload(signer, provenance());
  assert.equal(checkAttestation('a', signed.signature, pub('x509-rsa'), DIGEST).authentic, false);
  const aboutOther = await signPayload(signer, provenance({ digestHex: OTHER_DIGEST.slice(7) }));
  const v = checkAttestation('a', aboutOther.signature, pub('x509-ecdsa-p256'), DIGEST);
  assert.equal(v.authentic, false);
  assert.match(v.checks.find((c) => c.name === 'subject')!.detail, /no subject has the image digest/);
  const env = JSON.parse(signed.signature.toString()) as { payload: string };
  const statement = Buffer.from(env.payload, 'base64')
    .toString()
    .replace('https://tekton.dev/chains/v2', 'https://evil/builder');
  const tampered = Buffer.from(JSON.stringify({ ...env, payload: Buffer.from(statement).toString('base64') }));
  const t = checkAttestation('a', tampered, pub('x509-ecdsa-p256'), DIGEST);
  assert.equal(t.authentic, false);
  assert.equal(t.checks.find((c) => c.name === 'signature')?.status, 'failed');
});

test('an envelope of another payloadType or no envelope at all is rejected with the reason', () => {
  const key = pub('x509-ecdsa-p256');
  const other = Buffer.from(
    JSON.stringify({ payloadType: 'text/plain', payload: 'eA==', signatures: [{ sig: 'AA==' }] }),
  );
  assert.match(checkAttestation('a', other, key, DIGEST).checks[0]!.detail, /payloadType is "text\/plain"/);
  assert.match(checkAttestation('a', Buffer.from('nope'), key, DIGEST).checks[0]!.detail, /not a DSSE envelope/);
});
