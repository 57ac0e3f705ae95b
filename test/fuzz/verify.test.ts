// Property tests over what verification reads from others: DSSE envelopes and in-toto statements (signed with a
// real key, so hostile statements get past the signature), simple-signing payloads, the tekton-storage annotations
// of a run (including provenance replayed from another run), public keys and certificates, registry manifests,
// and a whole `chainsmith verify` against a hostile registry on loopback (paths, exit codes, terminal output).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import forge from 'node-forge';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import type { ChainsConfig, RunFormat } from '../../src/config/types.js';
import { payloadFormat, RUN_FORMATS } from '../../src/formats/index.js';
import { simpleSigningJson } from '../../src/formats/simplesigning.js';
import { dsseBundle, messageSignatureBundle, referrerManifest } from '../../src/sigstore/bundle.js';
import { attestationLayer, cosignImage, envelopeIdentity, signatureLayer } from '../../src/sigstore/cosign-layout.js';
import { isIndex, parseManifest, sha256Digest } from '../../src/oci/manifest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/oci/media-types.js';
import { SIGSTORE_BUNDLE_V03 } from '../../src/sigstore/media-types.js';
import { createEnvelope, parseEnvelope, verifyEnvelope } from '../../src/sigstore/dsse.js';
import { loadFileSigner } from '../../src/signing/keys.js';
import type { Signer } from '../../src/signing/signer.js';
import { tektonAnnotationKeys } from '../../src/tekton/annotations.js';
import { parseRunDocuments } from '../../src/tekton/read.js';
import type { Run, TaskRun } from '../../src/tekton/types.js';
import type { FormatInput } from '../../src/formats/types.js';
import { checkBundle } from '../../src/verify/bundles.js';
import { checkAttestation, checkSimpleSigning, parseSimpleSigning, parseStatement } from '../../src/verify/checks.js';
import { readPublicKeyFile } from '../../src/verify/key.js';
import { verifyRunAnnotations } from '../../src/verify/run-annotations.js';
import { runCli } from '../artifacts/cli-capture.js';
import { fixtureDir, fixtureFile } from '../signing/fixtures.js';
import {
  DIGEST_A,
  HOSTILE_STRINGS,
  hostileLeaf,
  mutate,
  mutationArb,
  serialise,
  type Json,
  type Mutation,
} from './arbitraries.js';
import { assertDocumentedError, budgetMs, checkCliOutput, fuzz, reportFigures } from './harness.js';

const SHARE = 0.3;
const TARGETS = 8;
const budget = budgetMs(SHARE, TARGETS);

after(() => {
  process.stdout.write(`${reportFigures('verify')}\n`);
});

const KEY_FIXTURE = 'x509-ecdsa-p256';
let signer: Signer;
let key: KeyObject;
const RUNS: Run[] = [];
/** Valid statements (every run format, for a TaskRun and a PipelineRun) to mutate. */
const STATEMENTS: Array<{ bytes: Buffer; digest: string }> = [];

before(async () => {
  signer = await loadFileSigner(fixtureDir(KEY_FIXTURE));
  key = signer.publicKey();
  const fixtures = new URL('../fixtures/runs/', import.meta.url);
  RUNS.push(...parseRunDocuments(readFileSync(new URL('buildah-taskrun.yaml', fixtures), 'utf8')));
  RUNS.push(...parseRunDocuments(readFileSync(new URL('ko-taskrun.json', fixtures), 'utf8')));
  for (const run of RUNS) {
    for (const format of RUN_FORMATS) {
      const p = payloadFormat(format).createPayload({ kind: 'TaskRun', run } as never, DEFAULT_CONFIG as ChainsConfig);
      const sha = p.subjects?.[0]?.digest.sha256;
      STATEMENTS.push({ bytes: p.bytes, digest: sha ? `sha256:${sha}` : DIGEST_A });
    }
  }
});

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

// ---------------------------------------------------------------------------------------------------------------

