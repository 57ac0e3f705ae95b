import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, createPublicKey } from 'node:crypto';
import { DEFAULT_CONFIG, parseChainsConfig } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import { PIPELINERUNS, TASKRUNS, type KubeClient } from '../../src/kube/client.js';
import { Reconciler, type ProcessResult } from '../../src/controller/reconciler.js';
import { RunCache } from '../../src/controller/run-cache.js';
import { realSigningDeps } from '../../src/pipeline/signing-deps.js';
import type { SigningDeps } from '../../src/pipeline/sign-run.js';
import { ChainsmithError } from '../../src/errors.js';
import { MemoryEventSink } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';
import { ControllerMetrics } from '../../src/observability/metrics.js';
import { pae } from '../../src/sigstore/dsse.js';
import type { SignerRegistry } from '../../src/signing/index.js';
import type { Signer } from '../../src/signing/signer.js';
import { buildStorers } from '../../src/storage/index.js';
import { StaticCredentialSource } from '../../src/kube/registry-credentials.js';
import type { Run } from '../../src/tekton/types.js';
import { FakeKube } from './fake-kube.js';
import { Writable } from 'node:stream';

const DIGEST = 'sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';

function ecSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    sign: async (data) => (await import('node:crypto')).sign('sha256', data, privateKey),
    publicKey: () => publicKey,
    cert: () => '',
    chain: () => '',
    description: 'test P-256 key',
  };
}

function taskRun(
  name: string,
  results: Array<{ name: string; value: string }> = [],
  extra: Partial<Run['metadata']> = {},
): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, ...extra },
    spec: { taskRef: { name: 'build' } },
    status: {
      podName: `${name}-pod`,
      startTime: '2026-11-23T12:00:00Z',
      completionTime: '2026-11-23T12:00:42Z',
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      results: results.map((r) => ({ ...r, type: 'string' as const })),
    },
  } as Run;
}

interface Harness {
  kube: FakeKube;
  cache: RunCache;
  events: MemoryEventSink;
  reconciler: Reconciler;
  signer: Signer;
  setConfig(c: ChainsConfig): void;
  /** simulates the watch: the cache catches up with the store */
  sync(): void;
  process(uid: string): Promise<ProcessResult>;
  obj(name: string, kind?: 'TaskRun' | 'PipelineRun'): Run;
  now: { t: number };
}

function harness(
  opts: { failSigner?: () => Error | undefined; config?: ChainsConfig; childWaitMs?: number } = {},
): Harness {
  const kube = new FakeKube();
  const cache = new RunCache();
  const events = new MemoryEventSink();
  let config =
    opts.config ??
    parseChainsConfig({ 'artifacts.oci.storage': 'tekton', 'builder.id': 'https://example.com/builder' });
  let storers = buildStorers(config, { credentials: new StaticCredentialSource([]) });
  const signer = ecSigner();
  const registry = {
    get: async () => {
      const err = opts.failSigner?.();
      if (err) throw err;
      return signer;
    },
  } as unknown as SignerRegistry;
  const signing: SigningDeps = realSigningDeps({
    signers: registry,
    storers: () => storers,
    credentials: new StaticCredentialSource([]),
  });
  const now = { t: Date.parse('2026-11-23T12:01:00Z') };
  const logger = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  const reconciler = new Reconciler({
    cache,
    client: kube as unknown as KubeClient,
    config: () => config,
    signing,
    events,
    metrics: new ControllerMetrics({ defaultMetrics: false }),
    logger,
    childWaitMs: opts.childWaitMs ?? 30_000,
    now: () => now.t,
  });
  const h: Harness = {
    kube,
    cache,
    events,
    reconciler,
    signer,
    now,
    setConfig: (c) => {
      config = c;
      storers = buildStorers(c, { credentials: new StaticCredentialSource([]) });
    },
    sync: () => {
      for (const [key, o] of kube.objects) {
        if (key.startsWith('taskruns/') || key.startsWith('pipelineruns/'))
          cache.upsert(structuredClone(o) as unknown as Run);
      }
    },
    process: async (uid) => {
      h.sync();
      const r = await reconciler.process(uid);
      h.sync();
      return r;
    },
    obj: (name, kind = 'TaskRun') =>
      kube.objects.get(`${kind === 'TaskRun' ? 'taskruns' : 'pipelineruns'}/ns/${name}`) as unknown as Run,
  };
  return h;
}

