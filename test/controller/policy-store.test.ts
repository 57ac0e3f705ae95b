import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import type { KubeClient } from '../../src/kube/client.js';
import {
  PolicyStore,
  SIGNING_POLICIES,
  SIGNING_POLICY_GRANTS,
  type PolicyResolution,
} from '../../src/controller/policy-store.js';
import { createLogger } from '../../src/observability/logger.js';
import { ControllerMetrics } from '../../src/observability/metrics.js';
import type { Condition, SigningPolicy, SigningPolicyGrantSpec, SigningPolicySpec } from '../../src/policy/types.js';
import { FakeKube } from './fake-kube.js';

const NOW = new Date('2026-12-04T09:00:00.123Z');
const BASE = { 'artifacts.oci.storage': 'tekton', 'builder.id': 'https://ci.example.com/cluster' };

interface LogLine {
  level: string;
  message: string;
  [k: string]: unknown;
}

interface Harness {
  kube: FakeKube;
  store: PolicyStore;
  metrics: ControllerMetrics;
  logs: LogLine[];
  changes: Array<string[] | 'all'>;
  setBase(data: Record<string, string> | undefined): void;
}

function harness(opts: { missing?: boolean; namespaces?: string[] } = {}): Harness {
  const kube = new FakeKube();
  if (opts.missing) {
    kube.missing.add(SIGNING_POLICIES.plural);
    kube.missing.add(SIGNING_POLICY_GRANTS.plural);
  }
  const logs: LogLine[] = [];
  const logger = createLogger({
    level: 'debug',
    stream: new Writable({
      write: (chunk: Buffer, _e, cb) => {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
        cb();
      },
    }),
  });
  let base: { config: ChainsConfig; data: Record<string, string> } | undefined = {
    config: parseChainsConfig(BASE),
    data: { ...BASE },
  };
  const metrics = new ControllerMetrics({ defaultMetrics: false });
  const store = new PolicyStore({
    client: kube as unknown as KubeClient,
    namespaces: opts.namespaces ?? [],
    base: () => base,
    parse: parseChainsConfig,
    metrics,
    logger,
    now: () => NOW,
  });
  const changes: Harness['changes'] = [];
  store.onChange((ns) => changes.push(ns === 'all' ? 'all' : [...ns].sort()));
  return {
    kube,
    store,
    metrics,
    logs,
    changes,
    setBase: (data) => {
      base = data ? { config: parseChainsConfig(data), data: { ...data } } : undefined;
    },
  };
}

let uid = 0;
function putPolicy(kube: FakeKube, name: string, spec: SigningPolicySpec, namespace = 'team-a', generation = 1): void {
  const key = `signingpolicies/${namespace}/${name}`;
  const prev = kube.objects.get(key);
  kube.put(SIGNING_POLICIES, {
    apiVersion: 'chainsmith.dev/v1alpha1',
    kind: 'SigningPolicy',
    metadata: { name, namespace, uid: (prev?.metadata.uid as string | undefined) ?? `p-${++uid}`, generation },
    spec,
    ...(prev?.status !== undefined ? { status: prev.status } : {}),
  });
}

function putGrant(kube: FakeKube, name: string, spec: SigningPolicyGrantSpec, generation = 1): void {
  const prev = kube.objects.get(`signingpolicygrants//${name}`);
  kube.put(SIGNING_POLICY_GRANTS, {
    apiVersion: 'chainsmith.dev/v1alpha1',
    kind: 'SigningPolicyGrant',
    // cluster-scoped: the fake keeps it under namespace ''
    metadata: { name, namespace: '', uid: (prev?.metadata.uid as string | undefined) ?? `g-${++uid}`, generation },
    spec,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (watch events and the 250 ms status debounce are asynchronous). */
async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Lets watch events land and one debounced status pass run (and the watch events of its writes). */
async function settle(): Promise<void> {
  await sleep(400);
}

function statusWrites(kube: FakeKube): Array<{ name: string; status: SigningPolicy['status'] }> {
  return kube.writes
    .filter((w) => w.verb === 'patch-status')
    .map((w) => ({ name: w.name, status: (w.body as { status: SigningPolicy['status'] }).status }));
}

function storedStatus(kube: FakeKube, name: string, namespace = 'team-a'): SigningPolicy['status'] {
  return kube.objects.get(`signingpolicies/${namespace}/${name}`)?.status as SigningPolicy['status'];
}

function condition(status: SigningPolicy['status'], type: Condition['type']): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

function policyOf(r: PolicyResolution): Extract<PolicyResolution, { kind: 'policy' }> {
  assert.equal(r.kind, 'policy', JSON.stringify(r));
  return r as Extract<PolicyResolution, { kind: 'policy' }>;
}

function blockedOf(r: PolicyResolution): Extract<PolicyResolution, { kind: 'blocked' }> {
  assert.equal(r.kind, 'blocked', JSON.stringify(r));
  return r as Extract<PolicyResolution, { kind: 'blocked' }>;
}

async function gauge(metrics: ControllerMetrics): Promise<Record<string, number>> {
  const { values } = await metrics.signingPolicies.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.state), v.value]));
}