/** A signed envelope around a mutated statement, sometimes with the envelope itself mutated after signing. */
const envelopeCase = fc.record({
  statement: fc.nat(),
  statementMutations: fc.array(mutationArb, { maxLength: 4 }),
  /** the subject list is what verification reads first: aim at it directly, not only by random paths */
  subject: fc.option(
    fc.constantFrom<Json>(
      [null],
      [1],
      'x',
      {},
      [{ digest: null }],
      [{ name: 5, digest: { sha256: 7 } }],
      [[]],
      [{ digest: { sha256: ['a'] } }],
      [{ digest: [] }],
    ),
    { freq: 3 },
  ),
  envelopeMutations: fc.oneof(
    { weight: 3, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: 2, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) },
  ),
  predicateType: fc.option(
    fc.constantFrom('https://slsa.dev/provenance/v0.2', 'https://slsa.dev/provenance/v1', ...HOSTILE_STRINGS),
  ),
  builderId: fc.option(fc.constantFrom('https://tekton.dev/chains/v2', ...HOSTILE_STRINGS)),
});

async function signedEnvelope(c: {
  statement: number;
  statementMutations: Mutation[];
  subject: Json | null;
  envelopeMutations: Mutation[];
}): Promise<{ envelope: Buffer; digest: string }> {
  const base = pick(STATEMENTS, c.statement);
  const doc = JSON.parse(base.bytes.toString('utf8')) as Record<string, Json>;
  if (c.subject !== null) doc.subject = c.subject;
  const statement = Buffer.from(serialise(mutate(doc, c.statementMutations), 'json'));
  let envelope = await createEnvelope(signer, statement);
  if (c.envelopeMutations.length > 0) {
    const tree = JSON.parse(envelope.toString('utf8')) as Json;
    envelope = Buffer.from(serialise(mutate(tree, c.envelopeMutations), 'json'));
  }
  return { envelope, digest: base.digest };
}