test('a completed TaskRun is signed with two writes: finalizer on, then one patch with every annotation, the mark and the finalizer off', async () => {
  const h = harness();
  h.kube.put(
    TASKRUNS,
    taskRun('build', [
      { name: 'IMAGE_URL', value: '127.0.0.1:5000/app' },
      { name: 'IMAGE_DIGEST', value: DIGEST },
    ]) as never,
  );
  assert.deepEqual(await h.process('uid-build'), { kind: 'done' });
  assert.equal(h.kube.writes.length, 2);
  assert.deepEqual((h.kube.writes[0]!.body as { metadata: { finalizers: string[] } }).metadata.finalizers, [
    'chains.tekton.dev/taskrun',
  ]);
  const run = h.obj('build');
  const a = run.metadata.annotations!;
  assert.equal(a['chains.tekton.dev/signed'], 'true');
  assert.match(a['chainsmith.dev/signed-at']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(run.metadata.finalizers, []);
  // the attestation: the statement names the image and the configured builder, and the DSSE signature verifies
  const statement = JSON.parse(Buffer.from(a['chains.tekton.dev/payload-taskrun-uid-build']!, 'base64').toString());
  assert.equal(statement.predicate.builder.id, 'https://example.com/builder');
  assert.deepEqual(statement.subject, [{ name: '127.0.0.1:5000/app', digest: { sha256: DIGEST.slice(7) } }]);
  const envelope = JSON.parse(Buffer.from(a['chains.tekton.dev/signature-taskrun-uid-build']!, 'base64').toString());
  const ok = verify(
    'sha256',
    pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64')),
    h.signer.publicKey(),
    Buffer.from(envelope.signatures[0].sig, 'base64'),
  );
  assert.ok(ok, 'DSSE signature verifies');
  // the image signature (artifacts.oci.storage: tekton) under the digest's short key
  const simple = JSON.parse(Buffer.from(a['chains.tekton.dev/payload-4d6dd704ef58']!, 'base64').toString());
  assert.equal(simple.critical.image['docker-manifest-digest'], DIGEST);
  assert.ok(
    verify(
      'sha256',
      Buffer.from(a['chains.tekton.dev/payload-4d6dd704ef58']!, 'base64'),
      createPublicKey(h.signer.publicKey().export({ format: 'pem', type: 'spki' })),
      Buffer.from(a['chains.tekton.dev/signature-4d6dd704ef58']!, 'base64'),
    ),
  );
  assert.deepEqual(
    h.events.events.map((e) => e.reason),
    ['Signed'],
  );
  // processing again does nothing
  assert.deepEqual(await h.process('uid-build'), { kind: 'done' });
  assert.equal(h.kube.writes.length, 2);
});

test('a run seen while running gets the finalizer then; from completion to signed is one write', async () => {
  const h = harness();
  const running = taskRun('live', [{ name: 'IMAGE_URL', value: 'registry.example/app' }]);
  running.status = { podName: 'p', conditions: [{ type: 'Succeeded', status: 'Unknown' }] } as never;
  h.kube.put(TASKRUNS, running as never);
  await h.process('uid-live');
  assert.equal(h.kube.writes.length, 1);
  assert.deepEqual(h.obj('live').metadata.finalizers, ['chains.tekton.dev/taskrun']);
  assert.equal(h.obj('live').metadata.annotations?.['chains.tekton.dev/signed'], undefined, 'not signed while running');
  const done = structuredClone(h.obj('live')) as Run;
  done.status = taskRun('x').status as never;
  h.kube.put(TASKRUNS, done as never);
  h.kube.writes.length = 0;
  assert.deepEqual(await h.process('uid-live'), { kind: 'done' });
  assert.deepEqual(
    h.kube.writes.map((w) => w.verb),
    ['patch'],
    'one patch marks the run and removes the finalizer',
  );
  assert.equal(h.obj('live').metadata.annotations!['chains.tekton.dev/signed'], 'true');
  assert.deepEqual(h.obj('live').metadata.finalizers, []);
});

test('a stale cache gets 409 and the reconcile continues from the live object', async () => {
  const h = harness();
  h.kube.put(
    TASKRUNS,
    taskRun('build', [
      { name: 'IMAGE_URL', value: '127.0.0.1:5000/app' },
      { name: 'IMAGE_DIGEST', value: DIGEST },
    ]) as never,
  );
  h.sync();
  // someone else changes the run after our cache saw it
  const live = h.obj('build');
  live.metadata.labels = { touched: 'yes' };
  h.kube.put(TASKRUNS, live as never);
  assert.deepEqual(await h.reconciler.process('uid-build'), { kind: 'done' });
  const run = h.obj('build');
  assert.equal(run.metadata.annotations!['chains.tekton.dev/signed'], 'true');
  assert.equal(run.metadata.labels!.touched, 'yes');
  assert.deepEqual(run.metadata.finalizers, []);
});

test('a run with no artifacts still gets its provenance signed (signed "true" is honest) and a NoArtifacts Event', async () => {
  const h = harness();
  h.kube.put(TASKRUNS, taskRun('plain') as never);
  await h.process('uid-plain');
  const a = h.obj('plain').metadata.annotations!;
  assert.equal(a['chains.tekton.dev/signed'], 'true');
  assert.ok(a['chains.tekton.dev/payload-taskrun-uid-plain']);
  assert.deepEqual(h.events.events.map((e) => e.reason).sort(), ['NoArtifacts', 'Signed']);
});

test('misnamed results are reported as InvalidResult with the finding', async () => {
  const h = harness();
  h.kube.put(
    TASKRUNS,
    taskRun('typo', [
      { name: 'IMAGE_URL', value: '127.0.0.1:5000/app' },
      { name: 'IMAGE_DIGEST', value: 'sha256:1234' },
    ]) as never,
  );
  await h.process('uid-typo');
  const invalid = h.events.events.find((e) => e.reason === 'InvalidResult');
  assert.ok(invalid, JSON.stringify(h.events.events));
  assert.match(invalid.note, /IMAGE_DIGEST/);
});

test('when every artifact type is disabled: no finalizer, no signed mark, one SigningDisabled Event', async () => {
  const h = harness({
    config: parseChainsConfig({ 'artifacts.taskrun.signer': 'none', 'artifacts.oci.signer': 'none' }),
  });
  h.kube.put(TASKRUNS, taskRun('off') as never);
  await h.process('uid-off');
  await h.process('uid-off');
  assert.equal(h.kube.writes.length, 0);
  assert.equal(h.obj('off').metadata.annotations?.['chains.tekton.dev/signed'], undefined);
  assert.deepEqual(
    h.events.events.map((e) => e.reason),
    ['SigningDisabled'],
  );
});

test('a permanent signing failure counts retries like Chains, then marks failed and lets the run go; a config change re-arms it', async () => {
  let fail = true;
  const h = harness({
    failSigner: () => (fail ? new ChainsmithError('KeyDecryptFailed', 'cosign.key: wrong password') : undefined),
  });
  h.kube.put(TASKRUNS, taskRun('bad') as never);
  const seen: Array<string | undefined> = [];
  for (let i = 0; i < 5; i++) {
    const r = await h.process('uid-bad');
    h.reconciler.holdUntil('uid-bad', 0);
    const a = h.obj('bad').metadata.annotations ?? {};
    seen.push(a['chains.tekton.dev/signed'] ?? a['chains.tekton.dev/retries']);
    if (i < 4) assert.deepEqual(r, { kind: 'retry' });
    else assert.deepEqual(r, { kind: 'done' });
  }
  assert.deepEqual(seen, ['0', '1', '2', '3', 'failed']);
  const run = h.obj('bad');
  assert.deepEqual(run.metadata.finalizers, []);
  assert.match(
    run.metadata.annotations!['chainsmith.dev/last-failure']!,
    /^KeyDecryptFailed: cosign.key: wrong password/,
  );
  const reasons = h.events.events.map((e) => e.reason);
  assert.equal(reasons.filter((r) => r === 'SigningFailed').length, 5);
  assert.equal(reasons.at(-1), 'MarkedFailed');
  // fixed keys → re-armed → signed
  fail = false;
  h.reconciler.requestRearm('uid-bad');
  await h.process('uid-bad');
  assert.equal(h.obj('bad').metadata.annotations?.['chains.tekton.dev/signed'], undefined);
  await h.process('uid-bad');
  assert.equal(h.obj('bad').metadata.annotations!['chains.tekton.dev/signed'], 'true');
  assert.equal(h.obj('bad').metadata.annotations!['chainsmith.dev/last-failure'], undefined);
});

test('transient failures inside the retry horizon write nothing', async () => {
  const h = harness({
    failSigner: () => new ChainsmithError('KmsUnavailable', 'kms: connection refused', { transient: true }),
  });
  h.kube.put(TASKRUNS, taskRun('flaky') as never);
  await h.process('uid-flaky'); // finalizer write, then a quiet retry
  h.reconciler.holdUntil('uid-flaky', 0);
  await h.process('uid-flaky');
  assert.equal(h.kube.writes.length, 1, 'only the finalizer');
  assert.equal(h.obj('flaky').metadata.annotations?.['chains.tekton.dev/retries'], undefined);
  assert.deepEqual(
    h.events.events.map((e) => e.reason),
    ['SigningFailed'],
    'one Event for the start of the outage',
  );
  // past the horizon it counts
  h.now.t += DEFAULT_CONFIG.chainsmith.retryHorizonSeconds * 1000;
  h.reconciler.holdUntil('uid-flaky', 0);
  await h.process('uid-flaky');
  assert.equal(h.obj('flaky').metadata.annotations?.['chains.tekton.dev/retries'], '0');
});

function pipelineRun(name: string, children: Array<{ kind?: string; name: string }>): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: { pipelineRef: { name: 'p' } },
    status: {
      startTime: '2026-11-23T12:00:00Z',
      completionTime: '2026-11-23T12:01:30Z',
      conditions: [{ type: 'Succeeded', status: 'True' }],
      childReferences: children.map((c) => ({
        apiVersion: 'tekton.dev/v1',
        kind: c.kind ?? 'TaskRun',
        name: c.name,
        pipelineTaskName: c.name,
      })),
    },
  } as Run;
}

