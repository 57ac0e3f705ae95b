import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { ProposedEntry } from '@sigstore/rekor-types';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { StorageName } from '../../src/config/types.js';
import { ChainsmithError } from '../../src/errors.js';
import { payloadFormat } from '../../src/formats/index.js';
import { shouldUploadTlog, signRun, type SigningDeps } from '../../src/pipeline/sign-run.js';
import type { TlogEntry } from '../../src/sigstore/rekor.js';
import { ControllerMetrics } from '../../src/observability/metrics.js';
import { SignatureMemo } from '../../src/pipeline/signature-memo.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import { PrivateKeySigner } from '../../src/signing/key-signer.js';
import type { Storer, StoreRequest } from '../../src/storage/storer.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { ephemeralSigner } from '../signing/fixtures.js';

const DIGEST = 'sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';
const signer = ephemeralSigner();

function taskRun(annotations: Record<string, string> = {}): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'b', namespace: 'n', uid: 'u', annotations },
    spec: {},
    status: {
      startTime: '2026-11-23T12:00:00Z',
      completionTime: '2026-11-23T12:00:42Z',
      conditions: [{ type: 'Succeeded', status: 'True' }],
      results: [
        { name: 'IMAGE_URL', value: '127.0.0.1:5000/app' },
        { name: 'IMAGE_DIGEST', value: DIGEST },
      ],
    },
  };
}

class Recording implements Storer {
  readonly calls: StoreRequest[] = [];
  readonly name = 'tekton';
  async store(req: StoreRequest) {
    this.calls.push(req);
    return {};
  }
}

function setup(upload: (url: string, entry: ProposedEntry) => Promise<TlogEntry>) {
  const storer = new Recording();
  const uploads: Array<{ url: string; entry: ProposedEntry }> = [];
  const deps: SigningDeps = {
    formatFor: payloadFormat,
    signer: async () => signer,
    sign: signPayload,
    storers: () => new Map<StorageName, Storer>([['tekton', storer]]),
    imagesToSign: async (_run, images) => images,
    uploadTlog: async (url, entry) => {
      uploads.push({ url, entry });
      return upload(url, entry);
    },
  };
  return { storer, uploads, deps };
}

let index = 10;
const fakeEntry = async (_url: string, entry: ProposedEntry): Promise<TlogEntry> => ({
  uuid: 'ab'.repeat(32),
  logIndex: index++,
  logID: 'cd'.repeat(32),
  integratedTime: 1,
  body: Buffer.from(JSON.stringify({ kind: entry.kind, apiVersion: entry.apiVersion })).toString('base64'),
  kind: entry.kind,
  apiVersion: entry.apiVersion,
  signedEntryTimestamp: 'c2V0',
});

test('transparency.enabled: true → manual → off, as Chains decides per run (spec §6.1)', () => {
  const on = parseChainsConfig({ 'transparency.enabled': 'true' });
  const manual = parseChainsConfig({ 'transparency.enabled': 'manual' });
  const off = parseChainsConfig({ 'transparency.enabled': 'false' });
  assert.equal(shouldUploadTlog(taskRun(), on), true);
  assert.equal(shouldUploadTlog(taskRun(), off), false);
  assert.equal(shouldUploadTlog(taskRun(), manual), false, 'manual without the opt-in');
  assert.equal(shouldUploadTlog(taskRun({ 'chains.tekton.dev/transparency-upload': 'true' }), manual), true);
  assert.equal(shouldUploadTlog(taskRun({ 'chains.tekton.dev/transparency-upload': 'yes' }), manual), false);
  const uploaded = { 'chains.tekton.dev/transparency-upload': 'true', 'chains.tekton.dev/transparency': '' };
  assert.equal(shouldUploadTlog(taskRun(uploaded), manual), false, 'already has an entry');
});

