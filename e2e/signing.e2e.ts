// Cross-checks chainsmith's signing against the real cosign CLI ($COSIGN, the stack's cosign v2):
// cosign must accept our signatures and DSSE envelopes for every key type, and cosign must be able to
// use the encrypted keys we write (the demo generates its cosign.key with encryptCosignKey).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFileSigner } from '../src/signing/keys.js';
import { signPayload } from '../src/sigstore/sign-payload.js';
import { encryptCosignKey, exportPublicKeyPem, COSIGN_KEY_LABEL } from '../src/signing/cosign-key.js';
import { cosign } from './lib/cosign.js';

const KEYS = fileURLToPath(new URL('../test/fixtures/keys/', import.meta.url));

const work = mkdtempSync(join(tmpdir(), 'chainsmith-signing-e2e-'));
const BLOB = join(work, 'payload.json');
writeFileSync(
  BLOB,
  '{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/demo/app"},"image":{"docker-manifest-digest":"sha256:' +
    'ab'.repeat(32) +
    '"},"type":"cosign container image signature"},"optional":null}',
);
const TAMPERED = join(work, 'tampered.json');
writeFileSync(TAMPERED, readFileSync(BLOB, 'utf8').replace('demo/app', 'demo/evil'));

/**
 * Each fixture with the digest algorithm `cosign verify --key` needs: SHA-256 (cosign's default) except
 * cosign.key P-384/P-521, which sign with SHA-384/SHA-512 like cosign sign and Chains (docs/compatibility.md "## Signing").
 */
const FIXTURES: Array<[string, string]> = [
  ['x509-ecdsa-p256', 'sha256'],
  ['x509-ecdsa-p384', 'sha256'],
  ['x509-ecdsa-p521', 'sha256'],
  ['x509-ed25519', 'sha256'],
  ['x509-rsa', 'sha256'],
  ['cosign-ecdsa-p256', 'sha256'],
  ['cosign-legacy-label', 'sha256'],
  ['cosign-ecdsa-p384', 'sha384'],
  ['cosign-ecdsa-p521', 'sha512'],
  ['cosign-ed25519', 'sha256'],
  ['cosign-rsa', 'sha256'],
];

test('cosign is runnable', async () => {
  const { code, out } = await cosign(['version']);
  assert.equal(code, 0, out);
  assert.match(out, /GitVersion:\s+v2\./);
});

for (const [fixture, digestAlgorithm] of FIXTURES) {
  test(`cosign verify-blob accepts our ${fixture} signature and rejects it for other bytes`, async () => {
    const signer = await loadFileSigner(join(KEYS, fixture));
    const sigFile = join(work, `${fixture}.sig`);
    writeFileSync(sigFile, (await signer.sign(readFileSync(BLOB))).toString('base64'));
    const pub = join(KEYS, fixture, 'cosign.pub');
    const args = [
      'verify-blob',
      '--key',
      pub,
      '--signature',
      sigFile,
      '--insecure-ignore-tlog',
      '--signature-digest-algorithm',
      digestAlgorithm,
    ];
    const ok = await cosign([...args, BLOB]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /Verified OK/);
    const bad = await cosign([...args, TAMPERED]);
    assert.notEqual(bad.code, 0, 'cosign must reject the signature for different bytes');
  });

  test(`cosign verify-blob-attestation accepts our ${fixture} DSSE envelope`, async () => {
    const signer = await loadFileSigner(join(KEYS, fixture));
    const statement = {
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [
        { name: 'payload.json', digest: { sha256: createHash('sha256').update(readFileSync(BLOB)).digest('hex') } },
      ],
      predicate: { builder: { id: 'https://tekton.dev/chains/v2' } },
    };
    const signed = await signPayload(signer, { bytes: Buffer.from(JSON.stringify(statement)), kind: 'in-toto' });
    const envFile = join(work, `${fixture}.intoto.json`);
    writeFileSync(envFile, signed.signature);
    const args = [
      'verify-blob-attestation',
      '--key',
      join(KEYS, fixture, 'cosign.pub'),
      '--signature',
      envFile,
      '--type',
      'slsaprovenance',
      '--insecure-ignore-tlog',
      '--signature-digest-algorithm',
      digestAlgorithm,
    ];
    const ok = await cosign([...args, BLOB]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /Verified OK/);
    const wrongSubject = await cosign([...args, TAMPERED]);
    assert.notEqual(wrongSubject.code, 0, 'cosign must reject a blob that is not the subject');
  });
}

test('cosign’s default verification rejects SHA-384 signatures of a P-384 cosign.key (why the flag above is needed)', async () => {
  const signer = await loadFileSigner(join(KEYS, 'cosign-ecdsa-p384'));
  const sigFile = join(work, 'p384-default.sig');
  writeFileSync(sigFile, (await signer.sign(readFileSync(BLOB))).toString('base64'));
  const res = await cosign([
    'verify-blob',
    '--key',
    join(KEYS, 'cosign-ecdsa-p384', 'cosign.pub'),
    '--signature',
    sigFile,
    '--insecure-ignore-tlog',
    BLOB,
  ]);
  assert.notEqual(res.code, 0, res.out);
});

const GENERATED: Array<
  [string, () => ReturnType<typeof generateKeyPairSync>['privateKey'], Parameters<typeof encryptCosignKey>[2]]
> = [
  ['ECDSA P-256 (what the demo generates)', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, {}],
  [
    'ECDSA P-256, old label and N=32768',
    () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    { label: COSIGN_KEY_LABEL, params: { N: 32768, r: 8, p: 1 } },
  ],
  ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, {}],
];

for (const [label, make, opts] of GENERATED) {
  test(`cosign signs with a cosign.key we encrypted: ${label}`, async () => {
    const key = make();
    const dir = mkdtempSync(join(work, 'generated-'));
    const password = 'demo password with spaces';
    writeFileSync(join(dir, 'cosign.key'), await encryptCosignKey(key, password, opts));
    writeFileSync(join(dir, 'cosign.pub'), exportPublicKeyPem(key));
    // cosign derives the public key from the decrypted private key: equal PEMs prove it decrypted our file
    const pub = await cosign(['public-key', '--key', join(dir, 'cosign.key')], { COSIGN_PASSWORD: password });
    assert.equal(pub.code, 0, pub.out);
    assert.equal(pub.out.trim(), exportPublicKeyPem(key).trim());

    const sigFile = join(dir, 'blob.sig');
    const signed = await cosign(
      [
        'sign-blob',
        '--yes',
        '--tlog-upload=false',
        '--key',
        join(dir, 'cosign.key'),
        '--output-signature',
        sigFile,
        BLOB,
      ],
      { COSIGN_PASSWORD: password },
    );
    assert.equal(signed.code, 0, signed.out);
    const sig = Buffer.from(readFileSync(sigFile, 'utf8'), 'base64');
    const padding = key.asymmetricKeyType === 'rsa' ? { padding: constants.RSA_PKCS1_PADDING } : {};
    assert.equal(verify('sha256', readFileSync(BLOB), { key: createPublicKey(key), ...padding }, sig), true);

    const wrong = await cosign(['public-key', '--key', join(dir, 'cosign.key')], { COSIGN_PASSWORD: 'not it' });
    assert.notEqual(wrong.code, 0, 'cosign must refuse the wrong password');
  });
}