test('a PipelineRun waits for its child TaskRuns to be signed, then is signed', async () => {
  const h = harness();
  h.kube.put(TASKRUNS, taskRun('child') as never);
  h.kube.put(PIPELINERUNS, pipelineRun('pr', [{ name: 'child' }]) as never);
  const r = await h.process('uid-pr');
  assert.equal(r.kind, 'after');
  assert.equal(h.kube.writes.length, 1, 'only the finalizer while waiting (so a deletion meanwhile cannot lose it)');
  assert.deepEqual(h.obj('pr', 'PipelineRun').metadata.finalizers, ['chains.tekton.dev/pipelinerun']);
  assert.ok(h.reconciler.waitingParents.get('ns/child')?.has('uid-pr'));
  await h.process('uid-child');
  assert.equal(h.obj('child').metadata.annotations!['chains.tekton.dev/signed'], 'true');
  assert.deepEqual(await h.process('uid-pr'), { kind: 'done' });
  const pr = h.obj('pr', 'PipelineRun');
  assert.equal(pr.metadata.annotations!['chains.tekton.dev/signed'], 'true');
  assert.ok(pr.metadata.annotations!['chains.tekton.dev/payload-pipelinerun-uid-pr']);
  assert.deepEqual(pr.metadata.finalizers, []);
});

