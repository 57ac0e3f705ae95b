// Keyless verification (`chainsmith verify --certificate-identity … --certificate-oidc-issuer …`): a signature counts
// only when its certificate chains to the Fulcio root, may sign code, names the expected identity and issuer, and
// was used inside its ten minutes — the time being the transparency log's integratedTime, trusted through its SET.
// The certificates, the log key and its SETs are all made here (fulcio-fixtures.ts, tlog-fixtures.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, sign, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import { simpleSigningJson } from '../../src/formats/simplesigning.js';
import { dsseBundle, messageSignatureBundle } from '../../src/sigstore/bundle.js';
import { cosignRekorBundle } from '../../src/sigstore/cosign-layout.js';
import { pae, IN_TOTO_PAYLOAD_TYPE } from '../../src/sigstore/dsse.js';
import type { TlogEntry } from '../../src/sigstore/rekor.js';
import { checkBundle } from '../../src/verify/bundles.js';
import {
  certificateIdentity,
  parseFulcioRoots,
  stringMatcher,
  type KeylessPolicy,
} from '../../src/verify/certificate.js';
import { checkAttestation, checkSimpleSigning, type LayerVerdict } from '../../src/verify/checks.js';
import { keylessVerdict, type KeylessItem } from '../../src/verify/keyless.js';
import { recordFromCosignBundle, type StoredBytes } from '../../src/verify/tlog.js';
import { IDENTITY, ISSUER, makeCert, testFulcio, type TestCert } from './fulcio-fixtures.js';
import { signCheckpoint, testLog, type TestLog } from './tlog-fixtures.js';
import { leafHash } from '../../src/verify/merkle.js';

const IMAGE = { repository: '127.0.0.1:5000/ci/app', digest: `sha256:${'cd'.repeat(32)}` };
const T0 = new Date('2026-11-02T08:00:00Z');
const MINUTE = 60_000;
const FULCIO = testFulcio(T0);
const LOG = testLog();
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

function policy(over: Partial<KeylessPolicy> = {}): KeylessPolicy {
  return {
    kind: 'keyless',
    roots: [FULCIO.root.cert],
    intermediates: [],
    rootsName: 'fulcio-root.pem',
    identity: stringMatcher(IDENTITY, false),
    issuer: stringMatcher(ISSUER, false),
    ...over,
  };
}

/** A Rekor entry for `body`, integrated at `at`, with its SET signed by `log`. */
function entry(body: object, at: Date, log: TestLog = LOG): TlogEntry {
  const bodyB64 = b64(json.canonicalize(body));
  const integratedTime = Math.floor(at.getTime() / 1000);
  const logIndex = 7;
  const logID = log.trusted.logID;
  const set = sign(
    'sha256',
    Buffer.from(json.canonicalize({ body: bodyB64, integratedTime, logID, logIndex })),
    log.priv,
  );
  const { kind, apiVersion } = body as { kind: string; apiVersion: string };
  const e = { uuid: 'ab', logIndex, logID, integratedTime, body: bodyB64, kind, apiVersion };
  // the entry as the only leaf of a one-leaf tree: bundles v0.3 require an inclusion proof
  const root = leafHash(Buffer.from(bodyB64, 'base64'));
  const inclusionProof = {
    logIndex: 0,
    treeSize: 1,
    rootHash: root.toString('hex'),
    hashes: [],
    checkpoint: signCheckpoint(log, 1, root),
  };
  return { ...e, signedEntryTimestamp: set.toString('base64'), inclusionProof };
}

/** A keyless `.sig` layer as cosign writes it: payload, signature, certificate, chain and Rekor bundle. */
interface SignedLayer {
  payload: Buffer;
  signature: Buffer;
  leaf: TestCert;
  chain: string;
  bundle: string | undefined;
}

