// Key and certificate policy of `verify` and `verify-run`: weak RSA keys, curves cosign does not use, and
// certificates outside their validity are refused with one line naming the file and the rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { ChainsmithError } from '../../src/errors.js';
import { keyPolicyProblem, parseVerificationKey, readPublicKeyFile } from '../../src/verify/key.js';

const dir = mkdtempSync(join(tmpdir(), 'chainsmith-key-'));
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
const rsa = (modulusLength: number) => generateKeyPairSync('rsa', { modulusLength }).publicKey;
const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).publicKey;

/** A self-signed RSA-2048 certificate valid from `from` to `to`. */
function certificate(from: Date, to: Date): string {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = from;
  cert.validity.notAfter = to;
  const attrs = [{ name: 'commonName', value: 'chainsmith test signer' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const DAY = 86_400_000;
const now = new Date();

test('RSA keys under 2048 bits are refused; 2048 and more are accepted', () => {
  assert.equal(keyPolicyProblem(rsa(1024)), 'RSA key of 1024 bits is too small (minimum 2048)');
  assert.equal(keyPolicyProblem(rsa(2048)), undefined);
});

test('only P-256, P-384, P-521 and Ed25519 are accepted among curve keys', () => {
  for (const curve of ['prime256v1', 'secp384r1', 'secp521r1'])
    assert.equal(keyPolicyProblem(ec(curve)), undefined, curve);
  assert.match(
    keyPolicyProblem(ec('secp256k1'))!,
    /^ECDSA curve secp256k1 is not allowed \(allowed: P-256, P-384, P-521\)$/,
  );
  assert.match(keyPolicyProblem(ec('prime192v1'))!, /curve prime192v1 is not allowed/);
  assert.equal(keyPolicyProblem(generateKeyPairSync('ed25519').publicKey), undefined);
  assert.match(keyPolicyProblem(generateKeyPairSync('ed448').publicKey)!, /^ed448 keys are not allowed/);
  assert.match(
    keyPolicyProblem(generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey)!,
    /^dsa keys are not allowed/,
  );
});

test('a certificate is accepted only inside its validity period', () => {
  assert.ok(
    parseVerificationKey(certificate(new Date(now.getTime() - DAY), new Date(now.getTime() + DAY))).certificate,
  );
  assert.throws(
    () => parseVerificationKey(certificate(new Date(now.getTime() - 10 * DAY), new Date(now.getTime() - DAY))),
    (e: unknown) =>
      e instanceof ChainsmithError && e.reason === 'KeyUnsupported' && /^certificate expired at \d{4}-/.test(e.message),
  );
  assert.throws(
    () => parseVerificationKey(certificate(new Date(now.getTime() + DAY), new Date(now.getTime() + 10 * DAY))),
    /^ChainsmithError: certificate is not valid before \d{4}-/,
  );
});

test('a weak key in a file is refused naming the file and the rule', async () => {
  const weak = join(dir, 'weak.pub');
  writeFileSync(weak, pem(rsa(1024)));
  await assert.rejects(readPublicKeyFile(weak), {
    message: `${weak}: RSA key of 1024 bits is too small (minimum 2048)`,
  });
  const fifoLike = join(dir);
  await assert.rejects(readPublicKeyFile(fifoLike), /public key: cannot read .*: it is a directory/);
});