test('a PipelineRun reads its signed children back with one labelled list, not one GET each', async () => {
  const h = harness();
  const names = ['c1', 'c2', 'c3'];
  for (const n of names) {
    h.kube.put(TASKRUNS, taskRun(n, [], { labels: { 'tekton.dev/pipelineRun': 'pr' } }) as never);
    await h.process(`uid-${n}`);
  }
  h.kube.put(
    PIPELINERUNS,
    pipelineRun(
      'pr',
      names.map((name) => ({ name })),
    ) as never,
  );
  h.kube.reads.length = 0;
  assert.deepEqual(await h.process('uid-pr'), { kind: 'done' });
  const childReads = h.kube.reads.filter((r) => r.includes('taskruns'));
  assert.deepEqual(childReads, ['list taskruns?tekton.dev/pipelineRun=pr']);
  assert.equal(h.obj('pr', 'PipelineRun').metadata.annotations!['chains.tekton.dev/signed'], 'true');
});

test('a missing child and a CustomRun child do not block a PipelineRun forever: signed after the wait, with ChildRunMissing', async () => {
  const h = harness({ childWaitMs: 5000 });
  h.kube.put(PIPELINERUNS, pipelineRun('pr2', [{ name: 'gone' }, { kind: 'CustomRun', name: 'approval' }]) as never);
  const r = await h.process('uid-pr2');
  assert.deepEqual(r, { kind: 'after', ms: 5000 });
  h.now.t += 5000;
  assert.deepEqual(await h.process('uid-pr2'), { kind: 'done' });
  assert.equal(h.obj('pr2', 'PipelineRun').metadata.annotations!['chains.tekton.dev/signed'], 'true');
  const missing = h.events.events.find((e) => e.reason === 'ChildRunMissing');
  assert.ok(missing);
  assert.match(missing.note, /TaskRun gone not found/);
  assert.match(missing.note, /CustomRun approval not included/);
});