function signedLayer(
  opts: { leaf?: TestCert; at?: Date; verifier?: string; chain?: string; log?: TestLog } = {},
): SignedLayer {
  const leaf = opts.leaf ?? FULCIO.leaf(T0);
  const payload = Buffer.from(simpleSigningJson(IMAGE.repository, IMAGE.digest));
  const signature = sign('sha256', payload, leaf.key);
  const body = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: sha256(payload) } },
      signature: { content: b64(signature), publicKey: { content: b64(opts.verifier ?? leaf.pem) } },
    },
  };
  const e = entry(body, opts.at ?? new Date(T0.getTime() + MINUTE), opts.log);
  const chain = opts.chain ?? FULCIO.intermediate.pem + FULCIO.root.pem;
  return { payload, signature, leaf, chain, bundle: cosignRekorBundle(e) };
}

function item(layer: SignedLayer, over: Partial<KeylessItem> = {}): KeylessItem {
  const stored: StoredBytes = { kind: 'signature', payload: layer.payload, signature: layer.signature };
  return {
    source: 'app:sha256-cd.sig layer 1',
    certificate: layer.leaf.pem,
    chain: layer.chain,
    stored,
    record: recordFromCosignBundle(layer.bundle),
    verify: (k: KeyObject) => checkSimpleSigning('layer', layer.payload, layer.signature, k, IMAGE),
    ...over,
  };
}

const check = (v: LayerVerdict, name: string) => v.checks.find((c) => c.name === name);

function assertFails(v: LayerVerdict, name: string, detail: RegExp): void {
  assert.equal(v.authentic, false, JSON.stringify(v.checks));
  const c = check(v, name);
  assert.equal(c?.status, 'failed', JSON.stringify(v.checks));
  assert.match(c!.detail, detail);
}

test('a keyless signature passes: log entry, certificate chain, identity, issuer, time, then the signature', () => {
  const v = keylessVerdict(item(signedLayer()), policy(), LOG.trusted);
  assert.equal(v.authentic, true, JSON.stringify(v.checks, null, 1));
  assert.deepEqual(
    v.checks.map((c) => [c.name, c.status]),
    [
      ['tlog', 'passed'],
      ['certificate', 'passed'],
      ['signature', 'passed'],
      ['digest', 'passed'],
      ['reference', 'passed'],
    ],
  );
  assert.match(check(v, 'certificate')!.detail, /issued by the Fulcio root CN=sigstore via 1 intermediate/);
  assert.match(check(v, 'certificate')!.detail, /signed at 2026-11-02T08:01:00Z, inside its validity/);
  assert.match(check(v, 'signature')!.detail, /certificate’s key/);
  assert.match(check(v, 'tlog')!.detail, /signed with this certificate/);
  assert.deepEqual(v.signer, { identity: IDENTITY, issuer: ISSUER });
});

test('another identity fails the certificate link, naming both', () => {
  const other = 'https://kubernetes.io/namespaces/ci/serviceaccounts/someone-else';
  const v = keylessVerdict(item(signedLayer()), policy({ identity: stringMatcher(other, false) }), LOG.trusted);
  assertFails(v, 'certificate', new RegExp(`^identity ${IDENTITY} does not match ${other}$`));
});

test('another issuer fails the certificate link, naming both', () => {
  const v = keylessVerdict(
    item(signedLayer()),
    policy({ issuer: stringMatcher('https://kubernetes.default.svc', false) }),
    LOG.trusted,
  );
  assertFails(
    v,
    'certificate',
    /^issuer https:\/\/127\.0\.0\.1:6443 does not match https:\/\/kubernetes\.default\.svc$/,
  );
});

