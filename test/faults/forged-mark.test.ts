// A `chains.tekton.dev/signed: "true"` mark is trusted only when a signature stored on the run verifies with the
// configured signer's key and is bound to this run (src/pipeline/mark-trust.ts, docs/reliability.md): a run
// created or patched with the mark, `chainsmith.dev/signed-at` and a made-up or copied signature annotation is
// signed, not skipped as Tekton Chains skips it. Marks chainsmith writes, and Chains' tekton-storage signatures
// made with the same key, are trusted, so nothing is signed twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { Writable } from 'node:stream';
import { DEFAULT_CONFIG, parseChainsConfig } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import { decide } from '../../src/controller/decide.js';
import { TASKRUNS, type KubeClient } from '../../src/kube/client.js';
import { MarkVerifier, markEvidence } from '../../src/pipeline/mark-trust.js';
import { finishPatch } from '../../src/pipeline/marking.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { RunCache, summarise } from '../../src/controller/run-cache.js';
import { realSigningDeps } from '../../src/pipeline/signing-deps.js';
import { payloadFormat } from '../../src/formats/index.js';
import { MemoryEventSink } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';
import { ControllerMetrics } from '../../src/observability/metrics.js';
import { StaticCredentialSource } from '../../src/kube/registry-credentials.js';
import type { SignerRegistry } from '../../src/signing/index.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import type { Signer } from '../../src/signing/signer.js';
import { buildStorers } from '../../src/storage/index.js';
import { TektonStorer } from '../../src/storage/tekton.js';
import type { Run, TaskRun } from '../../src/tekton/types.js';
import { verifyMark } from '../../src/verify/mark.js';
import { FakeKube } from '../controller/fake-kube.js';

function keySigner(curve = 'P-256'): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    sign: async (d) => cryptoSign('sha256', d, privateKey),
    publicKey: () => publicKey,
    cert: () => '',
    chain: () => '',
    description: `test ${curve}`,
  };
}
const KEY = keySigner();
const OTHER_KEY = keySigner();

function doneTaskRun(annotations: Record<string, string>, uid = 'c0ffee-1', name = 'build'): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace: 'ns', uid, resourceVersion: '9', annotations },
    spec: { taskRef: { name: 'build' } },
    status: {
      podName: 'pod',
      conditions: [{ type: 'Succeeded', status: 'True' }],
      startTime: '2026-11-23T11:59:00Z',
      completionTime: '2026-11-23T12:00:00Z',
    },
  } as TaskRun;
}

/** A verifier that checks marks with `signer`'s key under `config`. */
async function verifier(signer: Signer = KEY, config: ChainsConfig = DEFAULT_CONFIG): Promise<MarkVerifier> {
  const v = new MarkVerifier();
  await v.refresh(config, async () => signer);
  return v;
}

/** The annotations chainsmith's finish patch writes for `run` (signed with `signer`). */
async function chainsmithMark(run: Run, signer: Signer = KEY): Promise<Record<string, string>> {
  const id = { kind: run.kind, namespace: run.metadata.namespace!, name: run.metadata.name!, uid: run.metadata.uid! };
  const evidence = await markEvidence(id, DEFAULT_CONFIG, async () => signer, new Date('2026-11-23T12:00:05Z'));
  const patch = finishPatch(
    { kind: 'TaskRun', resourceVersion: '9', finalizers: [] },
    { annotations: evidence, signed: true, now: new Date() },
  );
  return patch.metadata.annotations as Record<string, string>;
}

/** What Chains' (and our) tekton storage writes for the run's in-toto provenance, signed with `signer`. */
async function tektonStorage(run: TaskRun, signer: Signer = KEY): Promise<Record<string, string>> {
  const payload = payloadFormat('in-toto').createPayload({ kind: 'TaskRun', run }, DEFAULT_CONFIG);
  const signed = await signPayload(signer, payload);
  const shortKey = `taskrun-${run.metadata.uid}`;
  const stored = await new TektonStorer().store({
    run,
    payload,
    signed,
    shortKey,
    fullKey: shortKey,
    config: DEFAULT_CONFIG,
  });
  return { ...stored.annotations, 'chains.tekton.dev/signed': 'true' };
}

test('forged evidence — signed-at and a made-up signature annotation — does not make a mark trusted', async () => {
  const v = await verifier();
  const run = doneTaskRun({
    'chains.tekton.dev/signed': 'true',
    'chainsmith.dev/signed-at': '2026-11-23T12:00:01Z',
    'chains.tekton.dev/signature-taskrun-c0ffee-1': 'e30=',
    'chainsmith.dev/mark-signature': 'MEUCIQD/',
  });
  assert.equal(v.trusted(run), false);
  assert.deepEqual(decide(summarise(run, v), DEFAULT_CONFIG), { action: 'sign' });
  assert.match(
    (verifyMark(run, [KEY.publicKey()]) as { why: string }).why,
    /mark-signature does not verify.*; chains\.tekton\.dev\/signature-taskrun-c0ffee-1: not a DSSE envelope/,
  );
});