test('each signature is uploaded before it is stored: dsse for the attestation, hashedrekord for the image', async () => {
  index = 10;
  const { storer, uploads, deps } = setup(fakeEntry);
  const config = parseChainsConfig({
    'transparency.enabled': 'true',
    'transparency.url': 'http://rekor.test',
    'artifacts.oci.storage': 'tekton',
  });
  const out = await signRun(taskRun(), [], config, deps);
  assert.equal(out.status, 'signed');
  assert.deepEqual(
    uploads.map((u) => [u.url, u.entry.kind, u.entry.apiVersion]),
    [
      ['http://rekor.test', 'dsse', '0.0.1'],
      ['http://rekor.test', 'hashedrekord', '0.0.1'],
    ],
  );
  // the stored envelope is exactly what was uploaded
  const att = storer.calls[0]!;
  const dsse = uploads[0]!.entry as Extract<ProposedEntry, { kind: 'dsse' }>;
  assert.equal(dsse.spec.proposedContent?.envelope, att.signed.signature.toString('utf8'));
  assert.equal(
    Buffer.from(dsse.spec.proposedContent!.verifiers[0], 'base64').toString(),
    signer.publicKey().export({ type: 'spki', format: 'pem' }).toString(),
  );
  const image = storer.calls[1]!;
  const hr = uploads[1]!.entry as Extract<ProposedEntry, { kind: 'hashedrekord' }>;
  assert.equal(hr.spec.data.hash?.value, createHash('sha256').update(image.signed.payload).digest('hex'));
  assert.equal(hr.spec.signature.content, image.signed.signature.toString('base64'));
  assert.deepEqual(
    storer.calls.map((c) => c.tlogEntry?.logIndex),
    [10, 11],
  );
  // like Chains, the last uploaded object names the annotation
  assert.equal(
    out.status === 'signed' && out.annotations['chains.tekton.dev/transparency'],
    'http://rekor.test/api/v1/log/entries?logIndex=11',
  );
});

test('chainsmith.transparency.attestation-entry: intoto uploads attestations as intoto 0.0.1 (Chains ≤ v0.28)', async () => {
  const { uploads, deps } = setup(fakeEntry);
  const config = parseChainsConfig({
    'transparency.enabled': 'true',
    'chainsmith.transparency.attestation-entry': 'intoto',
    'artifacts.oci.storage': '',
  });
  assert.equal((await signRun(taskRun(), [], config, deps)).status, 'signed');
  assert.deepEqual(
    uploads.map((u) => [u.url, u.entry.kind, u.entry.apiVersion]),
    [['https://rekor.sigstore.dev', 'intoto', '0.0.1']],
  );
});

test('Rekor down: the run fails transiently with TransparencyFailed, nothing is stored and nothing is marked', async () => {
  const down = new ChainsmithError('TransparencyFailed', 'rekor http://rekor.test: POST failed: ECONNREFUSED', {
    transient: true,
  });
  const { storer, deps } = setup(async () => {
    throw down;
  });
  const config = parseChainsConfig({ 'transparency.enabled': 'true', 'artifacts.oci.storage': 'tekton' });
  const out = await signRun(taskRun(), [], config, deps);
  assert.equal(out.status, 'failed');
  if (out.status !== 'failed') return;
  assert.equal(out.errorType, 'tlog');
  assert.ok(out.error instanceof ChainsmithError);
  assert.equal(out.error.reason, 'TransparencyFailed');
  assert.equal(out.error.transient, true);
  assert.match(out.messages[0]!, /TaskRun attestation: rekor http:\/\/rekor.test: POST failed/);
  assert.equal(storer.calls.length, 0);
});

test('transparency off: nothing is uploaded and no transparency annotation is written', async () => {
  const { uploads, deps } = setup(fakeEntry);
  const out = await signRun(taskRun(), [], parseChainsConfig({ 'artifacts.oci.storage': 'tekton' }), deps);
  assert.equal(out.status, 'signed');
  assert.equal(uploads.length, 0);
  assert.equal(out.status === 'signed' && 'chains.tekton.dev/transparency' in out.annotations, false);
});

