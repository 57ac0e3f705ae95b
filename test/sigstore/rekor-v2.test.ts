// Rekor v2 entry requests (src/sigstore/rekor-v2.ts): the verifier's key details for each key chainsmith signs with,
// the digest a hashedrekord v0.0.2 request carries for it, and what cannot be recorded. The answers of a real
// rekor-tiles are checked in e2e/rekor-v2.e2e.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { CreateEntryRequest } from '@sigstore/protobuf-specs/rekor/v2';
import { ChainsmithError } from '../../src/errors.js';
import { dsseRequest, hashedRekordRequest, parseV2Entry } from '../../src/sigstore/rekor-v2.js';

const PAYLOAD = Buffer.from('{"critical":{}}');
const SIG = Buffer.from([1, 2, 3]);

test('a hashedrekord v0.0.2 request names the key by its details and carries the digest that key signs', () => {
  const cases = [
    [generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'PKIX_ECDSA_P256_SHA_256', 'sha256'],
    [generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 'PKIX_ECDSA_P384_SHA_384', 'sha384'],
    [generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey, 'PKIX_ECDSA_P521_SHA_512', 'sha512'],
    [generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'PKIX_RSA_PKCS1V15_2048_SHA256', 'sha256'],
  ] as const;
  for (const [publicKey, details, hash] of cases) {
    const json = CreateEntryRequest.toJSON(hashedRekordRequest(PAYLOAD, SIG, { publicKey })) as {
      hashedRekordRequestV002: {
        digest: string;
        signature: { content: string; verifier: { keyDetails: string; publicKey: { rawBytes: string } } };
      };
    };
    const req = json.hashedRekordRequestV002;
    assert.equal(req.digest, createHash(hash).update(PAYLOAD).digest('base64'), details);
    assert.equal(req.signature.content, SIG.toString('base64'));
    assert.equal(req.signature.verifier.keyDetails, details);
    assert.equal(
      req.signature.verifier.publicKey.rawBytes,
      publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    );
  }
});

test('an attestation is recorded as sigstore-go records it: a hashedrekord of its signature over the PAE digest', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const envelope = Buffer.from(
    JSON.stringify({ payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [{ sig: 'AQID' }] }),
  );
  const json = CreateEntryRequest.toJSON(dsseRequest(envelope, { publicKey })) as {
    hashedRekordRequestV002: { digest: string; signature: { content: string; verifier: { keyDetails: string } } };
  };
  const pae = Buffer.from('DSSEv1 28 application/vnd.in-toto+json 2 {}');
  assert.equal(json.hashedRekordRequestV002.digest, createHash('sha384').update(pae).digest('base64'));
  assert.equal(json.hashedRekordRequestV002.signature.content, 'AQID');
  assert.equal(json.hashedRekordRequestV002.signature.verifier.keyDetails, 'PKIX_ECDSA_P384_SHA_384');
  const ed = generateKeyPairSync('ed25519').publicKey;
  for (const request of [
    () => hashedRekordRequest(PAYLOAD, SIG, { publicKey: ed }),
    () => dsseRequest(envelope, { publicKey: ed }),
  ])
    assert.throws(
      request,
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'TransparencyFailed' && /Ed25519/.test(e.message),
    );
});

test('an answer that is not a complete v2 entry is refused with the reason', () => {
  assert.equal(parseV2Entry(Buffer.from('nope')), 'not JSON');
  assert.equal(parseV2Entry(Buffer.from('{}')), 'no logId');
  assert.equal(
    parseV2Entry(
      Buffer.from(
        JSON.stringify({
          logIndex: '1',
          logId: { keyId: 'AQ==' },
          kindVersion: { kind: 'dsse', version: '0.0.2' },
          canonicalizedBody: 'e30=',
        }),
      ),
    ),
    'no inclusion proof with a checkpoint',
  );
});