const GRANT_A: SigningPolicyGrantSpec = { namespaces: ['team-a'], secrets: ['team-a-signing', 'team-a-payments'] };
const ALL: SigningPolicySpec = {
  signer: { x509: { secretName: 'team-a-signing' } },
  builderId: 'https://ci.example.com/team-a',
};
const PAYMENTS: SigningPolicySpec = {
  selector: { matchLabels: { app: 'payments' } },
  signer: { x509: { secretName: 'team-a-payments' } },
};

test('without the CRDs (404 on list): not watching, every run resolves to chains-config, a warning, no crash', async () => {
  const h = harness({ missing: true });
  try {
    await h.store.start();
    assert.equal(h.store.watching, false);
    assert.equal(h.store.has('team-a'), false);
    assert.deepEqual(h.store.resolve('team-a', {}), { kind: 'default' });
    assert.deepEqual(h.store.resolve('team-b', { app: 'payments' }), { kind: 'default' });
    const warning = h.logs.find((l) => l.level === 'warn');
    assert.ok(warning, JSON.stringify(h.logs));
    assert.match(warning.message, /SigningPolicies are not available; every run is signed under chains-config/);
    assert.match(String(warning.why), /CRDs are not installed/);
    assert.equal(warning.retryInMs, 60_000);
    assert.deepEqual(h.changes, [], 'nothing to re-evaluate');
    assert.equal(statusWrites(h.kube).length, 0);
  } finally {
    h.store.stop();
  }
});

test('listed policies: the most specific matching policy signs, none matching is chains-config, its config is the overlay', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'all', ALL);
  putPolicy(h.kube, 'payments', PAYMENTS);
  putPolicy(h.kube, 'other-ns', ALL, 'team-b');
  try {
    await h.store.start();
    assert.equal(h.store.watching, true);
    assert.ok(h.logs.some((l) => l.message === 'watching SigningPolicies' && l.policies === 3 && l.grants === 1));
    assert.equal(h.store.has('team-a'), true);
    assert.equal(h.store.has('team-c'), false);

    const payments = policyOf(h.store.resolve('team-a', { app: 'payments', tier: 'prod' }));
    assert.equal(payments.policy.metadata.name, 'payments');
    assert.equal(payments.signer, 'secret/team-a-payments');
    assert.equal(payments.config.policy?.secretName, 'team-a-payments');
    assert.equal(payments.config.policy?.namespace, 'team-a');
    assert.equal(payments.config.builder.id, BASE['builder.id'], 'no builderId: the cluster builder id');

    const all = policyOf(h.store.resolve('team-a', { app: 'web' }));
    assert.equal(all.policy.metadata.name, 'all');
    assert.equal(all.config.builder.id, 'https://ci.example.com/team-a');
    assert.equal(all.config.policy?.secretName, 'team-a-signing');

    // team-b has a policy but no grant naming it
    assert.deepEqual(h.store.resolve('team-c', {}), { kind: 'default' });
  } finally {
    h.store.stop();
  }
});

test('two matching policies at the same specificity: blocked PolicyConflict naming both', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'payments', PAYMENTS);
  putPolicy(h.kube, 'prod', {
    selector: { matchLabels: { tier: 'prod' } },
    signer: { x509: { secretName: 'team-a-signing' } },
  });
  try {
    await h.store.start();
    const r = blockedOf(h.store.resolve('team-a', { app: 'payments', tier: 'prod' }));
    assert.equal(r.reason, 'PolicyConflict');
    assert.deepEqual(r.policies, ['payments', 'prod']);
    assert.match(r.message, /SigningPolicies payments, prod of namespace "team-a" select this run/);
    // only one of them matches: no conflict
    assert.equal(policyOf(h.store.resolve('team-a', { tier: 'prod' })).policy.metadata.name, 'prod');
  } finally {
    h.store.stop();
  }
});