test('a retry reuses the signatures already made: no second log entry for the same payload', async () => {
  index = 20;
  let failImage = true;
  const { storer, uploads, deps } = setup(async (url, entry) => {
    if (entry.kind === 'hashedrekord' && failImage)
      throw new ChainsmithError('TransparencyFailed', 'rekor: HTTP 503', { transient: true });
    return fakeEntry(url, entry);
  });
  const signs: string[] = [];
  const memo = new SignatureMemo();
  const withMemo: SigningDeps = {
    ...deps,
    memo,
    sign: async (s, p) => {
      signs.push(p.kind);
      return signPayload(s, p);
    },
  };
  const config = parseChainsConfig({ 'transparency.enabled': 'true', 'artifacts.oci.storage': 'tekton' });
  const first = await signRun(taskRun(), [], config, withMemo);
  assert.equal(first.status, 'failed');
  assert.deepEqual(signs, ['in-toto', 'simplesigning']);
  assert.deepEqual(
    uploads.map((u) => u.entry.kind),
    ['dsse', 'hashedrekord'],
  );
  const firstImageSignature = (uploads[1]!.entry as Extract<ProposedEntry, { kind: 'hashedrekord' }>).spec.signature;

  failImage = false;
  const second = await signRun(taskRun(), [], config, withMemo);
  assert.equal(second.status, 'signed');
  assert.deepEqual(signs, ['in-toto', 'simplesigning'], 'nothing signed again');
  // the attestation's entry is reused as is; the image's failed upload is repeated with the same signature, so a
  // Rekor that did record it answers 409 with the existing entry instead of a second entry
  assert.deepEqual(
    uploads.map((u) => u.entry.kind),
    ['dsse', 'hashedrekord', 'hashedrekord'],
  );
  assert.deepEqual(
    (uploads[2]!.entry as Extract<ProposedEntry, { kind: 'hashedrekord' }>).spec.signature,
    firstImageSignature,
  );
  // the attestation was stored twice (once per attempt), both times with its one entry; the image once
  assert.deepEqual(
    storer.calls.map((c) => c.tlogEntry?.logIndex),
    [20, 20, 21],
  );
  assert.deepEqual(storer.calls[0]!.signed.signature, storer.calls[1]!.signed.signature);
  assert.equal(memo.size, 2, 'kept until the reconciler has written the mark');
  memo.forgetRun('u');
  assert.equal(memo.size, 0);
});

test('the memo only serves the same run, payload, key and log', async () => {
  const { deps } = setup(fakeEntry);
  const signs: string[] = [];
  const memo = new SignatureMemo();
  const counting: SigningDeps = {
    ...deps,
    memo,
    sign: async (s, p) => {
      signs.push(p.kind);
      return signPayload(s, p);
    },
  };
  const on = { 'transparency.enabled': 'true', 'artifacts.oci.storage': '' };
  await signRun(taskRun(), [], parseChainsConfig(on), counting);
  await signRun(taskRun(), [], parseChainsConfig({ ...on, 'transparency.url': 'http://other.test' }), counting);
  const other = taskRun();
  other.metadata.uid = 'u2';
  await signRun(other, [], parseChainsConfig(on), counting);
  await signRun({ ...other, spec: { params: [{ name: 'x', value: 'y' }] } }, [], parseChainsConfig(on), counting);
  await signRun(taskRun(), [], parseChainsConfig({ ...on, 'transparency.enabled': 'false' }), counting);
  assert.equal(signs.length, 5, 'another log, run, payload or no transparency → a new signature');
  await signRun(taskRun(), [], parseChainsConfig(on), counting);
  assert.equal(signs.length, 5, 'the same one again → reused');
});

test('the memo is bounded by entries and bytes, least recently used first', () => {
  const signed = (n: number) => ({ payload: Buffer.alloc(n), signature: Buffer.alloc(0), cert: '', chain: '' });
  const memo = new SignatureMemo({ maxEntries: 3, maxBytes: 100 });
  memo.set('r1', 'a', { signed: signed(10) });
  memo.set('r1', 'b', { signed: signed(10) });
  memo.set('r2', 'c', { signed: signed(10) });
  assert.ok(memo.get('a'), 'a is now the most recent');
  memo.set('r2', 'd', { signed: signed(10) });
  assert.equal(memo.get('b'), undefined, 'b was the least recently used');
  assert.equal(memo.size, 3);
  memo.set('r3', 'e', { signed: signed(75) });
  assert.ok(memo.byteSize <= 100);
  assert.ok(memo.get('e'));
  memo.set('r4', 'huge', { signed: signed(101) });
  assert.equal(memo.get('huge'), undefined, 'larger than the budget: not kept');
  memo.forgetRun('r3');
  assert.equal(memo.get('e'), undefined);
});

