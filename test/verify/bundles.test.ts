// The check of one sigstore bundle read from a referrer (src/verify/bundles.ts), against bundles written by our own
// storage code (src/sigstore/bundle.ts) with the fixture keys: DSSE bundles are attestations, message-signature
// bundles image signatures, and what @sigstore/bundle refuses is a failed item with the library's reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { cosignSignStatement } from '../../src/formats/cosign-sign.js';
import { simpleSigningJson } from '../../src/formats/simplesigning.js';
import { loadFileSigner } from '../../src/signing/keys.js';
import { dsseBundle, messageSignatureBundle } from '../../src/sigstore/bundle.js';
import { createEnvelope } from '../../src/sigstore/dsse.js';
import { checkBundle } from '../../src/verify/bundles.js';
import { fixtureDir, fixturePublicKey } from '../signing/fixtures.js';

const IMAGE = { repository: '127.0.0.1:5000/demo/app', digest: `sha256:${'ab'.repeat(32)}` };
const EXPECT = { predicateType: 'https://slsa.dev/provenance/v0.2' };

function statement(digestHex = IMAGE.digest.slice(7)): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [{ name: IMAGE.repository, digest: { sha256: digestHex } }],
      predicate: { builder: { id: 'https://tekton.dev/chains/v2' } },
    }),
  );
}

async function attestationBundle(fixture: string, cert = '', digestHex?: string): Promise<Buffer> {
  const signer = await loadFileSigner(fixtureDir(fixture));
  return dsseBundle(await createEnvelope(signer, statement(digestHex)), cert);
}

async function signatureBundle(fixture: string, image = IMAGE): Promise<Buffer> {
  const signer = await loadFileSigner(fixtureDir(fixture));
  const payload = Buffer.from(simpleSigningJson(image.repository, image.digest));
  const hex = createHash('sha256').update(payload).digest('hex');
  return messageSignatureBundle(payload, hex, await signer.sign(payload), '');
}

// cosign.key P-384/P-521 keys sign with SHA-384/SHA-512: the reason @sigstore/verify's Verifier (SHA-256 for every
// EC curve) does not do the signature check.
for (const fixture of ['cosign-ecdsa-p256', 'cosign-ecdsa-p384', 'cosign-ecdsa-p521', 'cosign-ed25519', 'cosign-rsa']) {
  test(`bundles signed with ${fixture} verify with its key and not with another`, async () => {
    const att = checkBundle('r1', await attestationBundle(fixture), fixturePublicKey(fixture), IMAGE, EXPECT);
    assert.equal(att.kind, 'attestation');
    assert.equal(att.verdict.authentic, true, JSON.stringify(att.verdict.checks));
    assert.equal(att.verdict.predicateType, 'https://slsa.dev/provenance/v0.2');
    const sig = checkBundle('r2', await signatureBundle(fixture), fixturePublicKey(fixture), IMAGE, {});
    assert.equal(sig.kind, 'signature');
    assert.equal(sig.verdict.authentic, true, JSON.stringify(sig.verdict.checks));

    const other = fixturePublicKey(fixture === 'cosign-ecdsa-p256' ? 'x509-ecdsa-p256' : 'cosign-ecdsa-p256');
    assert.equal(checkBundle('r1', await attestationBundle(fixture), other, IMAGE, EXPECT).verdict.authentic, false);
    assert.equal(checkBundle('r2', await signatureBundle(fixture), other, IMAGE, {}).verdict.authentic, false);
  });
}

