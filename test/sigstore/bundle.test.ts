import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { bundleFromJSON, bundleToJSON, isBundleWithDsseEnvelope } from '@sigstore/bundle';
import { dsseBundle, messageSignatureBundle, parseBundle, referrerManifest } from '../../src/sigstore/bundle.js';

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

// A self-signed Ed25519 certificate (openssl req -x509 -newkey ed25519), only its DER bytes matter here.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBWTCCAQugAwIBAgIUJnlIpHJumQjKShNSd6pSkY38Fa0wBQYDK2VwMCExHzAd
BgNVBAMMFmNoYWluc21pdGggYnVuZGxlIHRlc3QwIBcNMjYxMjAzMTYxODQwWhgP
MjEyNjExMDkxNjE4NDBaMCExHzAdBgNVBAMMFmNoYWluc21pdGggYnVuZGxlIHRl
c3QwKjAFBgMrZXADIQDnL1086FeSOpigX1NAyvIVOCCT+F1J5LqvKnwgFCaFmqNT
MFEwHQYDVR0OBBYEFNGNVBL9ys2Njp9jCseUdtSrXU2yMB8GA1UdIwQYMBaAFNGN
VBL9ys2Njp9jCseUdtSrXU2yMA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EAOOF9
apTAO3piQ0tD0o8RH/doi2EWKCH+mScxIw1s/NLqsOgiiwgfvSHJen/i9qxHiVKm
0X7HrtGHcrxEajuiCQ==
-----END CERTIFICATE-----
`;
const CERT_DER = new X509Certificate(CERT).raw.toString('base64');
const DIGEST_HEX = 'ab'.repeat(32);
const V03 = '"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"';
const DSSE =
  '"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"MEUCIQ=="}]}';
const MESSAGE =
  '"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="},' +
  '"signature":"AQID"}';

// The exact bytes: member order, `tlogEntries: []`, no keyid on the envelope signature, no timestampVerificationData
// (what `bundleToJSON` would add). A referrer's digest is over these bytes, so they must not drift.
test('bundle bytes are pinned: DSSE and message signature, with a key hint, no hint, or a certificate', () => {
  const noKeyid = Buffer.from(envelope.toString().replace('"keyid":"SHA256:abc"', '"keyid":""'));
  const payload = Buffer.from('x');
  const cases: Array<[Buffer, string]> = [
    [
      dsseBundle(envelope, ''),
      `{${V03},"verificationMaterial":{"publicKey":{"hint":"SHA256:abc"},"tlogEntries":[]},${DSSE}}`,
    ],
    [dsseBundle(noKeyid, ''), `{${V03},"verificationMaterial":{"publicKey":{},"tlogEntries":[]},${DSSE}}`],
    [
      dsseBundle(envelope, CERT + CERT),
      `{${V03},"verificationMaterial":{"certificate":{"rawBytes":"${CERT_DER}"},"tlogEntries":[]},${DSSE}}`,
    ],
    [
      messageSignatureBundle(payload, DIGEST_HEX, Buffer.from([1, 2, 3]), ''),
      `{${V03},"verificationMaterial":{"publicKey":{},"tlogEntries":[]},${MESSAGE}}`,
    ],
    [
      messageSignatureBundle(payload, DIGEST_HEX, Buffer.from([1, 2, 3]), CERT),
      `{${V03},"verificationMaterial":{"certificate":{"rawBytes":"${CERT_DER}"},"tlogEntries":[]},${MESSAGE}}`,
    ],
  ];
  for (const [bytes, expected] of cases) assert.equal(bytes.toString(), expected);
});

test('what we write is a valid bundle to @sigstore/bundle, with the same content as the library would write', () => {
  for (const bytes of [
    dsseBundle(envelope, ''),
    dsseBundle(envelope, CERT),
    messageSignatureBundle(Buffer.from('x'), DIGEST_HEX, Buffer.from([1, 2, 3]), CERT),
  ]) {
    const parsed = parseBundle(bytes);
    assert.ok(typeof parsed !== 'string', String(parsed));
    const ours = JSON.parse(bytes.toString()) as Record<string, unknown>;
    const library = bundleToJSON(bundleFromJSON(ours)) as unknown as Record<string, unknown>;
    // the library's JSON leaves out the empty tlogEntries list; everything else is the same
    assert.deepEqual(
      { ...library, verificationMaterial: { ...(library.verificationMaterial as object), tlogEntries: [] } },
      ours,
    );
  }
});

test('parseBundle refuses what @sigstore/bundle refuses, in one line', () => {
  const good = JSON.parse(dsseBundle(envelope, '').toString()) as {
    dsseEnvelope: { signatures: unknown[] };
    verificationMaterial?: unknown;
  };
  assert.ok(isBundleWithDsseEnvelope(parseBundle(dsseBundle(envelope, '')) as never));
  const twoSignatures = structuredClone(good);
  twoSignatures.dsseEnvelope.signatures.push({ sig: 'MEUCIQ==' });
  const noMaterial = structuredClone(good);
  delete noMaterial.verificationMaterial;
  const cases: Array<[string, RegExp]> = [
    ['not json', /^not a sigstore bundle: not JSON$/],
    ['null', /^not a sigstore bundle: /],
    ['{}', /^not a valid sigstore bundle \(invalid: mediaType, content, verificationMaterial\)$/],
    [JSON.stringify(twoSignatures), /invalid: content\.dsseEnvelope\.signatures\)/],
    [JSON.stringify(noMaterial), /invalid: verificationMaterial\)/],
  ];
  for (const [text, why] of cases) {
    const r = parseBundle(Buffer.from(text));
    assert.equal(typeof r, 'string', text);
    assert.match(r as string, why);
  }
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
