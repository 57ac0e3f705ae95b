import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProposedEntry } from '@sigstore/rekor-types';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { StorageName } from '../../src/config/types.js';
import { payloadFormat } from '../../src/formats/index.js';
import { markEvidence, MarkVerifier } from '../../src/pipeline/mark-trust.js';
import { signRun, type SigningDeps } from '../../src/pipeline/sign-run.js';
import type { TlogEntry } from '../../src/sigstore/rekor.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import type { Signer } from '../../src/signing/signer.js';
import type { Storer } from '../../src/storage/storer.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { ephemeralSigner } from '../signing/fixtures.js';

const keyless = (): Signer => Object.assign(ephemeralSigner(), { keyless: true });

const run: TaskRun = {
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name: 'b', namespace: 'n', uid: 'u' },
  spec: {},
  status: {
    startTime: '2026-11-23T12:00:00Z',
    completionTime: '2026-11-23T12:00:42Z',
    conditions: [{ type: 'Succeeded', status: 'True' }],
  },
};

function deps(uploads: ProposedEntry[]): SigningDeps {
  const store: Storer = { name: 'tekton', store: async () => ({}) };
  return {
    formatFor: payloadFormat,
    signer: async () => keyless(),
    sign: signPayload,
    storers: () => new Map<StorageName, Storer>([['tekton', store]]),
    imagesToSign: async (_r, images) => images,
    uploadTlog: async (_url, entry): Promise<TlogEntry> => {
      uploads.push(entry);
      return {
        uuid: 'ab',
        logIndex: 1,
        logID: 'cd',
        integratedTime: 1,
        body: '',
        kind: entry.kind,
        apiVersion: entry.apiVersion,
      };
    },
  };
}

test('keyless without a transparency log is refused: its certificate expires in minutes', async () => {
  const keylessConfig = { 'signers.x509.fulcio.enabled': 'true' };
  const out = await signRun(run, [], parseChainsConfig(keylessConfig), deps([]));
  assert.equal(out.status, 'failed');
  if (out.status !== 'failed') return;
  assert.equal((out.error as { reason?: string }).reason, 'KeylessFailed');
  assert.match(out.messages[0]!, /must be recorded in a transparency log .*set transparency\.enabled: "true"/);
  const manual = parseChainsConfig({ ...keylessConfig, 'transparency.enabled': 'manual' });
  const m = await signRun(run, [], manual, deps([]));
  assert.match(m.status === 'failed' ? m.messages[0]! : '', /or annotate the run .*transparency-upload/);
  const uploads: ProposedEntry[] = [];
  const on = parseChainsConfig({ ...keylessConfig, 'transparency.enabled': 'true' });
  assert.equal((await signRun(run, [], on, deps(uploads))).status, 'signed');
  assert.equal(uploads.length, 1);
});

test('keyless marks: no mark signature (no stable key, no extra certificate), judged by evidence', async () => {
  const config = parseChainsConfig({ 'signers.x509.fulcio.enabled': 'true', 'transparency.enabled': 'true' });
  let signed = 0;
  const signer = keyless();
  const counting = Object.assign(signer, {
    sign: async (d: Buffer) => {
      signed++;
      return ephemeralSigner().sign(d);
    },
  });
  const marked = { kind: 'TaskRun' as const, namespace: 'n', name: 'b', uid: 'u' };
  const evidence = await markEvidence(marked, config, async () => counting, new Date('2026-11-23T12:01:00Z'));
  assert.deepEqual(Object.keys(evidence), ['chainsmith.dev/signed-at']);
  assert.equal(signed, 0);
  const verifier = new MarkVerifier();
  const modes = await verifier.refresh(config, async () => keyless());
  assert.equal(modes.TaskRun.mode, 'unavailable');
  assert.match(modes.TaskRun.mode === 'unavailable' ? modes.TaskRun.why : '', /keyless signing/);
});
