import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import { pae, verifyEnvelope } from '../../src/sigstore/dsse.js';
import { loadFileSigner } from '../../src/signing/keys.js';
import type { Signer } from '../../src/signing/signer.js';
import { fixtureDir, fixturePublicKey } from '../signing/fixtures.js';

const STATEMENT = Buffer.from(
  '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}',
);
const SIMPLESIGNING = Buffer.from(
  '{"critical":{"identity":{"docker-reference":"example.test/app"},"image":{"docker-manifest-digest":"sha256:' +
    'a'.repeat(64) +
    '"},"type":"cosign container image signature"},"optional":null}',
);

test('in-toto payloads: storage gets the statement bytes and the DSSE envelope as signature', async () => {
  const signer = await loadFileSigner(fixtureDir('cosign-ecdsa-p256'));
  const signed = await signPayload(signer, {
    bytes: STATEMENT,
    kind: 'in-toto',
    predicateType: 'https://slsa.dev/provenance/v0.2',
  });
  assert.equal(signed.payload, STATEMENT);
  const result = verifyEnvelope(signed.signature, fixturePublicKey('cosign-ecdsa-p256'));
  assert.equal(result.ok, true);
  assert.ok(result.ok && result.payload.equals(STATEMENT));
  assert.equal(signed.cert, '');
  assert.equal(signed.chain, '');
});

test('simplesigning payloads: the raw signature over the JSON bytes, no envelope', async () => {
  const signer = await loadFileSigner(fixtureDir('x509-ecdsa-p256'));
  const signed = await signPayload(signer, { bytes: SIMPLESIGNING, kind: 'simplesigning' });
  assert.equal(signed.payload, SIMPLESIGNING);
  assert.equal(verify('sha256', SIMPLESIGNING, fixturePublicKey('x509-ecdsa-p256'), signed.signature), true);
  assert.notEqual(signed.signature[0], '{'.charCodeAt(0));
});

test('cert and chain of a certificate-bearing signer are passed to storage', async () => {
  const base = await loadFileSigner(fixtureDir('x509-ecdsa-p256'));
  const withCert: Signer = {
    sign: (d) => base.sign(d),
    publicKey: () => base.publicKey(),
    cert: () => '-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n',
    chain: () => '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n',
    description: 'test signer with certificate',
  };
  const signed = await signPayload(withCert, { bytes: STATEMENT, kind: 'in-toto' });
  assert.match(signed.cert, /leaf/);
  assert.match(signed.chain, /ca/);
  // the signature still covers PAE, whatever the signer
  const env = JSON.parse(signed.signature.toString()) as { signatures: Array<{ sig: string }> };
  assert.equal(
    verify(
      'sha256',
      pae('application/vnd.in-toto+json', STATEMENT),
      base.publicKey(),
      Buffer.from(env.signatures[0]!.sig, 'base64'),
    ),
    true,
  );
});
