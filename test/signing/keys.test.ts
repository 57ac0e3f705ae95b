import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFileSigner } from '../../src/signing/keys.js';
import { encryptCosignKey } from '../../src/signing/cosign-key.js';
import { ChainsmithError } from '../../src/errors.js';
import { fixtureDir, fixtureFile, fixturePublicKey } from './fixtures.js';

const DATA = Buffer.from('{"critical":{"identity":{"docker-reference":"example.test/app"}},"optional":null}');

/** How a verifier has to check each fixture's signatures (the algorithm cosign verifies with). */
const EXPECTED: Array<{ fixture: string; hash: string | null; description: RegExp; padding?: number }> = [
  { fixture: 'x509-ecdsa-p256', hash: 'sha256', description: /^x509\.pem \(ECDSA P-256 SHA-256, SHA256:/ },
  // Chains signs x509.pem with SHA-256 whatever the curve; `cosign verify --key` defaults to SHA-256 too.
  { fixture: 'x509-ecdsa-p384', hash: 'sha256', description: /^x509\.pem \(ECDSA P-384 SHA-256,/ },
  { fixture: 'x509-ecdsa-p521', hash: 'sha256', description: /^x509\.pem \(ECDSA P-521 SHA-256,/ },
  { fixture: 'x509-ed25519', hash: null, description: /^x509\.pem \(Ed25519,/ },
  {
    fixture: 'x509-rsa',
    hash: 'sha256',
    description: /^x509\.pem \(RSA-3072 PKCS#1 v1\.5 SHA-256,/,
    padding: constants.RSA_PKCS1_PADDING,
  },
  { fixture: 'cosign-ecdsa-p256', hash: 'sha256', description: /^cosign\.key \(ECDSA P-256 SHA-256,/ },
  { fixture: 'cosign-legacy-label', hash: 'sha256', description: /^cosign\.key \(ECDSA P-256 SHA-256,/ },
  // cosign.key follows cosign's per-curve default, as Chains does (cosign.LoadPrivateKey).
  { fixture: 'cosign-ecdsa-p384', hash: 'sha384', description: /^cosign\.key \(ECDSA P-384 SHA-384,/ },
  { fixture: 'cosign-ecdsa-p521', hash: 'sha512', description: /^cosign\.key \(ECDSA P-521 SHA-512,/ },
  { fixture: 'cosign-ed25519', hash: null, description: /^cosign\.key \(Ed25519,/ },
  {
    fixture: 'cosign-rsa',
    hash: 'sha256',
    description: /^cosign\.key \(RSA-3072 PKCS#1 v1\.5 SHA-256,/,
    padding: constants.RSA_PKCS1_PADDING,
  },
];

for (const e of EXPECTED) {
  test(`${e.fixture}: signatures verify with node:crypto against cosign.pub (${e.hash ?? 'pure EdDSA'})`, async () => {
    const signer = await loadFileSigner(fixtureDir(e.fixture));
    const sig = await signer.sign(DATA);
    const pub = fixturePublicKey(e.fixture);
    const key = e.padding !== undefined ? { key: pub, padding: e.padding } : { key: pub, dsaEncoding: 'der' as const };
    assert.equal(verify(e.hash, DATA, key, sig), true);
    assert.equal(
      verify(e.hash, Buffer.concat([DATA, Buffer.from(' ')]), key, sig),
      false,
      'signature is bound to the data',
    );
    assert.equal(
      signer.publicKey().export({ format: 'pem', type: 'spki' }),
      pub.export({ format: 'pem', type: 'spki' }),
    );
    assert.equal(signer.cert(), '');
    assert.equal(signer.chain(), '');
    assert.match(signer.description, e.description);
  });
}

test('ECDSA signatures are ASN.1 DER (what cosign verifies), not raw r||s', async () => {
  const signer = await loadFileSigner(fixtureDir('x509-ecdsa-p256'));
  const sig = await signer.sign(DATA);
  assert.equal(sig[0], 0x30, 'DER SEQUENCE');
  assert.equal(sig[1], sig.length - 2);
});

test('the x509.pem P-384 signer does not use SHA-384 (Chains compatibility)', async () => {
  const signer = await loadFileSigner(fixtureDir('x509-ecdsa-p384'));
  const sig = await signer.sign(DATA);
  assert.equal(verify('sha384', DATA, fixturePublicKey('x509-ecdsa-p384'), sig), false);
});

test('the description never contains key material or the password', async () => {
  for (const name of ['x509-rsa', 'cosign-ecdsa-p256']) {
    const signer = await loadFileSigner(fixtureDir(name));
    const secrets =
      name === 'x509-rsa'
        ? fixtureFile(name, 'x509.pem').toString().split('\n').slice(1, -2)
        : [
            fixtureFile(name, 'cosign.password').toString(),
            ...fixtureFile(name, 'cosign.key').toString().split('\n').slice(1, -2),
          ];
    for (const s of secrets) assert.ok(!signer.description.includes(s), `description leaks ${s.slice(0, 8)}…`);
  }
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'chainsmith-keys-'));
}

test('x509.pem wins over cosign.key when both exist', async () => {
  const dir = tempDir();
  copyFileSync(join(fixtureDir('x509-ecdsa-p384'), 'x509.pem'), join(dir, 'x509.pem'));
  for (const f of ['cosign.key', 'cosign.password'])
    copyFileSync(join(fixtureDir('cosign-ecdsa-p256'), f), join(dir, f));
  const signer = await loadFileSigner(dir);
  assert.match(signer.description, /^x509\.pem \(ECDSA P-384/);
});

test('an empty directory is KeyNotFound naming the files looked for', async () => {
  await assert.rejects(loadFileSigner(tempDir()), {
    reason: 'KeyNotFound',
    message: /no valid private key found in .*, looked for: \[x509\.pem, cosign\.key\]/,
  });
});

test('a missing secrets directory is KeyNotFound', async () => {
  await assert.rejects(loadFileSigner(join(tempDir(), 'absent')), { reason: 'KeyNotFound' });
});

test('cosign.key without cosign.password is KeyNotFound', async () => {
  const dir = tempDir();
  copyFileSync(join(fixtureDir('cosign-ecdsa-p256'), 'cosign.key'), join(dir, 'cosign.key'));
  await assert.rejects(loadFileSigner(dir), { reason: 'KeyNotFound', message: /cosign\.password is missing/ });
});

test('a wrong cosign.password is KeyDecryptFailed', async () => {
  const dir = tempDir();
  copyFileSync(join(fixtureDir('cosign-ecdsa-p256'), 'cosign.key'), join(dir, 'cosign.key'));
  writeFileSync(join(dir, 'cosign.password'), 'Tr0ub4dor&3');
  await assert.rejects(loadFileSigner(dir), (err: unknown) => {
    assert.ok(err instanceof ChainsmithError);
    assert.equal(err.reason, 'KeyDecryptFailed');
    assert.ok(!err.message.includes('Tr0ub4dor&3'));
    return true;
  });
});

function dirWithX509(pem: string | Buffer): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'x509.pem'), pem);
  return dir;
}

test('x509.pem also accepts SEC1 (`openssl ecparam -genkey`) and PKCS#1 keys', async () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const sec1 = await loadFileSigner(dirWithX509(ec.export({ format: 'pem', type: 'sec1' })));
  const sig = await sec1.sign(DATA);
  assert.equal(verify('sha256', DATA, createPublicKey(ec), sig), true);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const pkcs1 = await loadFileSigner(dirWithX509(rsa.export({ format: 'pem', type: 'pkcs1' })));
  assert.equal(verify('sha256', DATA, createPublicKey(rsa), await pkcs1.sign(DATA)), true);
});

test('keys cosign cannot verify are KeyUnsupported with the reason', async () => {
  const cases: Array<[KeyObject | string, RegExp]> = [
    [generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /RSA key of 1024 bits is too small/],
    [generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, /unsupported ECDSA curve secp256k1/],
    [generateKeyPairSync('ed448').privateKey, /unsupported key type ed448/],
  ];
  for (const [key, message] of cases) {
    const pem = typeof key === 'string' ? key : key.export({ format: 'pem', type: 'pkcs8' });
    await assert.rejects(loadFileSigner(dirWithX509(pem)), { reason: 'KeyUnsupported', message });
  }
});

test('an encrypted or non-key x509.pem is KeyUnsupported', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const encrypted = key.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' });
  await assert.rejects(loadFileSigner(dirWithX509(encrypted)), { reason: 'KeyUnsupported', message: /encrypted/ });
  await assert.rejects(loadFileSigner(dirWithX509(fixtureFile('x509-rsa', 'cosign.pub'))), {
    reason: 'KeyUnsupported',
    message: /found "PUBLIC KEY"/,
  });
  await assert.rejects(loadFileSigner(dirWithX509('garbage')), { reason: 'KeyUnsupported', message: /no PEM block/ });
});

test('a cosign.key written by encryptCosignKey loads like a cosign-written one', async () => {
  const dir = tempDir();
  const key = generateKeyPairSync('ed25519').privateKey;
  writeFileSync(join(dir, 'cosign.key'), await encryptCosignKey(key, 'demo password'));
  writeFileSync(join(dir, 'cosign.password'), 'demo password');
  const signer = await loadFileSigner(dir);
  assert.equal(verify(null, DATA, createPublicKey(key), await signer.sign(DATA)), true);
});