test("chainsmith's own mark verifies; the same annotations on another run, or made with another key, do not", async () => {
  const v = await verifier();
  const run = doneTaskRun({});
  run.metadata.annotations = await chainsmithMark(run);
  assert.match(run.metadata.annotations['chainsmith.dev/mark-signature']!, /^[A-Za-z0-9+/]+=*$/);
  assert.deepEqual(decide(summarise(run, v), DEFAULT_CONFIG), { action: 'none', why: 'reconciled' });
  // copied onto a run with another uid (kubectl get -o yaml | kubectl create -f -) or another name
  assert.equal(v.trusted(doneTaskRun({ ...run.metadata.annotations }, 'beef-2')), false);
  assert.equal(v.trusted(doneTaskRun({ ...run.metadata.annotations }, 'c0ffee-1', 'other')), false);
  // signed-at edited after the fact
  assert.equal(
    v.trusted(doneTaskRun({ ...run.metadata.annotations, 'chainsmith.dev/signed-at': '2020-01-01T00:00:00Z' })),
    false,
  );
  const other = doneTaskRun({});
  other.metadata.annotations = await chainsmithMark(other, OTHER_KEY);
  assert.equal(v.trusted(other), false);
});

test('a run signed by Tekton Chains with tekton storage (same key) is trusted; replayed onto another run it is not', async () => {
  const v = await verifier();
  const run = doneTaskRun({});
  run.metadata.annotations = await tektonStorage(run);
  assert.deepEqual(decide(summarise(run, v), DEFAULT_CONFIG), { action: 'none', why: 'reconciled' });
  // the same payload and signature under another run's keys: valid signature, but another run's provenance
  const victim = doneTaskRun({}, 'beef-2');
  victim.status = {
    ...victim.status,
    startTime: '2026-11-24T08:00:00Z',
    completionTime: '2026-11-24T08:03:00Z',
  } as TaskRun['status'];
  const a: Record<string, string> = { 'chains.tekton.dev/signed': 'true' };
  for (const [k, val] of Object.entries(run.metadata.annotations)) a[k.replace('c0ffee-1', 'beef-2')] = val;
  victim.metadata.annotations = a;
  assert.equal(v.trusted(victim), false);
  assert.match(
    (verifyMark(victim, [KEY.publicKey()]) as { why: string }).why,
    /another run's provenance: run-times: predicate\.metadata\.buildStartedOn/,
  );
  // signed by another key (Chains with the old key, before a rotation): signed again with the current one
  const rotated = doneTaskRun({});
  rotated.metadata.annotations = await tektonStorage(rotated, OTHER_KEY);
  assert.equal(v.trusted(rotated), false);
});

test('signer "none" leaves marks as they are; an unreadable key falls back to the evidence test', async () => {
  const forged = doneTaskRun({ 'chains.tekton.dev/signed': 'true' });
  const none = await verifier(
    KEY,
    parseChainsConfig({ 'artifacts.taskrun.signer': 'none', 'artifacts.oci.signer': 'none' }),
  );
  assert.deepEqual(none.keysFor('TaskRun'), { mode: 'none' });
  assert.equal(none.trusted(forged), true);

  const down = new MarkVerifier();
  const state = await down.refresh(DEFAULT_CONFIG, async () => Promise.reject(new Error('KMS unreachable')));
  assert.match((state.TaskRun as { why: string }).why, /x509 signer's public key could not be read: KMS unreachable/);
  assert.equal(down.trusted(forged), false);
  assert.equal(
    down.trusted(
      doneTaskRun({ 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T12:00:01Z' }),
    ),
    true,
  );
});

test('a "failed" mark needs no evidence: it never hides a run as signed', async () => {
  const run = doneTaskRun({ 'chains.tekton.dev/signed': 'failed' });
  assert.deepEqual(decide(summarise(run, await verifier()), DEFAULT_CONFIG), { action: 'none', why: 'reconciled' });
});

test('through the reconciler: a run patched with forged evidence is signed for real, once, and then left alone', async () => {
  const kube = new FakeKube();
  const marks = await verifier();
  const cache = new RunCache(undefined, marks);
  const config = parseChainsConfig({ 'artifacts.oci.storage': 'tekton' });
  const storers = buildStorers(config, { credentials: new StaticCredentialSource([]) });
  const registry = { get: async () => KEY } as unknown as SignerRegistry;
  const reconciler = new Reconciler({
    cache,
    client: kube as unknown as KubeClient,
    config: () => config,
    signing: realSigningDeps({
      signers: registry,
      storers: () => storers,
      credentials: new StaticCredentialSource([]),
    }),
    events: new MemoryEventSink(),
    metrics: new ControllerMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) }),
  });
  const forged = {
    'chains.tekton.dev/signed': 'true',
    'chainsmith.dev/signed-at': '2026-11-23T12:00:01Z',
    'chains.tekton.dev/signature-taskrun-c0ffee-1': 'e30=',
  };
  kube.put(TASKRUNS, doneTaskRun(forged) as never);
  const sync = () => {
    for (const o of kube.objects.values()) cache.upsert(structuredClone(o) as unknown as Run);
  };
  sync();
  await reconciler.process('c0ffee-1');
  sync();
  const run = kube.objects.get('taskruns/ns/build') as unknown as Run;
  const a = run.metadata.annotations!;
  assert.notEqual(a['chainsmith.dev/signed-at'], '2026-11-23T12:00:01Z', 'the forged signed-at was replaced');
  assert.ok(a['chainsmith.dev/mark-signature']);
  assert.notEqual(
    a['chains.tekton.dev/signature-taskrun-c0ffee-1'],
    'e30=',
    'the provenance was really signed and stored',
  );
  assert.equal(verifyMark(run, [KEY.publicKey()]).ok, true);
  // the new mark is trusted: a second pass writes nothing
  const writes = kube.writes.length;
  await reconciler.process('c0ffee-1');
  assert.equal(kube.writes.length, writes);
  assert.equal(cache.get('c0ffee-1')!.annotations['chains.tekton.dev/signed'], 'true');
});