test('identity and issuer regexps match anywhere in the value, as Go’s MatchString does', () => {
  const layer = signedLayer();
  const ok = (identity: string, issuer: string) =>
    keylessVerdict(
      item(layer),
      policy({ identity: stringMatcher(identity, true), issuer: stringMatcher(issuer, true) }),
      LOG.trusted,
    );
  assert.equal(
    ok('^https://kubernetes\\.io/namespaces/ci/serviceaccounts/', '^https://127\\.0\\.0\\.1:').authentic,
    true,
  );
  assert.equal(ok('serviceaccounts/builder', '6443').authentic, true, 'unanchored');
  assertFails(
    ok('^https://kubernetes\\.io/namespaces/prod/', '.*'),
    'certificate',
    /does not match a match of \/\^https/,
  );
  assertFails(ok('.*', '^https://accounts\\.google\\.com$'), 'certificate', /^issuer .* does not match a match of/);
  // an exact identity is not a pattern: dots are dots
  const dotted = IDENTITY.replace('kubernetes.io', 'kubernetesXio');
  const exact = keylessVerdict(item(layer), policy({ identity: stringMatcher(dotted, false) }), LOG.trusted);
  assert.equal(exact.authentic, false);
});

test('a certificate from another root fails "not issued by the Fulcio root", even one named like it', () => {
  const impostor = testFulcio(T0); // same names, other keys
  const elsewhere = testFulcio(T0, 'corporate-ca');
  for (const fulcio of [impostor, elsewhere]) {
    const leaf = fulcio.leaf(T0);
    const layer = signedLayer({ leaf, chain: fulcio.intermediate.pem + fulcio.root.pem });
    assertFails(keylessVerdict(item(layer), policy(), LOG.trusted), 'certificate', /^not issued by the Fulcio root/);
  }
  // the real leaf, checked against another root file
  const v = keylessVerdict(item(signedLayer()), policy({ roots: [elsewhere.root.cert] }), LOG.trusted);
  assertFails(v, 'certificate', /not issued by the Fulcio root: no chain from CN=sigstore-intermediate .*corporate-ca/);
});

test('the intermediate may come from the root file instead of the stored chain; a stored root is not trusted', () => {
  const layer = signedLayer({ chain: '' });
  assertFails(keylessVerdict(item(layer), policy(), LOG.trusted), 'certificate', /not issued by the Fulcio root/);
  const file = parseFulcioRoots(FULCIO.intermediate.pem + FULCIO.root.pem, 'chain.pem');
  assert.equal(file.roots.length, 1);
  assert.equal(file.intermediates.length, 1);
  assert.equal(keylessVerdict(item(layer), policy(file), LOG.trusted).authentic, true);
  assert.throws(() => parseFulcioRoots(FULCIO.intermediate.pem, 'x.pem'), /no self-signed root/);
});

test('a leaf without the code-signing extended key usage fails', () => {
  const leaf = FULCIO.leaf(T0, { eku: ['1.3.6.1.5.5.7.3.1'] });
  const v = keylessVerdict(item(signedLayer({ leaf })), policy(), LOG.trusted);
  assertFails(v, 'certificate', /no code-signing extended key usage \(1\.3\.6\.1\.5\.5\.7\.3\.1\)/);
});

test('signed (logged) after the ten minutes, or before them: outside its validity', () => {
  for (const at of [new Date(T0.getTime() + 11 * MINUTE), new Date(T0.getTime() - MINUTE)]) {
    const v = keylessVerdict(item(signedLayer({ at })), policy(), LOG.trusted);
    assertFails(
      v,
      'certificate',
      /^signed at 2026-11-02T0\d:\d\d:00Z outside its validity \(2026-11-02T08:00:00Z to 2026-11-02T08:10:00Z\)$/,
    );
  }
});

