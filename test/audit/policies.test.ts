// `audit` and signing policies: a run signed under a SigningPolicy carries `chainsmith.dev/signing-policy` (the
// policy's name; its namespace is the run's) and `chainsmith.dev/policy-signer` (`secret/<name>`, `kms/<ref>`,
// `keyless/<namespace>/<sa>`). audit shows both per run and counts runs per (policy, signer); a run left unsigned
// because its policy was refused or conflicts is failed with that reason. Clusters without policies see no change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, type AuditResult } from '../../src/audit/audit.js';
import { classifyRun, policyFailureOf, type AuditEntry, type RunEvent } from '../../src/audit/classify.js';
import { summariseRun, type Cluster, type RunKind } from '../../src/audit/cluster.js';
import { renderAuditText } from '../../src/audit/render.js';
import { policyGroupOf, summarise } from '../../src/audit/summary.js';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { Run } from '../../src/tekton/types.js';
import { IDENTITY, testFulcio } from '../verify/fulcio-fixtures.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const FULCIO = testFulcio(new Date(NOW));
const SIGNED = { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T11:00:04Z' };
const policy = (name: string, signer?: string): Record<string, string> => ({
  'chainsmith.dev/signing-policy': name,
  ...(signer !== undefined ? { 'chainsmith.dev/policy-signer': signer } : {}),
});
const FAILED = { 'chains.tekton.dev/signed': 'failed' };

function run(namespace: string, name: string, annotations: Record<string, string>, kind: RunKind = 'TaskRun'): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind,
    metadata: { name, namespace, uid: `uid-${name}`, annotations },
    spec: {},
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-11-23T11:00:00Z' },
  } as Run;
}

/** A keyless run's stored certificate, as the `tekton` storage writes it. */
function keyless(name: string): Record<string, string> {
  const leaf = FULCIO.leaf(new Date(NOW - 3_600_000), { uri: IDENTITY });
  return { [`chains.tekton.dev/cert-taskrun-uid-${name}`]: Buffer.from(leaf.pem).toString('base64') };
}

/** A cluster holding these runs (and chainsmith Events by run uid), with an empty chains-config. */
function cluster(runs: Run[], events: Record<string, RunEvent[]> = {}): Cluster {
  const config = parseChainsConfig({});
  return {
    chainsConfig: async () => ({ config }),
    runSummaries: async function* (kind: RunKind, _q: unknown, keys?: never, cfg?: never) {
      for (const r of runs) if (r.kind === kind) yield summariseRun(r, keys, cfg);
    },
    chainsmithEvents: async () => new Map(Object.entries(events)),
  } as unknown as Cluster;
}

const opts = { systemNamespace: 'tekton-chains', now: NOW };

/** The runs of a cluster with three policies, a refused and a conflicting one, and runs under chains-config. */
function tenantRuns(): { runs: Run[]; events: Record<string, RunEvent[]> } {
  const runs = [
    run('team-a', 'a1', { ...SIGNED, ...policy('team-a', 'secret/team-a-signing') }),
    run('team-a', 'a2', { ...SIGNED, ...policy('team-a', 'secret/team-a-signing') }),
    run('team-a', 'a3', { ...SIGNED, ...policy('team-a', 'secret/team-a-signing') }, 'PipelineRun'),
    run('team-b', 'b1', { ...SIGNED, ...policy('builds', 'kms/hashivault://team-b') }),
    // a policy without a signer of its own: the cluster's (here keyless) signer
    run('team-c', 'c1', { ...SIGNED, ...policy('team-c'), ...keyless('c1') }),
    run('team-d', 'refused', {
      ...FAILED,
      'chainsmith.dev/last-failure': 'PolicyRefused: SigningPolicy team-d/team-d is not granted secret team-d-key',
    }),
    // marked failed without a last-failure: the Event says why
    run('team-e', 'conflict', FAILED),
    run('shared', 's1', SIGNED),
    run('shared', 's2', SIGNED),
    run('shared', 'p1', {}),
  ];
  const events = {
    'uid-conflict': [
      {
        reason: 'PolicyConflict',
        note: 'SigningPolicies team-e/x and team-e/y both select this run',
        type: 'Warning',
        time: '2026-11-23T11:00:02Z',
      },
    ],
  };
  return { runs, events };
}

test('a run signed under a policy carries the policy as <namespace>/<name> and its signer; others carry neither', () => {
  const classify = (r: Run) => classifyRun(summariseRun(r), [], { now: NOW, managedByAllowed: () => true })!;
  const a = classify(run('team-a', 'a1', { ...SIGNED, ...policy('team-a', 'secret/team-a-signing') }));
  assert.deepEqual([a.state, a.policy, a.policySigner], ['signed', 'team-a/team-a', 'secret/team-a-signing']);
  const c = classify(run('team-c', 'c1', { ...SIGNED, ...policy('team-c') }));
  assert.deepEqual([c.policy, c.policySigner], ['team-c/team-c', undefined]);
  const plain = classify(run('shared', 's1', SIGNED));
  assert.equal('policy' in plain || 'policySigner' in plain, false);
  // an empty annotation is no policy
  assert.equal(classify(run('x', 'e', { ...SIGNED, 'chainsmith.dev/signing-policy': '' })).policy, undefined);
});

