import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  COSIGN_KEY_LABEL,
  decryptCosignKey,
  encryptCosignKey,
  exportPublicKeyPem,
  SIGSTORE_KEY_LABEL,
} from '../../src/signing/cosign-key.js';
import { ChainsmithError } from '../../src/errors.js';
import { COSIGN_FIXTURES, fixtureFile } from './fixtures.js';

function spki(key: KeyObject): string {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' }).toString('hex');
}

for (const name of COSIGN_FIXTURES) {
  test(`decrypts the cosign-written key ${name} to the private half of its cosign.pub`, async () => {
    const key = await decryptCosignKey(fixtureFile(name, 'cosign.key'), fixtureFile(name, 'cosign.password'));
    assert.equal(key.type, 'private');
    assert.equal(spki(key), spki(createPublicKey(fixtureFile(name, 'cosign.pub'))));
  });
}

test('the fixtures cover both PEM labels', () => {
  assert.match(
    fixtureFile('cosign-ecdsa-p256', 'cosign.key').toString(),
    /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/,
  );
  assert.match(
    fixtureFile('cosign-legacy-label', 'cosign.key').toString(),
    /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----/,
  );
});

test('a wrong password fails with KeyDecryptFailed and the message never contains the password', async () => {
  const wrong = 'hunter2-not-the-password';
  await assert.rejects(decryptCosignKey(fixtureFile('cosign-ecdsa-p256', 'cosign.key'), wrong), (err: unknown) => {
    assert.ok(err instanceof ChainsmithError);
    assert.equal(err.reason, 'KeyDecryptFailed');
    assert.equal(err.message, 'cosign.key: wrong password or corrupt key');
    assert.ok(!err.message.includes(wrong));
    assert.ok(!String(err.stack).includes(wrong));
    return true;
  });
});

test('the password is used verbatim: without its trailing newline it is wrong', async () => {
  const password = fixtureFile('cosign-rsa', 'cosign.password');
  assert.equal(password.at(-1), 0x0a, 'fixture password ends with a newline');
  await assert.rejects(decryptCosignKey(fixtureFile('cosign-rsa', 'cosign.key'), password.subarray(0, -1)), {
    reason: 'KeyDecryptFailed',
  });
});

const KEY_TYPES: Array<[string, () => KeyObject]> = [
  ['ECDSA P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
  ['ECDSA P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
  ['Ed25519', () => generateKeyPairSync('ed25519').privateKey],
  ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
];

for (const [label, make] of KEY_TYPES) {
  test(`encrypt → decrypt round trip keeps the ${label} key`, async () => {
    const key = make();
    const pem = await encryptCosignKey(key, 'round trip');
    const back = await decryptCosignKey(pem, 'round trip');
    assert.equal(
      back.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
      key.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
    );
  });
}

test('encryptCosignKey writes the format cosign generate-key-pair writes', async () => {
  const pem = await encryptCosignKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'pw');
  const lines = pem.trimEnd().split('\n');
  assert.equal(lines[0], `-----BEGIN ${SIGSTORE_KEY_LABEL}-----`);
  assert.equal(lines.at(-1), `-----END ${SIGSTORE_KEY_LABEL}-----`);
  const body = lines.slice(1, -1);
  assert.ok(
    body.slice(0, -1).every((l) => l.length === 64),
    'body wrapped at 64 columns',
  );
  const doc = JSON.parse(Buffer.from(body.join(''), 'base64').toString()) as {
    kdf: { name: string; params: Record<string, number>; salt: string };
    cipher: { name: string; nonce: string };
    ciphertext: string;
  };
  assert.deepEqual(Object.keys(doc), ['kdf', 'cipher', 'ciphertext']);
  assert.equal(doc.kdf.name, 'scrypt');
  assert.deepEqual(doc.kdf.params, { N: 65536, r: 8, p: 1 });
  assert.equal(Buffer.from(doc.kdf.salt, 'base64').length, 32);
  assert.equal(doc.cipher.name, 'nacl/secretbox');
  assert.equal(Buffer.from(doc.cipher.nonce, 'base64').length, 24);
  // PKCS#8 of a P-256 key is 138 bytes; the secretbox adds a 16-byte tag in front.
  assert.equal(Buffer.from(doc.ciphertext, 'base64').length, 138 + 16);
});

test('an empty password is a valid password, as in cosign', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const pem = await encryptCosignKey(key, '');
  assert.equal(spki(await decryptCosignKey(pem, Buffer.alloc(0))), spki(key));
  await assert.rejects(decryptCosignKey(pem, ' '), { reason: 'KeyDecryptFailed' });
});

test('two encryptions of one key use fresh salt and nonce', async () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  assert.notEqual(await encryptCosignKey(key, 'pw'), await encryptCosignKey(key, 'pw'));
});

test('older scrypt parameters (N=32768) decrypt despite Node’s default scrypt memory limit', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const pem = await encryptCosignKey(key, 'old', { params: { N: 32768, r: 8, p: 1 }, label: COSIGN_KEY_LABEL });
  assert.equal(spki(await decryptCosignKey(pem, 'old')), spki(key));
});

test('scrypt parameters cosign refuses are refused before any work', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const pem = await encryptCosignKey(key, 'pw', { params: { N: 16384, r: 8, p: 1 } });
  await assert.rejects(decryptCosignKey(pem, 'pw'), {
    reason: 'KeyUnsupported',
    message: 'cosign.key: unsupported scrypt parameters N=16384 r=8 p=1',
  });
});

test('a PEM with another label is rejected, naming the label', async () => {
  const pem = fixtureFile('cosign-ecdsa-p256', 'cosign.key')
    .toString()
    .replaceAll('ENCRYPTED SIGSTORE PRIVATE KEY', 'PRIVATE KEY');
  await assert.rejects(decryptCosignKey(pem, 'x'), {
    reason: 'KeyUnsupported',
    message: /unsupported PEM type "PRIVATE KEY"/,
  });
});

test('a body that is not cosign JSON is reported as a corrupt key', async () => {
  const pem = `-----BEGIN ${SIGSTORE_KEY_LABEL}-----\n${Buffer.from('not json').toString('base64')}\n-----END ${SIGSTORE_KEY_LABEL}-----\n`;
  await assert.rejects(decryptCosignKey(pem, 'x'), { reason: 'KeyDecryptFailed', message: /corrupt key/ });
  await assert.rejects(decryptCosignKey('no pem here', 'x'), { reason: 'KeyDecryptFailed', message: /no PEM block/ });
});

test('exportPublicKeyPem gives the same PUBLIC KEY PEM cosign wrote to cosign.pub', async () => {
  const key = await decryptCosignKey(
    fixtureFile('cosign-ecdsa-p256', 'cosign.key'),
    fixtureFile('cosign-ecdsa-p256', 'cosign.password'),
  );
  assert.equal(exportPublicKeyPem(key).trim(), fixtureFile('cosign-ecdsa-p256', 'cosign.pub').toString().trim());
});