test('a tampered SET (or integratedTime) is no signing time: the tlog link fails and the time is unknown', () => {
  const layer = signedLayer();
  const doc = JSON.parse(layer.bundle!) as { SignedEntryTimestamp: string; Payload: { integratedTime: number } };
  const sig = Buffer.from(doc.SignedEntryTimestamp, 'base64');
  sig[sig.length - 1] ^= 1;
  const badSet = JSON.stringify({ ...doc, SignedEntryTimestamp: sig.toString('base64') });
  // moving the time back inside the validity of an expired certificate breaks the SET
  const late = signedLayer({ at: new Date(T0.getTime() + 30 * MINUTE) });
  const lateDoc = JSON.parse(late.bundle!) as typeof doc;
  const backdated = JSON.stringify({
    ...lateDoc,
    Payload: { ...lateDoc.Payload, integratedTime: lateDoc.Payload.integratedTime - 25 * 60 },
  });
  for (const [l, bundle] of [
    [layer, badSet],
    [late, backdated],
  ] as const) {
    const v = keylessVerdict(item(l, { record: recordFromCosignBundle(bundle) }), policy(), LOG.trusted);
    assertFails(v, 'tlog', /signed entry timestamp of log entry 7 does not verify with the Rekor key/);
    assertFails(v, 'certificate', /signing time is unknown: no verified transparency-log entry/);
    assert.equal(v.checks[0]!.name, 'tlog', 'the first broken link is the log');
  }
  // and an entry of another log
  const other = signedLayer({ log: testLog() });
  assertFails(keylessVerdict(item(other), policy(), LOG.trusted), 'tlog', /is from log .* not the log of the given/);
});

test('a log entry made with another certificate or key does not date this certificate', () => {
  const stranger = FULCIO.leaf(T0);
  const v = keylessVerdict(item(signedLayer({ verifier: stranger.pem })), policy(), LOG.trusted);
  assertFails(v, 'tlog', /was made with another certificate or key than the one stored with the signature/);
  // the certificate's bare public key is what some clients log: that is the same signer
  const layer = signedLayer();
  const keyPem = layer.leaf.cert.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const byKey = signedLayer({ leaf: layer.leaf, verifier: keyPem });
  assert.equal(keylessVerdict(item(byKey), policy(), LOG.trusted).authentic, true);
});

test('no certificate, or a signature by another key than the certificate’s, fails', () => {
  const layer = signedLayer();
  assertFails(
    keylessVerdict(item(layer, { certificate: undefined }), policy(), LOG.trusted),
    'certificate',
    /no certificate stored with the signature/,
  );
  const forged = sign('sha256', layer.payload, FULCIO.leaf(T0).key);
  const v = keylessVerdict(
    item(layer, { verify: (k) => checkSimpleSigning('layer', layer.payload, forged, k, IMAGE) }),
    policy(),
    LOG.trusted,
  );
  assertFails(v, 'signature', /does not verify with the certificate’s key/);
});

test('without the log (--insecure-ignore-tlog) the certificate is judged now: an expired one fails, saying why', () => {
  const layer = signedLayer();
  const v = keylessVerdict(item(layer), policy(), undefined, new Date(T0.getTime() + 60 * MINUTE));
  assertFails(
    v,
    'certificate',
    /^checked at \S+ \(now: no transparency-log time\) outside its validity .*drop --insecure-ignore-tlog$/,
  );
  assert.equal(check(v, 'tlog'), undefined);
  const fresh = keylessVerdict(item(layer), policy(), undefined, new Date(T0.getTime() + 5 * MINUTE));
  assert.equal(fresh.authentic, true, JSON.stringify(fresh.checks));
});

test('the legacy issuer extension alone is read, and the identity of a certificate is its SAN and issuer', () => {
  const leaf = FULCIO.leaf(T0, { issuerV2: undefined, issuerV1: 'https://legacy.example' });
  const id = certificateIdentity(leaf.cert);
  assert.deepEqual(id, { sans: [IDENTITY], issuers: ['https://legacy.example'], issuer: 'https://legacy.example' });
  const v = keylessVerdict(
    item(signedLayer({ leaf })),
    policy({ issuer: stringMatcher('https://legacy.example', false) }),
    LOG.trusted,
  );
  assert.equal(v.authentic, true, JSON.stringify(v.checks));
  const email = FULCIO.leaf(T0, { uri: undefined, email: 'builder@example.test' });
  assert.deepEqual(certificateIdentity(email.cert).sans, ['builder@example.test']);
  const none = FULCIO.leaf(T0, { issuerV2: undefined, issuerV1: undefined });
  const nv = keylessVerdict(item(signedLayer({ leaf: none })), policy(), LOG.trusted);
  assertFails(nv, 'certificate', /no Fulcio OIDC issuer extension/);
});