test('a run refused by its policy, or caught in a conflict, is failed with that reason', () => {
  const opt = { now: NOW, managedByAllowed: () => true };
  const refused = classifyRun(
    summariseRun(run('d', 'r', { ...FAILED, 'chainsmith.dev/last-failure': 'PolicyRefused: not granted' })),
    [],
    opt,
  )!;
  assert.deepEqual([refused.state, refused.reason], ['failed', 'PolicyRefused: not granted']);
  assert.equal(policyFailureOf(refused), 'PolicyRefused');
  const ev: RunEvent = {
    reason: 'PolicyConflict',
    note: 'two policies',
    type: 'Warning',
    time: '2026-11-23T11:00:02Z',
  };
  const conflict = classifyRun(summariseRun(run('e', 'c', FAILED)), [ev], opt)!;
  assert.deepEqual([conflict.state, conflict.reason], ['failed', 'PolicyConflict: two policies']);
  assert.equal(policyFailureOf(conflict), 'PolicyConflict');
  // recorded while retrying, too
  const retrying = classifyRun(
    summariseRun(
      run('d', 'r', { 'chains.tekton.dev/retries': '0', 'chainsmith.dev/last-failure': 'PolicyRefused: x' }),
    ),
    [],
    opt,
  )!;
  assert.equal(policyFailureOf(retrying), 'PolicyRefused');
  const other = classifyRun(
    summariseRun(run('d', 'o', { ...FAILED, 'chainsmith.dev/last-failure': 'StorageFailed: x' })),
    [],
    opt,
  )!;
  assert.equal(policyFailureOf(other), undefined);
});

test('the group of a run: its policy and signer, else the keyless identity, else chains-config', () => {
  const entry = (e: Partial<AuditEntry>): AuditEntry => ({
    kind: 'TaskRun',
    namespace: 'n',
    name: 'r',
    state: 'signed',
    ...e,
  });
  assert.deepEqual(policyGroupOf(entry({ policy: 'n/p', policySigner: 'kms/awskms:///k' })), {
    policy: 'n/p',
    signer: 'kms/awskms:///k',
  });
  assert.deepEqual(policyGroupOf(entry({ policy: 'n/p', signer: { identity: 'https://id', issuer: 'https://iss' } })), {
    policy: 'n/p',
    signer: 'https://id',
  });
  assert.deepEqual(policyGroupOf(entry({ policy: 'n/p' })), { policy: 'n/p', signer: 'chains-config' });
  assert.deepEqual(policyGroupOf(entry({})), { policy: 'chains-config', signer: 'chains-config' });
  assert.deepEqual(policyGroupOf(entry({ state: 'failed', reason: 'PolicyConflict: x' })), {
    policy: '(conflict)',
    signer: '-',
  });
  // a refused run that names its policy is counted under it, signed by nothing
  assert.deepEqual(policyGroupOf(entry({ state: 'failed', reason: 'PolicyRefused: x', policy: 'n/p' })), {
    policy: 'n/p',
    signer: '-',
  });
});

test('summary.policies counts runs per (policy, signer) and state, most first, then by name', async () => {
  const { runs, events } = tenantRuns();
  const result = await audit(cluster(runs, events), opts);
  assert.deepEqual(
    result.summary.policies.map((p) => [p.policy, p.signer, p.signed, p.failed, p.pending, p.total]),
    [
      ['chains-config', 'chains-config', 2, 0, 1, 3],
      ['team-a/team-a', 'secret/team-a-signing', 3, 0, 0, 3],
      ['(conflict)', '-', 0, 1, 0, 1],
      ['(refused)', '-', 0, 1, 0, 1],
      ['team-b/builds', 'kms/hashivault://team-b', 1, 0, 0, 1],
      ['team-c/team-c', IDENTITY, 1, 0, 0, 1],
    ],
  );
  const byName = Object.fromEntries(result.runs.map((r) => [r.name, r]));
  assert.equal(byName.conflict!.reason, 'PolicyConflict: SigningPolicies team-e/x and team-e/y both select this run');
  assert.match(byName.refused!.reason!, /^PolicyRefused: SigningPolicy team-d\/team-d is not granted/);
  // the JSON report: per-run fields and the grouping
  const json = JSON.parse(JSON.stringify(result)) as AuditResult;
  const b1 = json.runs.find((r) => r.name === 'b1')!;
  assert.deepEqual([b1.policy, b1.policySigner], ['team-b/builds', 'kms/hashivault://team-b']);
  assert.equal(json.runs.find((r) => r.name === 's1')!.policy, undefined);
  assert.equal(json.summary.policies.length, 6);
  // summarise over plain entries (no policies): one chains-config group
  assert.deepEqual(
    summarise([{ kind: 'TaskRun', namespace: 'n', name: 'r', state: 'pending' }]).policies.map((p) => [
      p.policy,
      p.signer,
      p.pending,
    ]),
    [['chains-config', 'chains-config', 1]],
  );
});

