import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  attestationLayer,
  cosignConfig,
  cosignImage,
  envelopeIdentity,
  hasLayer,
  sameAttestation,
  signatureLayer,
} from '../../src/sigstore/cosign-layout.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const PAYLOAD = Buffer.from(
  `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/demo/app"},"image":{"docker-manifest-digest":"sha256:${'b'.repeat(64)}"},"type":"cosign container image signature"},"optional":null}`,
);

test('the config blob is the go-containerregistry ConfigFile cosign writes (233 bytes for one layer, cosign-format.md §1.3)', () => {
  const layer = signatureLayer(PAYLOAD, Buffer.from('sig'));
  const config = cosignConfig([layer.descriptor]);
  assert.equal(
    config.toString(),
    `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${sha(PAYLOAD)}"]},"config":{}}`,
  );
  assert.equal(config.length, 233);
});

test('a .sig manifest: OCI types, simplesigning layer, base64 signature annotation, no cert keys without a cert', () => {
  const signature = Buffer.from('3045022100deadbeef', 'hex');
  const layer = signatureLayer(PAYLOAD, signature);
  const { manifest, config } = cosignImage([layer.descriptor]);
  assert.equal(
    manifest.toString(),
    `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
      `"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":${config.length},"digest":"${sha(config)}"},` +
      `"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":${PAYLOAD.length},"digest":"${sha(PAYLOAD)}",` +
      `"annotations":{"dev.cosignproject.cosign/signature":"${signature.toString('base64')}"}}]}`,
  );
});

test('certificate and chain annotations come together when there is a certificate', () => {
  const layer = signatureLayer(PAYLOAD, Buffer.from('s'), 'CERT-PEM', '');
  assert.deepEqual(Object.keys(layer.descriptor.annotations ?? {}), [
    'dev.cosignproject.cosign/signature',
    'dev.sigstore.cosign/certificate',
    'dev.sigstore.cosign/chain',
  ]);
  assert.equal(layer.descriptor.annotations?.['dev.sigstore.cosign/chain'], '');
});

test('an .att layer: DSSE media type, empty signature annotation, predicateType, sorted keys in the manifest', () => {
  const envelope = Buffer.from(
    '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"SHA256:k","sig":"MEU="}]}',
  );
  const layer = attestationLayer(envelope, 'https://slsa.dev/provenance/v0.2', 'C', 'CH');
  const { manifest } = cosignImage([layer.descriptor]);
  const json = manifest.toString();
  assert.ok(
    json.includes(
      `{"mediaType":"application/vnd.dsse.envelope.v1+json","size":${envelope.length},"digest":"${sha(envelope)}","annotations":{"dev.cosignproject.cosign/signature":"","dev.sigstore.cosign/certificate":"C","dev.sigstore.cosign/chain":"CH","predicateType":"https://slsa.dev/provenance/v0.2"}}`,
    ),
    json,
  );
});

test('history and diff_ids grow with each appended layer', () => {
  const a = signatureLayer(PAYLOAD, Buffer.from('1'));
  const b = signatureLayer(Buffer.from('{}'), Buffer.from('2'));
  const config = JSON.parse(cosignConfig([a.descriptor, b.descriptor]).toString());
  assert.equal(config.history.length, 2);
  assert.deepEqual(config.rootfs.diff_ids, [a.descriptor.digest, b.descriptor.digest]);
});

function envelope(statement: string, keyid: string, sig: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(statement).toString('base64'),
      signatures: [{ keyid, sig }],
    }),
  );
}

test('a re-signed attestation of the same statement by the same key is the same attestation', () => {
  const first = envelopeIdentity(envelope('{"a":1}', 'SHA256:key', 'sig-one'))!;
  const retry = envelopeIdentity(envelope('{"a":1}', 'SHA256:key', 'sig-two'))!;
  const otherKey = envelopeIdentity(envelope('{"a":1}', 'SHA256:other', 'sig-three'))!;
  const otherStatement = envelopeIdentity(envelope('{"a":2}', 'SHA256:key', 'sig-four'))!;
  const noKeyid = envelopeIdentity(envelope('{"a":1}', '', 'sig-five'))!;
  assert.equal(first.payloadDigest, sha('{"a":1}'));
  assert.equal(sameAttestation(first, retry), true);
  assert.equal(sameAttestation(first, otherKey), false);
  assert.equal(sameAttestation(first, otherStatement), false);
  assert.equal(sameAttestation(first, noKeyid), false);
  assert.equal(envelopeIdentity(Buffer.from('not json')), undefined);
});

test('layer dedupe compares digest and media type', () => {
  const a = signatureLayer(PAYLOAD, Buffer.from('1'));
  const sameBlobOtherSig = signatureLayer(PAYLOAD, Buffer.from('2'));
  assert.equal(hasLayer([a.descriptor], sameBlobOtherSig.descriptor), true);
  assert.equal(hasLayer([a.descriptor], attestationLayer(PAYLOAD, undefined).descriptor), false);
});

test('timestamps: a .sig layer carries the one over its signature, an .att layer the one over its whole envelope', () => {
  const entry = {
    uuid: 'u',
    logIndex: 1,
    logID: 'l',
    integratedTime: 0,
    body: '',
    kind: 'hashedrekord',
    apiVersion: '0.0.2',
    majorApiVersion: 2 as const,
    rfc3161Timestamps: [Buffer.from('over the signature')],
    envelopeTimestamp: Buffer.from('over the envelope'),
  };
  const annotation = (l: { descriptor: { annotations?: Record<string, string> } }) =>
    l.descriptor.annotations?.['dev.sigstore.cosign/rfc3161timestamp'];
  const stamp = (s: string) => JSON.stringify({ SignedRFC3161Timestamp: Buffer.from(s).toString('base64') });
  assert.equal(annotation(signatureLayer(PAYLOAD, Buffer.from('sig'), '', '', entry)), stamp('over the signature'));
  const envelope = Buffer.from('{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[]}');
  assert.equal(annotation(attestationLayer(envelope, 'p', '', '', entry)), stamp('over the envelope'));
  // without the envelope's own timestamp cosign could not verify the signature's one: none rather than a wrong one
  const { envelopeTimestamp: _, ...withoutEnvelope } = entry;
  assert.equal(annotation(attestationLayer(envelope, 'p', '', '', withoutEnvelope)), undefined);
  // a Rekor v2 entry has no SET: no cosign bundle annotation
  assert.equal(
    signatureLayer(PAYLOAD, Buffer.from('sig'), '', '', entry).descriptor.annotations?.['dev.sigstore.cosign/bundle'],
    undefined,
  );
});