test('a CA certificate cannot sign, and an intermediate beyond the root’s path length does not chain', () => {
  const deep = makeCert({
    subject: 'too-deep',
    issuer: FULCIO.intermediate,
    notBefore: new Date(T0.getTime() - MINUTE),
    notAfter: new Date(T0.getTime() + 60 * MINUTE),
    ca: true,
  });
  const leaf = makeCert({
    subject: '',
    issuer: deep,
    notBefore: T0,
    notAfter: new Date(T0.getTime() + 10 * MINUTE),
    uri: IDENTITY,
    issuerV2: ISSUER,
  });
  const layer = signedLayer({ leaf, chain: deep.pem + FULCIO.intermediate.pem });
  assertFails(keylessVerdict(item(layer), policy(), LOG.trusted), 'certificate', /not issued by the Fulcio root/);
  const caLeaf = FULCIO.leaf(T0, { ca: true, eku: ['1.3.6.1.5.5.7.3.3'] });
  const ca = keylessVerdict(item(signedLayer({ leaf: caLeaf })), policy(), LOG.trusted);
  assertFails(ca, 'certificate', /the signing certificate is a CA certificate/);
});

test('sigstore bundles: the certificate of the verification material is checked the same way', () => {
  const leaf = FULCIO.leaf(T0);
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: IMAGE.repository, digest: { sha256: IMAGE.digest.slice(7) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    }),
  );
  const sig = sign('sha256', pae(IN_TOTO_PAYLOAD_TYPE, statement), leaf.key);
  const envelope = Buffer.from(
    JSON.stringify({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: b64(statement), signatures: [{ sig: b64(sig) }] }),
  );
  const body = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(statement) },
      signatures: [{ signature: b64(sig), verifier: b64(leaf.pem) }],
    },
  };
  const e = entry(body, new Date(T0.getTime() + 2 * MINUTE));
  const file = parseFulcioRoots(FULCIO.intermediate.pem + FULCIO.root.pem, 'root.pem');
  const good = checkBundle('r', dsseBundle(envelope, leaf.pem, e), policy(file), IMAGE, {}, LOG.trusted);
  assert.equal(good.kind, 'attestation');
  assert.equal(good.verdict.authentic, true, JSON.stringify(good.verdict.checks, null, 1));
  assert.equal(good.verdict.predicateType, 'https://slsa.dev/provenance/v1');
  const wrong = checkBundle(
    'r',
    dsseBundle(envelope, leaf.pem, e),
    policy({ ...file, identity: stringMatcher('nobody@example.test', false) }),
    IMAGE,
    {},
    LOG.trusted,
  );
  assertFails(wrong.verdict, 'certificate', /^identity .* does not match nobody@example\.test$/);
  // a bundle signed with a key carries no certificate
  const keyed = checkBundle('r', dsseBundle(envelope, '', e), policy(file), IMAGE, {}, LOG.trusted);
  assertFails(keyed.verdict, 'certificate', /no certificate stored with the signature/);
  // the attestation check itself still runs with the certificate's key
  const v = checkAttestation('x', envelope, leaf.cert.publicKey, IMAGE.digest);
  assert.equal(v.authentic, true);
  // message-signature bundles too
  const payload = Buffer.from(simpleSigningJson(IMAGE.repository, IMAGE.digest));
  const msSig = sign('sha256', payload, leaf.key);
  const msBody = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: sha256(payload) } },
      signature: { content: b64(msSig), publicKey: { content: b64(leaf.pem) } },
    },
  };
  const ms = messageSignatureBundle(
    payload,
    sha256(payload),
    msSig,
    leaf.pem,
    entry(msBody, new Date(T0.getTime() + MINUTE)),
  );
  const msv = checkBundle('m', ms, policy(file), IMAGE, {}, LOG.trusted);
  assert.equal(msv.kind, 'signature');
  assert.equal(msv.verdict.authentic, true, JSON.stringify(msv.verdict.checks, null, 1));
});