test('a bundle carrying a certificate is checked with the given key, not trusted for its certificate', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  cert.setSubject([{ name: 'commonName', value: 'not the signer' }]);
  cert.setIssuer([{ name: 'commonName', value: 'not the signer' }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
  const bundle = await attestationBundle('cosign-ecdsa-p256', forge.pki.certificateToPem(cert));
  assert.match(bundle.toString(), /"certificate":\{"rawBytes":/);
  const ok = checkBundle('r', bundle, fixturePublicKey('cosign-ecdsa-p256'), IMAGE, EXPECT);
  assert.equal(ok.verdict.authentic, true, JSON.stringify(ok.verdict.checks));
  assert.equal(checkBundle('r', bundle, publicKey, IMAGE, EXPECT).verdict.authentic, false);
});

test('a bundle about another image is not authentic for this one', async () => {
  const key = fixturePublicKey('cosign-ecdsa-p256');
  const att = checkBundle('r', await attestationBundle('cosign-ecdsa-p256', '', 'cd'.repeat(32)), key, IMAGE, {});
  assert.equal(att.verdict.authentic, false);
  assert.match(JSON.stringify(att.verdict.checks), /no subject has the image digest/);
  const elsewhere = { ...IMAGE, digest: `sha256:${'cd'.repeat(32)}` };
  const sig = checkBundle('r', await signatureBundle('cosign-ecdsa-p256', elsewhere), key, IMAGE, {});
  assert.deepEqual(
    sig.verdict.checks.map((c) => [c.name, c.status]),
    [['digest', 'failed']],
  );
});

test('what @sigstore/bundle refuses is a failed bundle item with its reason, never an exception', async () => {
  const key = fixturePublicKey('cosign-ecdsa-p256');
  const good = JSON.parse((await attestationBundle('cosign-ecdsa-p256')).toString()) as {
    mediaType: string;
    dsseEnvelope: { signatures: Array<{ sig: string }> };
    verificationMaterial?: unknown;
  };
  const twoSignatures = structuredClone(good);
  twoSignatures.dsseEnvelope.signatures.push(twoSignatures.dsseEnvelope.signatures[0]!);
  const noMaterial = structuredClone(good);
  delete noMaterial.verificationMaterial;
  const badMediaType = { ...structuredClone(good), mediaType: 'application/json' };
  const cases: Array<[string, RegExp]> = [
    ['{', /^not a sigstore bundle: not JSON$/],
    ['[1,2]', /^not a valid sigstore bundle \(invalid: mediaType, content, verificationMaterial\)$/],
    ['{"dsseEnvelope":{"signatures":[null]}}', /^not a sigstore bundle: /],
    [JSON.stringify(twoSignatures), /invalid: content\.dsseEnvelope\.signatures\)$/],
    [JSON.stringify(noMaterial), /invalid: verificationMaterial\)$/],
    [JSON.stringify(badMediaType), /invalid: mediaType\)$/],
  ];
  for (const [text, why] of cases) {
    const { kind, verdict } = checkBundle('r', Buffer.from(text), key, IMAGE, {});
    assert.equal(kind, 'attestation', text);
    assert.equal(verdict.authentic, false, text);
    assert.equal(verdict.checks.length, 1, text);
    assert.equal(verdict.checks[0]!.name, 'bundle', text);
    assert.match(verdict.checks[0]!.detail, why, text);
  }
});

// The three image-signature bundles `verify` reads: chainsmith's and cosign v3's (a DSSE `cosign/sign/v1`
// statement, signed over PAE), Chains v0.29's (a DSSE envelope of the simple-signing payload whose signature is over
// the raw payload, chains-behaviour.md §4.3, built here from that description since no Chains with sigstore-bundle
// mode builds on this machine's Go) and the message-signature bundles chainsmith wrote before.
test('image signatures in every bundle shape are signatures of the image, and only of it', async () => {
  const signer = await loadFileSigner(fixtureDir('cosign-ecdsa-p256'));
  const key = fixturePublicKey('cosign-ecdsa-p256');
  const other = fixturePublicKey('x509-ecdsa-p256');
  const cosignSign = (digest: string) =>
    createEnvelope(signer, Buffer.from(cosignSignStatement(digest)), 'application/vnd.in-toto+json');
  const ours = dsseBundle(await cosignSign(IMAGE.digest), '');
  const payload = Buffer.from(simpleSigningJson(IMAGE.repository, IMAGE.digest));
  const chains = Buffer.from(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: {}, tlogEntries: [] },
      dsseEnvelope: {
        payload: payload.toString('base64'),
        payloadType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        signatures: [{ sig: (await signer.sign(payload)).toString('base64') }],
      },
    }),
  );
  for (const [name, bundle] of [
    ['cosign-sign', ours],
    ['Chains v0.29', chains],
    ['message signature', await signatureBundle('cosign-ecdsa-p256')],
  ] as const) {
    // expectations of attestations (predicate type, builder) do not apply to an image signature
    const good = checkBundle('r', bundle, key, IMAGE, { ...EXPECT, builderId: 'https://tekton.dev/chains/v2' });
    assert.equal(good.kind, 'signature', name);
    assert.equal(good.verdict.authentic, true, `${name}: ${JSON.stringify(good.verdict.checks)}`);
    assert.equal(checkBundle('r', bundle, other, IMAGE, {}).verdict.authentic, false, `${name}: another key`);
    const elsewhere = { ...IMAGE, digest: `sha256:${'cd'.repeat(32)}` };
    assert.equal(checkBundle('r', bundle, key, elsewhere, {}).verdict.authentic, false, `${name}: another image`);
  }
  // a cosign-sign statement about another digest, validly signed, is not a signature of this image
  const stray = checkBundle('r', dsseBundle(await cosignSign(`sha256:${'cd'.repeat(32)}`), ''), key, IMAGE, {});
  assert.equal(stray.kind, 'signature');
  assert.equal(stray.verdict.authentic, false);
  assert.match(JSON.stringify(stray.verdict.checks), /no subject has the image digest/);
});