test('DSSE envelopes and attestations: any signed or forged envelope gets a verdict, never an exception', async () => {
  await fuzz(
    'dsse + attestation statements',
    envelopeCase,
    async (c) => {
      const { envelope, digest } = await signedEnvelope(c);
      parseEnvelope(envelope);
      envelopeIdentity(envelope);
      const sig = verifyEnvelope(envelope, key);
      const env = parseEnvelope(envelope);
      if (env) parseStatement(env.payload);
      const expect: { predicateType?: string; builderId?: string } = {};
      if (c.predicateType !== null) expect.predicateType = c.predicateType;
      if (c.builderId !== null) expect.builderId = c.builderId;
      const verdict = checkAttestation('fuzz', envelope, key, digest, expect);
      // Soundness: an attestation is authentic only if its envelope verifies with the key.
      if (verdict.authentic && !sig.ok) throw new Error('an attestation whose envelope does not verify is authentic');
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------

const IMAGE = { repository: 'registry.example.com/app', digest: DIGEST_A };

test('sigstore bundles from a referrer: any bundle gets a verdict, never an exception; authentic only if signed', async () => {
  const arb = fc.record({
    envelope: envelopeCase,
    messageSignature: fc.boolean(),
    bundleMutations: fc.array(mutationArb, { maxLength: 4 }),
  });
  let authentic = 0;
  const figures = await fuzz(
    'sigstore bundles (checkBundle)',
    arb,
    async (c) => {
      let bundle: Buffer;
      let image = IMAGE;
      const ssPayload = Buffer.from(simpleSigningJson(IMAGE.repository, IMAGE.digest));
      if (c.messageSignature) {
        const hex = sha256Digest(ssPayload).slice(7);
        bundle = messageSignatureBundle(ssPayload, hex, await signer.sign(ssPayload), '');
      } else {
        const { envelope, digest } = await signedEnvelope(c.envelope);
        if (!parseEnvelope(envelope)) return;
        bundle = dsseBundle(envelope, '');
        image = { ...IMAGE, digest };
      }
      if (c.bundleMutations.length > 0) {
        const tree = JSON.parse(bundle.toString('utf8')) as Json;
        bundle = Buffer.from(serialise(mutate(tree, c.bundleMutations), 'json'));
      }
      const { kind, verdict } = checkBundle('fuzz', bundle, key, image, {});
      if (!verdict.authentic) return;
      authentic++;
      // Soundness, checked apart from the code under test: what is authentic is signed by the key, about the image.
      const raw = JSON.parse(bundle.toString('utf8')) as {
        dsseEnvelope?: { payload: string; payloadType: string; signatures: Array<{ sig: string }> };
        messageSignature?: { messageDigest: { digest: string }; signature: string };
      };
      const b64 = (s: string) => Buffer.from(s, 'base64');
      if (kind === 'attestation') {
        const env = raw.dsseEnvelope!;
        const payload = b64(env.payload);
        const message = Buffer.from(
          `DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${payload.length} `,
        );
        const ok = env.signatures.some((s) => nodeVerify('sha256', Buffer.concat([message, payload]), key, b64(s.sig)));
        const subjects = (JSON.parse(payload.toString('utf8')) as { subject: Array<{ digest: { sha256: string } }> })
          .subject;
        if (!ok || !subjects.some((x) => `sha256:${x.digest.sha256}` === image.digest)) {
          throw new Error(
            `an attestation bundle not signed for this image is authentic: ${bundle.toString().slice(0, 300)}`,
          );
        }
      } else {
        const ms = raw.messageSignature!;
        const about = b64(ms.messageDigest.digest).toString('hex') === sha256Digest(ssPayload).slice(7);
        if (!about || !nodeVerify('sha256', ssPayload, key, b64(ms.signature))) {
          throw new Error(`a message-signature bundle not signed for this image is authentic: ${bundle.toString()}`);
        }
      }
    },
    { budgetMs: budget },
  );
  // Not vacuous: the genuine bundles among the inputs verify.
  if (figures && figures.inputs >= 20) assert.ok(authentic > 0, `none of ${figures.inputs} bundles verified`);
});

test('simple signing: any payload and signature get a verdict; authentic means it names this image', async () => {
  const arb = fc.record({
    mutations: fc.array(mutationArb, { maxLength: 4 }),
    sign: fc.boolean(),
    garbage: fc.uint8Array({ maxLength: 80 }),
  });
  await fuzz(
    'simple signing payloads',
    arb,
    async (c) => {
      const base = JSON.parse(simpleSigningJson(IMAGE.repository, IMAGE.digest)) as Json;
      const payload = Buffer.from(serialise(mutate(base, c.mutations), 'json'));
      const signature = c.sign ? await signer.sign(payload) : Buffer.from(c.garbage);
      parseSimpleSigning(payload);
      const v = checkSimpleSigning('fuzz', payload, signature, key, IMAGE);
      if (v.authentic) {
        const claims = parseSimpleSigning(payload);
        if (typeof claims === 'string' || claims.digest !== IMAGE.digest || claims.reference !== IMAGE.repository) {
          const image = `${IMAGE.repository}@${IMAGE.digest}`;
          throw new Error(`a signature over a payload naming ${JSON.stringify(claims)} was accepted for ${image}`);
        }
      }
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------

const later = (t: string | undefined): string =>
  new Date(Date.parse(t ?? '2026-01-01T00:00:00Z') + 61_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

test('verify-run: provenance signed for one run verifies on it, never on a run it does not describe', async () => {
  const arb = fc.record({
    run: fc.nat(),
    format: fc.constantFrom(...RUN_FORMATS),
    uid: fc.boolean(),
    kind: fc.boolean(),
    start: fc.boolean(),
    completion: fc.boolean(),
    name: fc.boolean(),
  });
  await fuzz(
    'verify-run: replayed provenance',
    arb,
    async (c) => {
      const original = pick(RUNS, c.run);
      const input: FormatInput = { kind: 'TaskRun', run: original as TaskRun };
      const payload = payloadFormat(c.format as RunFormat).createPayload(input, DEFAULT_CONFIG as ChainsConfig).bytes;
      const envelope = await createEnvelope(signer, payload);
      const victim = structuredClone(original) as Run;
      if (c.uid) victim.metadata.uid = '99999999-8888-7777-6666-555555555555';
      if (c.kind) (victim as { kind: string }).kind = 'PipelineRun';
      if (c.start && victim.status) victim.status.startTime = later(victim.status.startTime);
      if (c.completion && victim.status) victim.status.completionTime = later(victim.status.completionTime);
      if (c.name) victim.metadata.name = 'another-run';
      // The attacker stores the copied annotations under the victim's own key, so the owner check passes.
      const keys = tektonAnnotationKeys(`${victim.kind.toLowerCase()}-${victim.metadata.uid ?? ''}`);
      victim.metadata.annotations = {
        [keys.payload]: payload.toString('base64'),
        [keys.signature]: envelope.toString('base64'),
      };
      const report = verifyRunAnnotations(victim, key);
      const v1 = c.format === 'slsa/v2alpha3' || c.format === 'slsa/v2alpha4';
      // What each format signs about the run (src/verify/run-identity.ts): v1.0 the uid and times, v0.2 kind and times.
      const distinguishable = c.start || c.completion || (v1 ? c.uid : c.kind);
      const same = !c.uid && !c.kind && !c.start && !c.completion && !c.name;
      if (same && !report.verified) throw new Error(`a run's own ${c.format} provenance fails: ${report.firstFailure}`);
      if (distinguishable && report.verified) {
        const changed = [c.uid && 'uid', c.kind && 'kind', c.start && 'startTime', c.completion && 'completionTime'];
        const what = changed.filter(Boolean).join(', ');
        throw new Error(`${c.format} provenance of ${original.metadata.name} verified on a run with another ${what}`);
      }
    },
    { budgetMs: budget },
  );
});

test('verify-run: hostile tekton-storage annotations get a report, never an exception', async () => {
  const annotationKey = fc
    .oneof(
      fc.constantFrom('payload-taskrun-', 'signature-taskrun-', 'payload-', 'signature-', 'payload-abc'),
      fc.constant('payload-taskrun-x/../y'),
      fc.constantFrom(...HOSTILE_STRINGS).map((s) => `payload-${s}`),
    )
    .map((s) => `chains.tekton.dev/${s}`);
  const value = fc.oneof(
    hostileLeaf.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    fc.nat().map((i) => Buffer.from(pick(STATEMENTS, i).bytes).toString('base64')),
    fc.constantFrom('', '====', 'e30=', Buffer.from('{"payload":1,"signatures":[null]}').toString('base64')),
  );
  const annotations = fc.dictionary(annotationKey, value, { maxKeys: 6 });
  const arb = fc.record({ run: fc.nat(), annotations, mirror: fc.boolean() });
  await fuzz(
    'verify-run: hostile annotations',
    arb,
    (c) => {
      const run = structuredClone(pick(RUNS, c.run)) as Run;
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(c.annotations)) {
        annotations[k] = v;
        // a matching signature annotation for each payload, so the checks past "missing" run
        if (c.mirror) annotations[k.replace('/payload-', '/signature-')] = v;
      }
      run.metadata.annotations = annotations;
      verifyRunAnnotations(run, key);
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------

/** A self-signed certificate over `publicKeyPem` valid from `from` to `to` (node-forge: Node cannot issue). */
function certificate(from: Date, to: Date, bits: number): string {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = from;
  cert.validity.notAfter = to;
  const attrs = [{ name: 'commonName', value: 'fuzz' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const privatePem = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(privatePem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const YEAR = 365 * 24 * 3600 * 1000;
const PEMS: string[] = [];

function pemCorpus(): string[] {
  if (PEMS.length > 0) return PEMS;
  const now = Date.now();
  const spki = (k: KeyObject): string => k.export({ type: 'spki', format: 'pem' }).toString();
  PEMS.push(
    fixtureFile(KEY_FIXTURE, 'cosign.pub').toString(),
    fixtureFile('cosign-rsa', 'cosign.pub').toString(),
    fixtureFile('x509-ed25519', 'cosign.pub').toString(),
    spki(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
    spki(generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey),
    spki(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey),
    spki(generateKeyPairSync('ec', { namedCurve: 'prime192v1' }).publicKey),
    spki(generateKeyPairSync('x25519').publicKey),
    certificate(new Date(now - YEAR), new Date(now + YEAR), 2048),
    certificate(new Date(now - 2 * YEAR), new Date(now - YEAR), 2048),
    certificate(new Date(now + YEAR), new Date(now + 2 * YEAR), 2048),
    certificate(new Date(now - YEAR), new Date(now + YEAR), 1024),
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
  );
  return PEMS;
}

const pemText = fc
  .record({
    first: fc.nat(),
    second: fc.option(fc.nat()),
    edit: fc.constantFrom('none', 'none', 'flip', 'cut', 'label', 'crlf', 'garbage', 'huge'),
    at: fc.nat(),
    label: fc.constantFrom('PUBLIC KEY', 'CERTIFICATE', 'RSA PUBLIC KEY', 'EC PRIVATE KEY', 'X', ''),
    junk: fc.constantFrom(...HOSTILE_STRINGS),
  })
  .map((c) => {
    const corpus = pemCorpus();
    let text = pick(corpus, c.first) + (c.second !== null ? pick(corpus, c.second) : '');
    const body = text.indexOf('\n') + 1;
    const i = body + (c.at % Math.max(1, text.length - body));
    if (c.edit === 'flip') text = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1);
    else if (c.edit === 'cut') text = text.slice(0, i);
    else if (c.edit === 'label') text = text.replace(/(BEGIN|END) [A-Z ]+-----/g, `$1 ${c.label}-----`);
    else if (c.edit === 'crlf') text = text.replace(/\n/g, '\r\n');
    else if (c.edit === 'garbage') text = text.slice(0, i) + c.junk + text.slice(i);
    else if (c.edit === 'huge') text = `-----BEGIN PUBLIC KEY-----\n${'QUFB'.repeat(50_000)}\n-----END PUBLIC KEY-----`;
    return text;
  });

test('public keys and certificates: accepted only when they meet the policy, else one error line', async () => {
  pemCorpus();
  const dir = mkdtempSync(join(tmpdir(), 'chainsmith-fuzz-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  await fuzz(
    'public keys / certificates (PEM)',
    pemText,
    async (text) => {
      const file = join(dir, 'key.pem');
      writeFileSync(file, text);
      let accepted: KeyObject;
      try {
        accepted = await readPublicKeyFile(file);
      } catch (err) {
        assertDocumentedError(err, 'readPublicKeyFile');
        return;
      }
      const d = accepted.asymmetricKeyDetails ?? {};
      const type = accepted.asymmetricKeyType ?? '';
      if (type === 'rsa' && (d.modulusLength ?? 0) < 2048)
        throw new Error(`an RSA-${d.modulusLength} key was accepted`);
      if (
        accepted.asymmetricKeyType === 'ec' &&
        !['prime256v1', 'secp384r1', 'secp521r1'].includes(d.namedCurve ?? '')
      ) {
        throw new Error(`an ECDSA key on ${d.namedCurve} was accepted`);
      }
      if (!['rsa', 'ec', 'ed25519'].includes(type)) throw new Error(`a ${type} key was accepted`);
      const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
      if (cert && text.includes('BEGIN CERTIFICATE')) {
        let parsed;
        try {
          parsed = forge.pki.certificateFromPem(cert);
        } catch {
          parsed = undefined;
        }
        const now = new Date();
        if (parsed && (parsed.validity.notAfter < now || parsed.validity.notBefore > now)) {
          const { notBefore, notAfter } = parsed.validity;
          throw new Error(`a certificate valid ${notBefore.toISOString()}..${notAfter.toISOString()} was accepted`);
        }
      }
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------

/** Checks a parsed manifest really has the shape its type promises (what the callers then read without checks). */
function checkManifestShape(m: unknown): void {
  const o = m as Record<string, unknown>;
  const list = isIndex(m as never) ? o.manifests : o.layers;
  if (!Array.isArray(list)) throw new Error('a parsed manifest has no layer/manifest list');
  list.forEach((d, i) => {
    const desc = d as Record<string, unknown> | null;
    const isDescriptor = desc !== null && typeof desc === 'object' && typeof desc.mediaType === 'string';
    if (!isDescriptor || typeof desc.digest !== 'string') {
      throw new Error(`parseManifest returned a descriptor ${i} that is not one: ${JSON.stringify(d)?.slice(0, 100)}`);
    }
  });
}

test('registry manifests: parseManifest returns a well-formed manifest or a documented error', async () => {
  const sigDescriptor = signatureLayer(Buffer.from('{}'), Buffer.from('s')).descriptor;
  const base = [
    JSON.parse(cosignImage([sigDescriptor]).manifest.toString()) as Json,
    {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, size: 10, digest: DIGEST_A, artifactType: SIGSTORE_BUNDLE_V03 }],
    } as Json,
  ];
  const arb = fc.oneof(
    fc
      .tuple(fc.nat(), fc.array(mutationArb, { maxLength: 4 }))
      .map(([i, m]) => serialise(mutate(pick(base, i), m), 'json')),
    fc.string({ unit: 'binary', maxLength: 100 }),
  );
  await fuzz(
    'registry manifests (parseManifest)',
    arb,
    (text) => {
      let m;
      try {
        m = parseManifest(Buffer.from(text));
      } catch (err) {
        assertDocumentedError(err, 'parseManifest');
        return;
      }
      checkManifestShape(m);
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------
// `chainsmith verify` against a hostile registry

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
  digestHeader?: string;
}

interface Scenario {
  auth: boolean;
  head: Answer;
  sig: Answer;
  att: Answer;
  referrers: Answer;
  manifests: Map<string, Buffer>;
  blobs: Map<string, Buffer>;
  strayBlob: Buffer;
}

let server: Server;
let port = 0;
let current: Scenario | undefined;
const requests: Array<{ method: string; url: string; authorized: boolean }> = [];
let keyFile = '';
let registryDir = '';

const REPO = 'fuzz/app';
const USER = 'fuzzer';
const PASSWORD = 'fuzz-registry-password';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

function jsonAnswer(status: number, body: string): Answer {
  return { status, contentType: 'application/json', body: Buffer.from(body) };
}

function answer(res: import('node:http').ServerResponse, a: Answer, head: boolean): void {
  const headers: Record<string, string> = { 'content-type': a.contentType, 'content-length': String(a.body.length) };
  if (a.digestHeader !== undefined) headers['docker-content-digest'] = a.digestHeader;
  // Node refuses to send control characters in a header; a hostile value it refuses is sent as a generic one.
  for (const [k, v] of Object.entries(headers)) {
    if (/[^\t\x20-\x7e\x80-\xff]/.test(v)) headers[k] = k === 'content-type' ? 'application/octet-stream' : 'x';
  }
  res.writeHead(a.status, headers);
  res.end(head ? undefined : a.body);
}

function serve(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  const url = req.url ?? '';
  const authorized = req.headers.authorization === BASIC;
  requests.push({ method: req.method ?? '', url, authorized });
  const s = current;
  if (!s) return answer(res, { status: 404, contentType: 'text/plain', body: Buffer.from('') }, false);
  if (s.auth && !authorized) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="fuzz"', 'content-type': 'application/json' });
    return void res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
  }
  const head = req.method === 'HEAD';
  const m = /^\/v2\/fuzz\/app\/(manifests|blobs|referrers)\/([^/?#]+)$/.exec(url);
  const json = (status: number, body: string): Answer => jsonAnswer(status, body);
  if (url === '/v2/') return answer(res, json(200, '{}'), head);
  if (!m) return answer(res, json(404, '{"errors":[{"code":"NAME_UNKNOWN"}]}'), head);
  const [, kind, ref] = m as unknown as [string, string, string];
  if (kind === 'referrers') return answer(res, s.referrers, head);
  if (kind === 'blobs') {
    const blob = s.blobs.get(ref) ?? s.strayBlob;
    return answer(res, { status: 200, contentType: 'application/octet-stream', body: blob }, head);
  }
  if (ref.endsWith('.sig')) return answer(res, s.sig, head);
  if (ref.endsWith('.att')) return answer(res, s.att, head);
  if (head || ref === 'latest') return answer(res, s.head, head);
  const known = s.manifests.get(ref);
  if (known) return answer(res, { status: 200, contentType: OCI_MANIFEST, body: known }, false);
  return answer(res, s.head, false);
}

before(async () => {
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'chainsmith-fuzz-registry-'));
  mkdirSync(join(dir, 'docker'));
  const auth = { auths: { [`127.0.0.1:${port}`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } };
  writeFileSync(join(dir, 'docker', 'config.json'), JSON.stringify(auth));
  keyFile = join(dir, 'cosign.pub');
  writeFileSync(keyFile, fixtureFile(KEY_FIXTURE, 'cosign.pub'));
  process.env.DOCKER_CONFIG = join(dir, 'docker');
  registryDir = dir;
});

after(() => {
  server?.close();
  if (registryDir) rmSync(registryDir, { recursive: true, force: true });
});

/** The genuine, validly signed material of the image, before the scenario mutates it. */
/** What `genuine()` builds. */
interface Material {
  sig: Json;
  att: Json;
  referrers: Json;
  manifests: Map<string, Buffer>;
  blobs: Map<string, Buffer>;
}

async function genuine(): Promise<Material> {
  const repository = `127.0.0.1:${port}/${REPO}`;
  const payload = Buffer.from(simpleSigningJson(repository, DIGEST_A));
  const sigLayer = signatureLayer(payload, await signer.sign(payload));
  const statement = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [{ name: repository, digest: { sha256: DIGEST_A.slice(7) } }],
      predicate: { builder: { id: 'https://tekton.dev/chains/v2' } },
    }),
  );
  const envelope = await createEnvelope(signer, statement);
  const attLayer = attestationLayer(envelope, 'https://slsa.dev/provenance/v0.2');
  const sigImage = cosignImage([sigLayer.descriptor]);
  const attImage = cosignImage([attLayer.descriptor]);
  const bundle = dsseBundle(envelope, '');
  const subject = { mediaType: OCI_MANIFEST, size: 100, digest: DIGEST_A };
  const referrer = referrerManifest(bundle, subject, 'https://slsa.dev/provenance/v0.2', 'dsse-envelope', new Date(0));
  const referrerDigest = sha256Digest(referrer.manifest);
  const blobs = new Map<string, Buffer>();
  for (const b of [payload, envelope, sigImage.config, attImage.config, bundle, referrer.config]) {
    blobs.set(sha256Digest(b), b);
  }
  const size = referrer.manifest.length;
  const entry = { mediaType: OCI_MANIFEST, size, digest: referrerDigest, artifactType: SIGSTORE_BUNDLE_V03 };
  const referrers: Json = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] };
  return {
    sig: JSON.parse(sigImage.manifest.toString()) as Json,
    att: JSON.parse(attImage.manifest.toString()) as Json,
    referrers,
    manifests: new Map([[referrerDigest, referrer.manifest]]),
    blobs,
  };
}

const DIGEST_HEADERS = [
  DIGEST_A,
  DIGEST_A,
  '',
  '../../../escape',
  `${DIGEST_A}/../../../escape`,
  `${DIGEST_A}?x=1`,
  'sha256:../../x',
  `sha256:${'A'.repeat(64)}`,
  '\u001b[2Jsha256:x',
  'sha256-x.sig',
  '%2e%2e%2fescape',
  `${DIGEST_A}#x`,
];

const manifestAnswer = fc.record({
  status: fc.constantFrom(200, 200, 200, 200, 404, 500, 401, 403),
  contentType: fc.constantFrom(OCI_MANIFEST, OCI_INDEX, 'application/json', '', 'text/html', '\u001b[2J'),
  mutations: fc.oneof(
    { weight: 2, arbitrary: fc.constant<Mutation[]>([]) },
    { weight: 3, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) },
  ),
  raw: fc.option(fc.constantFrom(...HOSTILE_STRINGS), { freq: 6 }),
});

const scenarioArb = fc.record({
  /** one in four: the genuine registry answers (only auth and flags vary), so the happy path is fuzzed too */
  pristine: fc.constantFrom(false, false, false, true),
  auth: fc.boolean(),
  tagged: fc.boolean(),
  json: fc.boolean(),
  requireAttestation: fc.boolean(),
  headStatus: fc.constantFrom(200, 200, 200, 404),
  headDigest: fc.constantFrom(...DIGEST_HEADERS),
  sig: manifestAnswer,
  att: manifestAnswer,
  referrers: manifestAnswer,
  strayBlob: fc.constantFrom(...HOSTILE_STRINGS),
});

/** The only paths `verify` may ask this registry for: the API root and the image's own repository. */
const ALLOWED_PATH = /^\/v2\/(fuzz\/app\/(manifests|blobs|referrers)\/[A-Za-z0-9_:.+-]+)?$/;

test('verify against a hostile registry: stays under /v2/fuzz/app/, exits 0/1/2, clean one-line errors', async () => {
  const material = await genuine();
  let reached = 0;
  let verified = 0;
  const figures = await fuzz(
    'verify CLI vs hostile registry',
    scenarioArb,
    async (c) => {
      const body = (a: typeof c.sig, base: Json): Answer =>
        c.pristine
          ? { status: 200, contentType: typeOf(base), body: Buffer.from(JSON.stringify(base)) }
          : { ...a, body: Buffer.from(a.raw ?? serialise(mutate(base, a.mutations), 'json')) };
      const head: Answer = { status: 200, contentType: OCI_MANIFEST, body: Buffer.from('{"schemaVersion":2}') };
      const typeOf = (base: Json): string => (base === material.referrers ? OCI_INDEX : OCI_MANIFEST);
      current = {
        auth: c.auth,
        head: c.pristine
          ? { ...head, digestHeader: DIGEST_A }
          : { ...head, status: c.headStatus, digestHeader: c.headDigest },
        sig: body(c.sig, material.sig),
        att: body(c.att, material.att),
        referrers: body(c.referrers, material.referrers),
        manifests: material.manifests,
        blobs: material.blobs,
        strayBlob: Buffer.from(c.strayBlob),
      };
      requests.length = 0;
      const ref = `127.0.0.1:${port}/${REPO}${c.tagged ? ':latest' : `@${DIGEST_A}`}`;
      const flags = [...(c.json ? ['--json'] : []), ...(c.requireAttestation ? ['--require-attestation'] : [])];
      const argv = ['verify', '--key', keyFile, ...flags, ref];
      let out;
      try {
        out = await runCli(argv);
      } catch (err) {
        throw new Error(`${argv.join(' ')} threw instead of exiting: ${err instanceof Error ? err.stack : err}`);
      } finally {
        current = undefined;
      }
      for (const r of requests) {
        const segments = r.url.split('/');
        if (!ALLOWED_PATH.test(r.url) || segments.includes('..') || segments.includes('.')) {
          const creds = r.authorized ? ' with the registry credentials' : '';
          throw new Error(`verify sent ${r.method} ${JSON.stringify(r.url)}${creds} (outside /v2/${REPO}/)`);
        }
      }

      if (![0, 1, 2].includes(out.code)) throw new Error(`exit code ${out.code}`);
      checkCliOutput(out, c.json);
      if (requests.length > 0) reached++;
      if (out.code === 0) verified++;
      // The genuine signature and attestation of the image must verify whatever else the inputs vary.
      if (c.pristine && out.code !== 0) {
        throw new Error(`genuine answers did not verify (exit ${out.code}): ${out.stderr.trim()}`);
      }
    },
    { budgetMs: budget },
  );
  // Not vacuous: the inputs reach the registry, and the genuine parts of them verify.
  if (figures && figures.inputs >= 20) {
    assert.ok(reached >= figures.inputs * 0.9, `only ${reached} of ${figures.inputs} inputs reached the registry`);
    assert.ok(verified > 0, `none of ${figures.inputs} inputs verified: the genuine signatures are not being read`);
  }
});
