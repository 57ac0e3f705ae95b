import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign, verify } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import { TASKRUNS, type KubeClient } from '../../src/kube/client.js';
import type { PolicyResolution } from '../../src/controller/policy-store.js';
import { Reconciler, type ProcessResult } from '../../src/controller/reconciler.js';
import { RunCache } from '../../src/controller/run-cache.js';
import { realSigningDeps } from '../../src/pipeline/signing-deps.js';
import { MemoryEventSink } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';
import { ControllerMetrics } from '../../src/observability/metrics.js';
import { policyConfig } from '../../src/policy/verdict.js';
import type { PolicyConfig, SigningPolicy } from '../../src/policy/types.js';
import { pae } from '../../src/sigstore/dsse.js';
import type { SignerRegistry } from '../../src/signing/index.js';
import type { Signer } from '../../src/signing/signer.js';
import { buildStorers } from '../../src/storage/index.js';
import { StaticCredentialSource } from '../../src/kube/registry-credentials.js';
import {
  MARK_SIGNATURE_ANNOTATION,
  POLICY_SIGNER_ANNOTATION,
  SIGNING_POLICY_ANNOTATION,
} from '../../src/tekton/annotations.js';
import type { Run } from '../../src/tekton/types.js';
import { verifyMark } from '../../src/verify/mark.js';
import { FakeKube } from './fake-kube.js';

const BASE = { 'artifacts.oci.storage': 'tekton', 'builder.id': 'https://ci.example.com/cluster' };

function ecSigner(description: string): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    sign: async (data) => cryptoSign('sha256', data, privateKey),
    publicKey: () => publicKey,
    cert: () => '',
    chain: () => '',
    description,
  };
}

function taskRun(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace: 'team-a', uid: `uid-${name}`, labels, annotations },
    spec: { taskRef: { name: 'build' } },
    status: {
      podName: `${name}-pod`,
      startTime: '2026-11-23T12:00:00Z',
      completionTime: '2026-11-23T12:00:42Z',
      conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
      results: [],
    },
  } as Run;
}

const POLICY: SigningPolicy = {
  metadata: { name: 'payments', namespace: 'team-a', uid: 'p-1', generation: 3 },
  spec: {
    selector: { matchLabels: { app: 'payments' } },
    signer: { x509: { secretName: 'team-a-signing' } },
    builderId: 'https://ci.example.com/team-a',
  },
};

interface Harness {
  kube: FakeKube;
  events: MemoryEventSink;
  metrics: ControllerMetrics;
  baseSigner: Signer;
  policySigner: Signer;
  /** the configs the signer registry was asked for, in order */
  asked: Array<{ name: string; config: PolicyConfig }>;
  /** the labels the reconciler resolved runs with */
  resolved: Array<Record<string, string>>;
  resolution: { current: PolicyResolution; has: boolean };
  process(uid: string): Promise<ProcessResult>;
  obj(name: string): Run;
}

function harness(): Harness {
  const kube = new FakeKube();
  const cache = new RunCache();
  const events = new MemoryEventSink();
  const config: ChainsConfig = parseChainsConfig(BASE);
  const storers = buildStorers(config, { credentials: new StaticCredentialSource([]) }, ['tekton', 'oci']);
  const baseSigner = ecSigner('cluster key');
  const policySigner = ecSigner('team-a key');
  const asked: Harness['asked'] = [];
  const registry = {
    get: async (name: string, c: PolicyConfig) => {
      asked.push({ name, config: c });
      return c.policy ? policySigner : baseSigner;
    },
  } as unknown as SignerRegistry;
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  const resolved: Harness['resolved'] = [];
  const resolution: Harness['resolution'] = { current: { kind: 'default' }, has: true };
  const reconciler = new Reconciler({
    cache,
    client: kube as unknown as KubeClient,
    config: () => config,
    policies: {
      has: (ns) => resolution.has && ns === 'team-a',
      resolve: (_ns, labels) => {
        resolved.push(labels);
        return resolution.current;
      },
    },
    signing: realSigningDeps({
      signers: registry,
      storers: () => storers,
      credentials: new StaticCredentialSource([]),
    }),
    events,
    metrics,
    logger: createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) }),
    now: () => Date.parse('2026-11-23T12:01:00Z'),
  });
  const sync = () => {
    for (const [key, o] of kube.objects)
      if (key.startsWith('taskruns/')) cache.upsert(structuredClone(o) as unknown as Run);
  };
  return {
    kube,
    events,
    metrics,
    baseSigner,
    policySigner,
    asked,
    resolved,
    resolution,
    process: async (uid) => {
      sync();
      const r = await reconciler.process(uid);
      sync();
      return r;
    },
    obj: (name) => kube.objects.get(`taskruns/team-a/${name}`) as unknown as Run,
  };
}