test('an ungranted policy blocks its runs (PolicyRefused with the grant message); a grant added later lets the same policy sign', async () => {
  const h = harness();
  putPolicy(h.kube, 'all', ALL);
  try {
    await h.store.start();
    const r = blockedOf(h.store.resolve('team-a', {}));
    assert.equal(r.reason, 'PolicyRefused');
    assert.deepEqual(r.policies, ['all']);
    assert.match(
      r.message,
      /^SigningPolicy team-a\/all is refused: Secret "team-a-signing" is not granted to namespace "team-a": no SigningPolicyGrant lists it \(no grant names team-a\)$/,
    );
    // a grant for another namespace changes nothing, but the message names it
    putGrant(h.kube, 'team-b', { namespaces: ['team-b'], secrets: ['team-a-signing'] });
    putGrant(h.kube, 'team-a-other', { namespaces: ['team-a'], secrets: ['unrelated'] });
    await until(() => h.changes.filter((c) => c === 'all').length >= 3, 'two grant changes');
    assert.match(blockedOf(h.store.resolve('team-a', {})).message, /grants naming team-a: team-a-other/);

    putGrant(h.kube, 'team-a', GRANT_A);
    await until(() => h.store.resolve('team-a', {}).kind === 'policy', 'the grant to be seen');
    const ok = policyOf(h.store.resolve('team-a', {}));
    assert.equal(ok.policy.metadata.name, 'all');
    assert.equal(ok.signer, 'secret/team-a-signing');

    // and removing it refuses the policy again (the derived verdict is not kept past a grant change)
    h.kube.remove(SIGNING_POLICY_GRANTS, '', 'team-a');
    await until(() => h.store.resolve('team-a', {}).kind === 'blocked', 'the grant removal to be seen');
  } finally {
    h.store.stop();
  }
});

test('onChange: the namespace on a policy change, "all" on a grant change; a status-only update notifies nobody', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  try {
    await h.store.start();
    // the grants' first list and the start of the watch: every namespace may sign differently
    assert.ok(h.changes.length >= 1 && h.changes.every((c) => c === 'all'), JSON.stringify(h.changes));
    h.changes.length = 0;

    putPolicy(h.kube, 'all', ALL);
    await until(() => h.changes.length >= 1, 'a policy added');
    assert.deepEqual(h.changes, [['team-a']]);

    putPolicy(h.kube, 'all', { ...ALL, builderId: 'https://ci.example.com/team-a/v2' }, 'team-a', 2);
    await until(() => h.changes.length >= 2, 'a policy changed');
    assert.deepEqual(h.changes[1], ['team-a']);

    putPolicy(h.kube, 'x', ALL, 'team-b');
    await until(() => h.changes.length >= 3, 'a policy in team-b');
    assert.deepEqual(h.changes[2], ['team-b']);

    h.kube.remove(SIGNING_POLICIES, 'team-b', 'x');
    await until(() => h.changes.length >= 4, 'a policy deleted');
    assert.deepEqual(h.changes[3], ['team-b']);

    putGrant(h.kube, 'team-a', { ...GRANT_A, kmsRefs: ['hashivault://team-a'] }, 2);
    await until(() => h.changes.length >= 5, 'a grant changed');
    assert.equal(h.changes[4], 'all');

    h.kube.remove(SIGNING_POLICY_GRANTS, '', 'team-a');
    await until(() => h.changes.length >= 6, 'a grant deleted');
    assert.equal(h.changes[5], 'all');

    // our own status writes come back as MODIFIED events at the same generation: no re-evaluation
    await settle();
    assert.ok(statusWrites(h.kube).length > 0);
    assert.equal(h.changes.length, 6, JSON.stringify(h.changes));
  } finally {
    h.store.stop();
  }
});