test('a run deleted while unsigned keeps being signed through our finalizer; one deleted before it finished is let go', async () => {
  const h = harness();
  h.kube.put(
    TASKRUNS,
    taskRun('del', [], {
      finalizers: ['chains.tekton.dev/taskrun'],
      deletionTimestamp: '2026-11-23T12:00:50Z',
    }) as never,
  );
  await h.process('uid-del');
  assert.equal(h.kube.writes.length, 1, 'no finalizer add on a deleting run: one patch signs and releases');
  assert.equal(h.obj('del').metadata.annotations!['chains.tekton.dev/signed'], 'true');
  assert.deepEqual(h.obj('del').metadata.finalizers, []);
  const running = taskRun('running', [], {
    finalizers: ['chains.tekton.dev/taskrun'],
    deletionTimestamp: '2026-11-23T12:00:50Z',
  });
  running.status = { podName: 'p', conditions: [{ type: 'Succeeded', status: 'Unknown' }] } as never;
  h.kube.put(TASKRUNS, running as never);
  await h.process('uid-running');
  assert.deepEqual(h.obj('running').metadata.finalizers, []);
  assert.equal(h.obj('running').metadata.annotations?.['chains.tekton.dev/signed'], undefined);
});

test('one malformed run does not throw out of process()', async () => {
  const h = harness();
  const broken = taskRun('broken');
  (broken.status as Record<string, unknown>).results = 'not-a-list';
  h.kube.put(TASKRUNS, broken as never);
  const r = await h.process('uid-broken');
  assert.ok(r.kind === 'retry' || r.kind === 'done');
});