test('the text report has a BY SIGNING POLICY table and a POLICY column when runs were signed under policies', async () => {
  const { runs, events } = tenantRuns();
  const text = renderAuditText(await audit(cluster(runs, events), opts));
  assert.match(text, /\n {2}POLICY\s+SIGNER\s+SIGNED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL\n/);
  assert.match(text, /BY SIGNING POLICY/);
  assert.match(text, /\n {2}team-a\/team-a\s+secret\/team-a-signing\s+3\s+0\s+0\s+0\s+3\n/);
  assert.match(text, /\n {2}chains-config\s+chains-config\s+2\s+0\s+0\s+1\s+3\n/);
  assert.match(text, /\n {2}\(refused\)\s+-\s+0\s+1\s+0\s+0\s+1\n/);
  // the table comes before the keyless identities (team-c's run is keyless)
  assert.ok(text.indexOf('BY SIGNING POLICY') < text.indexOf('Keyless signing identities'));
  assert.match(text, /STATE\s+KIND\s+RUN\s+WHY/);
  assert.match(text, /failed\s+TaskRun\s+team-d\/refused\s+PolicyRefused: SigningPolicy team-d\/team-d/);
  // a POLICY column in the list of runs not signed, when one of them names a policy
  const failedUnder = [
    run('team-a', 'late', {
      ...FAILED,
      ...policy('team-a', 'secret/team-a-signing'),
      'chainsmith.dev/last-failure': 'StorageFailed: 403',
    }),
  ];
  const listed = renderAuditText(await audit(cluster([...runs, ...failedUnder], events), opts));
  assert.match(listed, /STATE\s+KIND\s+RUN\s+POLICY\s+WHY/);
  assert.match(listed, /failed\s+TaskRun\s+team-a\/late\s+team-a\/team-a\s+StorageFailed: 403/);
  assert.match(listed, /failed\s+TaskRun\s+team-d\/refused\s+-\s+PolicyRefused/);
});

test('policy annotations are escaped in the text report', async () => {
  const hostile = run('t', 'h', { ...SIGNED, ...policy('p\u001b[2J', 'secret/\u001b]0;x\u0007') });
  const text = renderAuditText(await audit(cluster([hostile]), opts));
  assert.doesNotMatch(text, /\u001b|\u0007/);
  assert.match(text, /BY SIGNING POLICY/);
});

test('without policies the text report is exactly as before: no table, no column', async () => {
  const runs = [
    run('shared', 's1', SIGNED),
    run('shared', 'f1', { ...FAILED, 'chainsmith.dev/last-failure': 'StorageFailed: registry said 403' }),
    run('other', 'p1', {}),
  ];
  const result = await audit(cluster(runs), opts);
  assert.deepEqual(
    result.summary.policies.map((p) => [p.policy, p.signer, p.total]),
    [['chains-config', 'chains-config', 3]],
  );
  assert.equal(
    renderAuditText(result),
    [
      'chainsmith audit — all namespaces (2026-11-23T12:00:00.000Z)',
      'signed marks NOT verified (no --key/--kms): "signed" only means the run carries the annotation',
      'transparency log off in chains-config: transparency-log entries not checked',
      '',
      'NAMESPACE  SIGNED  FAILED  SKIPPED  PENDING  TOTAL',
      'other      0       0       0        1        1',
      'shared     1       1       0        0        2',
      'TOTAL      1       1       0        1        3',
      '',
      'oldest pending: TaskRun other/p1, completed 1h ago',
      'completion → signed: p50 4s, p95 4s (1 run(s) with chainsmith.dev/signed-at)',
      '',
      'Runs not (fully) signed:',
      '  STATE    KIND     RUN        WHY',
      '  failed   TaskRun  shared/f1  StorageFailed: registry said 403',
      '  pending  TaskRun  other/p1   completed 1h ago, not signed yet',
      '',
    ].join('\n'),
  );
});

test('--policy keeps the runs counted under one policy: <namespace>/<name>, a bare name, or chains-config', async () => {
  const { runs, events } = tenantRuns();
  const names = async (p: string) => {
    const r = await audit(cluster(runs, events), { ...opts, policy: p });
    assert.equal(r.policy, p);
    assert.equal(r.summary.totals.total, r.runs.length);
    return r.runs.map((x) => x.name);
  };
  assert.deepEqual(await names('team-a/team-a'), ['a3', 'a1', 'a2']);
  assert.deepEqual(await names('builds'), ['b1']);
  assert.deepEqual(await names('team-b/team-a'), []);
  assert.deepEqual(await names('chains-config'), ['p1', 's1', 's2']);
  assert.deepEqual(await names('(refused)'), ['refused']);
  const text = renderAuditText(await audit(cluster(runs, events), { ...opts, policy: 'builds' }));
  assert.match(text, /^chainsmith audit — all namespaces, signing policy builds \(/);
});