test('status is written through the status subresource, only when it changes', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'all', ALL);
  putPolicy(h.kube, 'refused', {
    selector: { matchLabels: { app: 'x' } },
    signer: { x509: { secretName: 'not-granted' } },
  });
  try {
    await h.store.start();
    await until(() => statusWrites(h.kube).length >= 2, 'the first status writes');
    await settle();
    const writes = statusWrites(h.kube);
    assert.deepEqual(writes.map((w) => w.name).sort(), ['all', 'refused'], 'one write each');
    assert.equal(
      h.kube.writes.filter((w) => w.verb === 'patch').length,
      0,
      'never a write of the policy itself (its spec is the tenant’s)',
    );

    const all = storedStatus(h.kube, 'all');
    assert.equal(all?.observedGeneration, 1);
    assert.equal(all?.signer, 'secret/team-a-signing');
    assert.deepEqual(condition(all, 'Ready'), {
      type: 'Ready',
      status: 'True',
      reason: 'Granted',
      message: 'signs with secret/team-a-signing',
      lastTransitionTime: '2026-12-04T09:00:00Z',
      observedGeneration: 1,
    });
    assert.equal(condition(all, 'Conflict')?.status, 'False');
    const refused = storedStatus(h.kube, 'refused');
    assert.equal(condition(refused, 'Ready')?.status, 'False');
    assert.equal(condition(refused, 'Ready')?.reason, 'NotGranted');
    assert.match(condition(refused, 'Ready')!.message, /Secret "not-granted" is not granted to namespace "team-a"/);

    // a second pass over the same state writes nothing
    const before = h.kube.writes.length;
    h.store.baseChanged();
    await settle();
    assert.equal(h.kube.writes.length, before, JSON.stringify(h.kube.writes.slice(before)));

    // a new generation is written once, with its observedGeneration
    putPolicy(h.kube, 'all', { ...ALL, builderId: 'https://ci.example.com/team-a/v2' }, 'team-a', 2);
    await until(() => storedStatus(h.kube, 'all')?.observedGeneration === 2, 'generation 2 observed');
    await settle();
    assert.equal(statusWrites(h.kube).length, 3, JSON.stringify(statusWrites(h.kube)));
    // Ready stayed True: its lastTransitionTime did not move
    assert.equal(condition(storedStatus(h.kube, 'all'), 'Ready')?.lastTransitionTime, '2026-12-04T09:00:00Z');

    // someone else overwrites the status: it is put back
    await h.kube.mergePatchStatus(SIGNING_POLICIES, 'team-a', 'all', {
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'Forged', message: '', lastTransitionTime: '' }],
      },
    });
    await until(() => condition(storedStatus(h.kube, 'all'), 'Ready')?.reason === 'Granted', 'the status restored');
    assert.equal(condition(storedStatus(h.kube, 'all'), 'Conflict')?.status, 'False');
  } finally {
    h.store.stop();
  }
});

test('a conflict seen on a run sets Conflict=True on both policies, naming the other; deleting one clears it', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'payments', PAYMENTS);
  putPolicy(h.kube, 'prod', {
    selector: { matchLabels: { tier: 'prod' } },
    signer: { x509: { secretName: 'team-a-signing' } },
  });
  try {
    await h.store.start();
    await until(() => statusWrites(h.kube).length >= 2, 'the first status writes');
    await settle();
    assert.equal(condition(storedStatus(h.kube, 'payments'), 'Conflict')?.status, 'False', 'different selectors');
    assert.deepEqual(await gauge(h.metrics), { ready: 2, refused: 0, conflict: 0 });

    assert.equal(h.store.resolve('team-a', { app: 'payments', tier: 'prod' }).kind, 'blocked');
    await until(
      () =>
        condition(storedStatus(h.kube, 'payments'), 'Conflict')?.status === 'True' &&
        condition(storedStatus(h.kube, 'prod'), 'Conflict')?.status === 'True',
      'Conflict=True on both',
    );
    assert.match(condition(storedStatus(h.kube, 'payments'), 'Conflict')!.message, /same specificity as prod:/);
    assert.match(condition(storedStatus(h.kube, 'prod'), 'Conflict')!.message, /same specificity as payments:/);
    assert.equal(condition(storedStatus(h.kube, 'prod'), 'Ready')?.status, 'True', 'each is still granted');
    await settle();
    assert.deepEqual(await gauge(h.metrics), { ready: 0, refused: 0, conflict: 2 });

    // the same conflict seen again writes nothing more
    const before = statusWrites(h.kube).length;
    h.store.resolve('team-a', { app: 'payments', tier: 'prod' });
    await settle();
    assert.equal(statusWrites(h.kube).length, before);

    h.kube.remove(SIGNING_POLICIES, 'team-a', 'prod');
    await until(
      () => condition(storedStatus(h.kube, 'payments'), 'Conflict')?.status === 'False',
      'the conflict cleared on the survivor',
    );
    assert.equal(
      policyOf(h.store.resolve('team-a', { app: 'payments', tier: 'prod' })).policy.metadata.name,
      'payments',
    );
    await settle();
    assert.deepEqual(await gauge(h.metrics), { ready: 1, refused: 0, conflict: 0 });
  } finally {
    h.store.stop();
  }
});