function policyResolution(): Extract<PolicyResolution, { kind: 'policy' }> {
  return {
    kind: 'policy',
    policy: POLICY,
    config: policyConfig(POLICY, BASE, parseChainsConfig),
    signer: 'secret/team-a-signing',
  };
}

type Patch = { metadata: { annotations?: Record<string, string | null> } };

function finalPatch(kube: FakeKube): Patch {
  const w = kube.writes.find((w) => (w.body as Patch).metadata.annotations?.['chains.tekton.dev/signed'] !== undefined);
  assert.ok(w, JSON.stringify(kube.writes));
  return w.body as Patch;
}

async function counter(c: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> }) {
  return (await c.get()).values.map((v) => ({ ...v.labels, value: v.value }));
}

test('a run selected by a policy is signed with the policy’s config; the mark with the cluster’s signer', async () => {
  const h = harness();
  h.resolution.current = policyResolution();
  h.kube.put(TASKRUNS, taskRun('build', { app: 'payments' }) as never);
  assert.deepEqual(await h.process('uid-build'), { kind: 'done' });
  assert.deepEqual(h.resolved, [{ app: 'payments' }], 'resolved once, with the run’s labels');

  // the artifacts: signed under the policy's config (its binding names the Secret), the mark under chains-config's
  const withPolicy = h.asked.filter((a) => a.config.policy !== undefined);
  const without = h.asked.filter((a) => a.config.policy === undefined);
  assert.ok(withPolicy.length >= 1, 'the provenance is signed with the policy signer');
  assert.equal(withPolicy[0]!.config.policy?.secretName, 'team-a-signing');
  assert.equal(withPolicy[0]!.config.builder.id, 'https://ci.example.com/team-a');
  assert.equal(without.length, 1, 'one signer asked for with chains-config alone: the mark');
  assert.equal(h.asked.at(-1)!.config.policy, undefined, 'the mark is made last');
  assert.equal(without[0]!.config.builder.id, 'https://ci.example.com/cluster');

  // one patch marks the run and names the policy and its signer
  const patch = finalPatch(h.kube);
  const a = patch.metadata.annotations!;
  assert.equal(a['chains.tekton.dev/signed'], 'true');
  assert.equal(a[SIGNING_POLICY_ANNOTATION], 'payments');
  assert.equal(a[POLICY_SIGNER_ANNOTATION], 'secret/team-a-signing');
  assert.ok(a[MARK_SIGNATURE_ANNOTATION]);

  const run = h.obj('build');
  const stored = run.metadata.annotations!;
  // the provenance: the policy's builder id, signed by the policy's key
  const statement = JSON.parse(
    Buffer.from(stored['chains.tekton.dev/payload-taskrun-uid-build']!, 'base64').toString(),
  );
  assert.equal(statement.predicate.builder.id, 'https://ci.example.com/team-a');
  const envelope = JSON.parse(
    Buffer.from(stored['chains.tekton.dev/signature-taskrun-uid-build']!, 'base64').toString(),
  );
  const message = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
  assert.ok(verify('sha256', message, h.policySigner.publicKey(), sig), 'the team key signed the provenance');
  assert.ok(!verify('sha256', message, h.baseSigner.publicKey(), sig));
  // the mark: the cluster key verifies it, whichever team signed the artifacts
  assert.deepEqual(verifyMark(run, [h.baseSigner.publicKey()]), { ok: true, via: MARK_SIGNATURE_ANNOTATION });

  const signed = h.events.events.find((e) => e.reason === 'Signed');
  assert.ok(signed);
  assert.match(signed.note, /under SigningPolicy payments \(secret\/team-a-signing\)/);
  assert.deepEqual(await counter(h.metrics.policySigned), [{ namespace: 'team-a', policy: 'payments', value: 1 }]);
});

