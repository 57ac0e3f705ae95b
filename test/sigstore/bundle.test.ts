import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dsseBundle, messageSignatureBundle, referrerManifest } from '../../src/sigstore/bundle.js';

const envelope = Buffer.from(
  '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"SHA256:abc","sig":"MEUCIQ=="}]}',
);

test('a DSSE bundle (v0.3): public-key hint, no tlog entries, envelope signatures without keyid', () => {
  const b = JSON.parse(dsseBundle(envelope, '').toString());
  assert.deepEqual(b, {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'SHA256:abc' }, tlogEntries: [] },
    dsseEnvelope: { payload: 'e30=', payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'MEUCIQ==' }] },
  });
});

test('a simple-signing bundle carries a message signature over the payload digest', () => {
  const payload = Buffer.from('{"critical":{}}');
  const hex = createHash('sha256').update(payload).digest('hex');
  const b = JSON.parse(messageSignatureBundle(payload, hex, Buffer.from([1, 2, 3]), '').toString());
  assert.deepEqual(b.messageSignature, {
    messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(hex, 'hex').toString('base64') },
    signature: 'AQID',
  });
});

test('the referrer manifest: artifactType, empty config, one bundle layer, subject and annotations (§4.3)', () => {
  const bundle = dsseBundle(envelope, '');
  const subject = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100,
    digest: `sha256:${'a'.repeat(64)}`,
  };
  const { manifest, config, layer } = referrerManifest(
    bundle,
    subject,
    'https://slsa.dev/provenance/v0.2',
    'dsse-envelope',
    new Date('2026-01-02T03:04:05.678Z'),
  );
  assert.equal(config.toString(), '{}');
  const m = JSON.parse(manifest.toString());
  assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(m.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(m.config, {
    mediaType: 'application/vnd.oci.empty.v1+json',
    size: 2,
    digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  });
  assert.deepEqual(m.layers, [
    { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', size: bundle.length, digest: layer.digest },
  ]);
  assert.deepEqual(m.subject, subject);
  assert.deepEqual(m.annotations, {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v0.2',
    'org.opencontainers.image.created': '2026-01-02T03:04:05Z',
  });
});
