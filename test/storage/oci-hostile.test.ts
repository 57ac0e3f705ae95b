// The controller path with hostile input: a run whose IMAGE_URL leaves /v2/, and a malicious registry (a loopback
// node:http server) behind a well-formed IMAGE_URL. The reconciler (real signing deps, real OciStorer) must
// report an Event, not sign the image, never send the registry credentials outside /v2/<name>/, and finish
// each reconcile in bounded time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { StorageName } from '../../src/config/types.js';
import { TASKRUNS, type KubeClient } from '../../src/kube/client.js';
import { Reconciler } from '../../src/controller/reconciler.js';
import { RunCache } from '../../src/controller/run-cache.js';
import { realSigningDeps } from '../../src/pipeline/signing-deps.js';
import { StaticCredentialSource, type DockerConfigJson } from '../../src/kube/registry-credentials.js';
import { MemoryEventSink } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';
import { ControllerMetrics } from '../../src/observability/metrics.js';
import type { SignerRegistry } from '../../src/signing/index.js';
import type { Signer } from '../../src/signing/signer.js';
import { OciStorer } from '../../src/storage/oci.js';
import type { Storer } from '../../src/storage/storer.js';
import { TektonStorer } from '../../src/storage/tekton.js';
import type { Run } from '../../src/tekton/types.js';
import { FakeKube } from '../controller/fake-kube.js';
import { hostileRegistry, HOSTILE_PASSWORD } from '../oci/hostile-registry.js';

const DIGEST = 'sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';

function signer(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    sign: async (d) => sign('sha256', d, privateKey),
    publicKey: () => publicKey,
    cert: () => '',
    chain: () => '',
    description: 'test key',
  };
}

function taskRun(imageUrl: string): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'build', namespace: 'ns', uid: 'uid-build' },
    spec: { taskRef: { name: 'build' } },
    status: {
      podName: 'build-pod',
      startTime: '2026-11-23T12:00:00Z',
      completionTime: '2026-11-23T12:00:42Z',
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      results: [
        { name: 'IMAGE_URL', value: imageUrl, type: 'string' },
        { name: 'IMAGE_DIGEST', value: DIGEST, type: 'string' },
      ],
    },
  } as Run;
}

type StoreOptions = Pick<ConstructorParameters<typeof OciStorer>[0], 'operationDeadlineMs' | 'timeoutMs' | 'retry'>;

/** Reconciles one run: image signatures stored in `oci` with credentials for the hostile registry. */
async function reconcile(run: Run, dockerConfig: DockerConfigJson, oci: StoreOptions = {}) {
  const kube = new FakeKube();
  const cache = new RunCache();
  const events = new MemoryEventSink();
  const config = parseChainsConfig({ 'artifacts.oci.storage': 'oci' });
  const credentials = new StaticCredentialSource([dockerConfig]);
  const storers = new Map<StorageName, Storer>([
    ['oci', new OciStorer({ credentials, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, ...oci })],
    ['tekton', new TektonStorer()],
  ]);
  const s = signer();
  const signers = { get: async () => s } as unknown as SignerRegistry;
  const reconciler = new Reconciler({
    cache,
    client: kube as unknown as KubeClient,
    config: () => config,
    signing: realSigningDeps({ signers, storers: () => storers, credentials }),
    events,
    metrics: new ControllerMetrics({ defaultMetrics: false }),
    logger: createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) }),
    childWaitMs: 30_000,
    now: () => Date.parse('2026-11-23T12:01:00Z'),
  });
  kube.put(TASKRUNS, run as never);
  const sync = () => {
    for (const [key, o] of kube.objects) {
      if (key.startsWith('taskruns/')) cache.upsert(structuredClone(o) as unknown as Run);
    }
  };
  sync();
  const result = await reconciler.process('uid-build');
  sync();
  const stored = kube.objects.get('taskruns/ns/build') as unknown as Run;
  return { result, events: events.events, annotations: stored.metadata.annotations ?? {} };
}

test('an IMAGE_URL leaving /v2/ (registry/../escape): InvalidResult Event, image not signed, registry not asked', async () => {
  const reg = await hostileRegistry((_req, res) => {
    res.writeHead(404, { 'content-length': '0' });
    res.end();
  });
  try {
    const { events, annotations } = await reconcile(taskRun(`${reg.registry}/../escape`), reg.dockerConfig);
    const invalid = events.find((e) => e.reason === 'InvalidResult');
    assert.ok(invalid, JSON.stringify(events));
    assert.match(invalid.note, /IMAGE_URL/);
    assert.equal(annotations['chains.tekton.dev/signature-4d6dd704ef58'], undefined, 'no image signature');
    assert.deepEqual(reg.seen, [], 'no request reached the registry');
  } finally {
    await reg.close();
  }
});

test('a registry whose upload Location leaves /v2/<name>/ gets a StorageFailed Event and no credentials', async () => {
  const reg = await hostileRegistry((req, res) => {
    if (req.method === 'POST') res.writeHead(202, { location: '/escape/admin/upload', 'content-length': '0' });
    else if (req.method === 'PUT' && req.url!.startsWith('/escape/')) res.writeHead(201, { 'content-length': '0' });
    else res.writeHead(404, { 'content-length': '0' });
    res.end();
  });
  try {
    const { result, events, annotations } = await reconcile(taskRun(`${reg.registry}/team/app`), reg.dockerConfig);
    assert.notEqual(result.kind, 'done');
    const failed = events.find((e) => e.reason === 'StorageFailed');
    assert.ok(failed, JSON.stringify(events));
    assert.match(failed.note, /Location/);
    assert.ok(!failed.note.includes(HOSTILE_PASSWORD));
    assert.notEqual(annotations['chains.tekton.dev/signed'], 'true');
    assert.deepEqual(reg.leaks('team/app'), []);
  } finally {
    await reg.close();
  }
});

const SILENT = 'a registry that never answers costs one reconcile at most the store deadline';
test(`${SILENT}, then a StorageFailed Event`, { timeout: 20_000 }, async () => {
  const reg = await hostileRegistry(() => undefined, { challenge: false });
  try {
    const started = Date.now();
    const { result, events } = await reconcile(taskRun(`${reg.registry}/team/app`), reg.dockerConfig, {
      operationDeadlineMs: 1500,
      timeoutMs: 700,
      // without the store deadline, 10 attempts of 700 ms each would hold the reconcile for over 7 s
      retry: { attempts: 10, baseDelayMs: 20, maxDelayMs: 40 },
    });
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
    assert.notEqual(result.kind, 'done');
    assert.ok(
      events.some((e) => e.reason === 'StorageFailed'),
      JSON.stringify(events),
    );
  } finally {
    await reg.close();
  }
});