test('two policies with the same selector conflict statically: both get Conflict=True without any run', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'one', ALL);
  putPolicy(h.kube, 'two', { signer: { x509: { secretName: 'team-a-payments' } } });
  try {
    await h.store.start();
    await until(
      () =>
        condition(storedStatus(h.kube, 'one'), 'Conflict')?.status === 'True' &&
        condition(storedStatus(h.kube, 'two'), 'Conflict')?.status === 'True',
      'static conflicts',
    );
    assert.match(condition(storedStatus(h.kube, 'one'), 'Conflict')!.message, /as two:/);
    assert.equal(blockedOf(h.store.resolve('team-a', {})).reason, 'PolicyConflict');
  } finally {
    h.store.stop();
  }
});

test('baseChanged(): configs are recomputed from the new chains-config (a policy without builderId gets the new one)', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'payments', PAYMENTS);
  putPolicy(h.kube, 'all', ALL);
  try {
    await h.store.start();
    assert.equal(
      policyOf(h.store.resolve('team-a', { app: 'payments' })).config.builder.id,
      'https://ci.example.com/cluster',
    );
    h.setBase({
      ...BASE,
      'builder.id': 'https://ci.example.com/cluster-v2',
      'artifacts.taskrun.format': 'slsa/v2alpha4',
    });
    // without baseChanged() the derived config is kept
    assert.equal(
      policyOf(h.store.resolve('team-a', { app: 'payments' })).config.builder.id,
      'https://ci.example.com/cluster',
    );
    h.store.baseChanged();
    const payments = policyOf(h.store.resolve('team-a', { app: 'payments' }));
    assert.equal(payments.config.builder.id, 'https://ci.example.com/cluster-v2');
    assert.equal(payments.config.artifacts.taskrun.format, 'slsa/v2alpha4');
    assert.equal(payments.config.policy?.secretName, 'team-a-payments');
    // a policy with its own builderId keeps it
    assert.equal(policyOf(h.store.resolve('team-a', {})).config.builder.id, 'https://ci.example.com/team-a');
  } finally {
    h.store.stop();
  }
});

test('a policy keeping the cluster signer may claim a builder id only with a grant, judged against the current chains-config', async () => {
  const h = harness();
  putPolicy(h.kube, 'builder', { builderId: 'https://ci.example.com/cluster-v2' });
  try {
    await h.store.start();
    const r = blockedOf(h.store.resolve('team-a', {}));
    assert.match(r.message, /builder id "https:\/\/ci.example.com\/cluster-v2" is not granted/);
    // chains-config now says the same builder id: nothing is claimed any more
    h.setBase({ ...BASE, 'builder.id': 'https://ci.example.com/cluster-v2' });
    h.store.baseChanged();
    const ok = policyOf(h.store.resolve('team-a', {}));
    assert.equal(ok.signer, 'chains-config');
    assert.equal(ok.config.policy?.secretName, undefined);
  } finally {
    h.store.stop();
  }
});

test('signingPolicies gauge: ready, refused and conflict counts follow the policies', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'all', ALL);
  putPolicy(h.kube, 'refused', { selector: { matchLabels: { a: 'b' } }, signer: { kms: { ref: 'hashivault://x' } } });
  putPolicy(h.kube, 'b1', ALL, 'team-b');
  try {
    await h.store.start();
    await until(() => statusWrites(h.kube).length >= 3, 'the first status writes');
    await settle();
    assert.deepEqual(await gauge(h.metrics), { ready: 1, refused: 2, conflict: 0 });
    putGrant(h.kube, 'team-b', { namespaces: ['team-b'], secrets: ['team-a-signing'] });
    await until(() => condition(storedStatus(h.kube, 'b1', 'team-b'), 'Ready')?.status === 'True', 'team-b granted');
    await settle();
    assert.deepEqual(await gauge(h.metrics), { ready: 2, refused: 1, conflict: 0 });
  } finally {
    h.store.stop();
  }
});