test('metrics: successful uploads count in Chains’ payload_uploaded and the upload histogram, failures by kind', async () => {
  let fail = false;
  const { deps } = setup(async (url, entry) => {
    if (fail) throw new ChainsmithError('TransparencyFailed', 'rekor: HTTP 503', { transient: true });
    return fakeEntry(url, entry);
  });
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  const config = parseChainsConfig({ 'transparency.enabled': 'true', 'artifacts.oci.storage': 'tekton' });
  assert.equal((await signRun(taskRun(), [], config, { ...deps, metrics })).status, 'signed');
  fail = true;
  assert.equal((await signRun(taskRun(), [], config, { ...deps, metrics })).status, 'failed');
  const text = await metrics.registry.metrics();
  assert.match(text, /^watcher_taskrun_payload_uploaded_total 2$/m);
  assert.match(text, /^chainsmith_tlog_upload_duration_seconds_count\{entry_kind="dsse"\} 1$/m);
  assert.match(text, /^chainsmith_tlog_upload_duration_seconds_count\{entry_kind="hashedrekord"\} 1$/m);
  assert.match(text, /^chainsmith_tlog_upload_failures_total\{kind="transient"\} 1$/m);
  assert.match(text, /^watcher_taskrun_signing_failures_total\{error_type="tlog"\} 1$/m);
});

test('chainsmith.signing-config: signatures go to its services, and the run names the log and index', async () => {
  const { storer, uploads, deps } = setup(fakeEntry);
  const witnessed: Array<{ file: string; kind: string }> = [];
  deps.witness = async (file, kind, signed) => {
    witnessed.push({ file, kind });
    return {
      uuid: '',
      logIndex: index++,
      logID: 'cd'.repeat(32),
      integratedTime: 0,
      body: 'e30=',
      kind: 'hashedrekord',
      apiVersion: '0.0.2',
      logUrl: 'http://rekor-v2.test',
      majorApiVersion: 2,
      rfc3161Timestamps: [Buffer.from(signed.signature.subarray(0, 4))],
    };
  };
  const config = parseChainsConfig({
    'transparency.enabled': 'true',
    'chainsmith.signing-config': '/etc/sigstore/signing_config.json',
    'artifacts.oci.storage': 'tekton',
  });
  const out = await signRun(taskRun(), [], config, deps);
  assert.equal(out.status, 'signed');
  assert.equal(uploads.length, 0, 'transparency.url is not used');
  assert.deepEqual(
    witnessed.map((w) => w.kind).sort(),
    ['in-toto', 'simplesigning'],
    'the attestation and the image signature',
  );
  assert.ok(witnessed.every((w) => w.file === '/etc/sigstore/signing_config.json'));
  if (out.status !== 'signed') return;
  assert.match(out.annotations['chains.tekton.dev/transparency'] ?? '', /^http:\/\/rekor-v2\.test#logIndex=\d+$/);
  // storage gets the entry with its timestamps
  assert.ok(storer.calls.every((c) => c.tlogEntry?.rfc3161Timestamps?.length === 1));
});

test('two replicas signing the same run for the log (no shared memo) upload identical entries; without the log, no extra cost', async () => {
  // an ECDSA file key, as two replicas load it from the same Secret
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const asked: Array<boolean | undefined> = [];
  const replica = () => {
    const { deps, uploads } = setup(fakeEntry);
    const fileSigner = PrivateKeySigner.fromKey(privateKey, 'x509.pem');
    deps.signer = async () => fileSigner;
    deps.sign = (s, p, opts) => {
      asked.push(opts?.deterministic);
      return signPayload(s, p, opts);
    };
    return { deps, uploads };
  };
  const on = parseChainsConfig({
    'transparency.enabled': 'true',
    'transparency.url': 'http://rekor.test',
    'artifacts.oci.storage': 'tekton',
  });
  const a = replica();
  const b = replica();
  assert.equal((await signRun(taskRun(), [], on, a.deps)).status, 'signed');
  assert.equal((await signRun(taskRun(), [], on, b.deps)).status, 'signed');
  assert.deepEqual(
    a.uploads.map((u) => JSON.stringify(u.entry)),
    b.uploads.map((u) => JSON.stringify(u.entry)),
    'byte-identical entries: Rekor answers 409 and the first entry is reused',
  );
  assert.deepEqual(asked, [true, true, true, true]);
  asked.length = 0;
  const off = parseChainsConfig({ 'artifacts.oci.storage': 'tekton' });
  assert.equal((await signRun(taskRun(), [], off, replica().deps)).status, 'signed');
  assert.deepEqual(asked, [undefined, undefined], 'no deterministic signing when nothing goes to a log');
});
