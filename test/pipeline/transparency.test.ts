import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ProposedEntry } from '@sigstore/rekor-types';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { StorageName } from '../../src/config/types.js';
import { ChainsmithError } from '../../src/errors.js';
import { payloadFormat } from '../../src/formats/index.js';
import { shouldUploadTlog, signRun, type SigningDeps } from '../../src/pipeline/sign-run.js';
import type { TlogEntry } from '../../src/sigstore/rekor.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
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