for (const reason of ['PolicyConflict', 'PolicyRefused'] as const) {
  test(`a ${reason} resolution records a failure with that reason and an Event, and signs nothing`, async () => {
    const h = harness();
    const message =
      reason === 'PolicyConflict'
        ? 'SigningPolicies a, b of namespace "team-a" select this run with the same specificity (1)'
        : 'SigningPolicy team-a/a is refused: Secret "x" is not granted to namespace "team-a"';
    h.resolution.current = {
      kind: 'blocked',
      reason,
      message,
      policies: reason === 'PolicyConflict' ? ['a', 'b'] : ['a'],
    };
    h.kube.put(TASKRUNS, taskRun('blocked', { app: 'payments' }) as never);
    assert.deepEqual(await h.process('uid-blocked'), { kind: 'retry' });
    assert.deepEqual(h.asked, [], 'no signer asked for: nothing signed, not even the mark');
    const run = h.obj('blocked');
    const a = run.metadata.annotations!;
    assert.equal(a['chains.tekton.dev/signed'], undefined);
    assert.equal(a['chains.tekton.dev/retries'], '0');
    assert.equal(
      a['chainsmith.dev/last-failure']!.startsWith(`${reason}: ${message}`),
      true,
      a['chainsmith.dev/last-failure'],
    );
    assert.equal(a[SIGNING_POLICY_ANNOTATION], undefined);
    assert.equal(h.kube.writes.length, 1, 'only the failure is written');
    const event = h.events.events.find((e) => e.reason === reason);
    assert.ok(event, JSON.stringify(h.events.events));
    assert.equal(event.type, 'Warning');
    assert.match(event.note, new RegExp(`^${reason}: `));
    assert.ok(event.note.includes(message));
    assert.deepEqual(
      await counter(h.metrics.policyBlocked),
      (reason === 'PolicyConflict' ? ['a', 'b'] : ['a']).map((policy) => ({
        namespace: 'team-a',
        policy,
        reason,
        value: 1,
      })),
    );
  });
}

test('a run signed again under chains-config alone loses its stale policy annotations in the same patch', async () => {
  const h = harness();
  h.resolution.current = { kind: 'default' };
  // e.g. signed under a policy earlier, its mark no longer trusted (key rotation), the policy deleted since
  h.kube.put(
    TASKRUNS,
    taskRun(
      'again',
      { app: 'payments' },
      { [SIGNING_POLICY_ANNOTATION]: 'payments', [POLICY_SIGNER_ANNOTATION]: 'secret/team-a-signing' },
    ) as never,
  );
  assert.deepEqual(await h.process('uid-again'), { kind: 'done' });
  assert.ok(h.asked.length > 0 && h.asked.every((a) => a.config.policy === undefined), 'chains-config’s signer only');
  const a = finalPatch(h.kube).metadata.annotations!;
  assert.equal(a['chains.tekton.dev/signed'], 'true');
  assert.equal(a[SIGNING_POLICY_ANNOTATION], null);
  assert.equal(a[POLICY_SIGNER_ANNOTATION], null);
  const stored = h.obj('again').metadata.annotations!;
  assert.equal(stored[SIGNING_POLICY_ANNOTATION], undefined);
  assert.equal(stored[POLICY_SIGNER_ANNOTATION], undefined);
  assert.equal(stored['chains.tekton.dev/signed'], 'true');
  assert.match(h.events.events.find((e) => e.reason === 'Signed')!.note, /^signed (?!.*SigningPolicy)/);
});