test('chains-config not loaded: policies are refused as Invalid, and the status written then is corrected without a write loop', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'all', ALL);
  try {
    await h.store.start();
    await until(() => condition(storedStatus(h.kube, 'all'), 'Ready')?.status === 'True', 'Ready');
    await settle();
    h.setBase(undefined);
    h.store.baseChanged();
    const r = blockedOf(h.store.resolve('team-a', {}));
    assert.match(r.message, /chains-config is not loaded yet/);
    await until(() => condition(storedStatus(h.kube, 'all'), 'Ready')?.reason === 'Invalid', 'Ready=False Invalid');
    await settle();
    // the status says what the controller knows: no signer in use any more (the merge patch must remove it, or the
    // status read back never matches and is written again every 250 ms)
    assert.equal(storedStatus(h.kube, 'all')?.signer, undefined);
    const before = statusWrites(h.kube).length;
    await settle();
    assert.equal(statusWrites(h.kube).length, before, 'settled: no more writes');
    h.setBase(BASE);
    h.store.baseChanged();
    assert.equal(h.store.resolve('team-a', {}).kind, 'policy');
  } finally {
    h.store.stop();
  }
});

test('an unreadable policy object is ignored with a warning; the others still resolve', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'all', ALL);
  h.kube.put(SIGNING_POLICIES, {
    metadata: { name: 'broken', namespace: 'team-a', uid: 'b', generation: 1 },
    spec: { selector: 'not-an-object' },
  });
  try {
    await h.store.start();
    assert.ok(h.logs.some((l) => l.level === 'warn' && l.message === 'ignoring an unreadable SigningPolicy'));
    assert.equal(policyOf(h.store.resolve('team-a', {})).policy.metadata.name, 'all');
  } finally {
    h.store.stop();
  }
});

test('a store scoped to some namespaces watches only those', async () => {
  const h = harness({ namespaces: ['team-a'] });
  putGrant(h.kube, 'g', { namespaces: ['team-a', 'team-b'], secrets: ['team-a-signing'] });
  putPolicy(h.kube, 'all', ALL);
  putPolicy(h.kube, 'all', ALL, 'team-b');
  try {
    await h.store.start();
    assert.equal(h.store.has('team-a'), true);
    assert.equal(h.store.has('team-b'), false);
    assert.equal(h.store.resolve('team-b', {}).kind, 'default');
  } finally {
    h.store.stop();
  }
});

test('CRDs installed after start-up are found by the next probe (every minute) and watched from then on', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = harness({ missing: true });
  const turn = () => new Promise((r) => setImmediate(r));
  try {
    await h.store.start();
    assert.equal(h.store.watching, false);
    h.kube.missing.clear();
    putGrant(h.kube, 'team-a', GRANT_A);
    putPolicy(h.kube, 'all', ALL);
    t.mock.timers.tick(59_999);
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(h.store.watching, false, 'not before the minute is up');
    t.mock.timers.tick(1);
    for (let i = 0; i < 20 && !h.store.has('team-a'); i++) await turn();
    assert.equal(h.store.watching, true);
    assert.equal(policyOf(h.store.resolve('team-a', {})).policy.metadata.name, 'all');
    assert.ok(h.changes.includes('all'), 'runs of every namespace are looked at again');
  } finally {
    h.store.stop();
  }
});

test('storage: tekton and oci are always there for policies; a backend with settings only when chains-config uses it', async () => {
  const h = harness();
  putGrant(h.kube, 'team-a', GRANT_A);
  putPolicy(h.kube, 'all', { ...ALL, storage: { taskrun: ['oci', 'tekton'] } });
  putPolicy(h.kube, 'gcs', { ...ALL, storage: { taskrun: ['gcs'] } }, 'team-b');
  putGrant(h.kube, 'team-b', { namespaces: ['team-b'], secrets: ['team-a-signing'] });
  try {
    await h.store.start();
    assert.equal(h.store.resolve('team-a', {}).kind, 'policy', 'oci needs nothing from chains-config');
    const refused = blockedOf(h.store.resolve('team-b', {}));
    assert.equal(refused.reason, 'PolicyRefused');
    assert.match(refused.message, /storage "gcs" is not used by chains-config, which holds its settings/);
    // chains-config starts using gcs (with its bucket): the same policy may choose it
    h.setBase({ ...BASE, 'artifacts.pipelinerun.storage': 'gcs', 'storage.gcs.bucket': 'b' });
    h.store.baseChanged();
    assert.equal(h.store.resolve('team-b', {}).kind, 'policy');
  } finally {
    h.store.stop();
  }
});