test('a run signed under chains-config with no policy annotations gets no nulls for them', async () => {
  const h = harness();
  h.resolution.has = false;
  h.kube.put(TASKRUNS, taskRun('plain') as never);
  assert.deepEqual(await h.process('uid-plain'), { kind: 'done' });
  assert.deepEqual(h.resolved, [], 'a namespace without policies is not resolved');
  const a = finalPatch(h.kube).metadata.annotations!;
  assert.equal(SIGNING_POLICY_ANNOTATION in a, false);
  assert.equal(POLICY_SIGNER_ANNOTATION in a, false);
});

test('a run already signed is not resolved again', async () => {
  const h = harness();
  h.resolution.current = policyResolution();
  h.kube.put(TASKRUNS, taskRun('build', { app: 'payments' }) as never);
  await h.process('uid-build');
  const writes = h.kube.writes.length;
  h.resolution.current = { kind: 'blocked', reason: 'PolicyConflict', message: 'x', policies: ['a'] };
  assert.deepEqual(await h.process('uid-build'), { kind: 'done' });
  assert.equal(h.kube.writes.length, writes);
  assert.equal(h.resolved.length, 1);
  assert.equal(h.obj('build').metadata.annotations![SIGNING_POLICY_ANNOTATION], 'payments');
});

test('stale policy annotations are removed even when the final patch meets a 409 and is rebuilt from the live run', async () => {
  const h = harness();
  h.resolution.current = { kind: 'default' };
  h.kube.put(
    TASKRUNS,
    taskRun(
      'raced',
      {},
      { [SIGNING_POLICY_ANNOTATION]: 'payments', [POLICY_SIGNER_ANNOTATION]: 'secret/team-a-signing' },
    ) as never,
  );
  let patches = 0;
  h.kube.beforePatch = () => {
    // the second patch is the final one (the first puts the finalizer on): someone else writes the run first
    if (++patches !== 2) return;
    const live = structuredClone(h.obj('raced'));
    live.metadata.labels = { touched: 'yes' };
    h.kube.put(TASKRUNS, live as never);
  };
  assert.deepEqual(await h.process('uid-raced'), { kind: 'done' });
  const stored = h.obj('raced').metadata.annotations!;
  assert.equal(stored['chains.tekton.dev/signed'], 'true');
  assert.equal(h.obj('raced').metadata.labels?.touched, 'yes');
  assert.equal(stored[SIGNING_POLICY_ANNOTATION], undefined);
  assert.equal(stored[POLICY_SIGNER_ANNOTATION], undefined);
});

test('a run blocked on every attempt is marked failed after the retries, with the policy reason, and let go', async () => {
  const h = harness();
  h.resolution.current = { kind: 'blocked', reason: 'PolicyRefused', message: 'refused', policies: ['a'] };
  h.kube.put(TASKRUNS, taskRun('stuck', { app: 'payments' }) as never);
  const results: string[] = [];
  for (let i = 0; i < 5; i++) results.push((await h.process('uid-stuck')).kind);
  assert.deepEqual(results, ['retry', 'retry', 'retry', 'retry', 'done']);
  const a = h.obj('stuck').metadata.annotations!;
  assert.equal(a['chains.tekton.dev/signed'], 'failed');
  assert.match(a['chainsmith.dev/last-failure']!, /^PolicyRefused: refused/);
  assert.deepEqual(h.obj('stuck').metadata.finalizers ?? [], []);
  const reasons = h.events.events.map((e) => e.reason);
  assert.equal(reasons.filter((r) => r === 'PolicyRefused').length, 5);
  assert.equal(reasons.at(-1), 'MarkedFailed');
  assert.deepEqual(h.asked, []);
});
