// How `chainsmith audit` classifies a completed run from the annotations and Events the controller writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRun, type RunEvent, type RunSummary } from '../../src/audit/classify.js';
import { summarise, percentile } from '../../src/audit/summary.js';
import { formatDuration, parseDuration } from '../../src/audit/duration.js';
import { needsResign } from '../../src/audit/resign.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const everyone = () => true;

function run(annotations: Record<string, string> = {}, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    kind: 'TaskRun',
    namespace: 'ns',
    name: 'r',
    uid: 'u1',
    done: true,
    completionTime: '2026-11-23T11:00:00Z',
    annotations,
    ...extra,
  };
}
const ev = (reason: string, note: string, time: string): RunEvent => ({ reason, note, type: 'Warning', time });

test('a run marked signed by chainsmith is signed, with its completion → signed latency', () => {
  const e = classifyRun(
    run({ 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T11:00:07Z' }),
    [],
    { now: NOW, managedByAllowed: everyone },
  );
  assert.equal(e?.state, 'signed');
  assert.equal(e?.signLatencySeconds, 7);
});

test('a run signed by Tekton Chains (no signed-at) is signed without a latency', () => {
  const e = classifyRun(run({ 'chains.tekton.dev/signed': 'true' }), [], { now: NOW, managedByAllowed: everyone });
  assert.equal(e?.state, 'signed');
  assert.equal(e?.signLatencySeconds, undefined);
});

test('a run marked failed takes its reason from chainsmith.dev/last-failure, else from the latest failure Event', () => {
  const a = classifyRun(
    run({ 'chains.tekton.dev/signed': 'failed', 'chainsmith.dev/last-failure': 'StorageFailed: registry said 403' }),
    [],
    { now: NOW, managedByAllowed: everyone },
  );
  assert.deepEqual([a?.state, a?.reason], ['failed', 'StorageFailed: registry said 403']);
  const b = classifyRun(
    run({ 'chains.tekton.dev/signed': 'failed' }),
    [ev('SigningFailed', 'old', '2026-11-23T11:00:01Z'), ev('StorageFailed', 'newest', '2026-11-23T11:00:09Z')],
    { now: NOW, managedByAllowed: everyone },
  );
  assert.equal(b?.reason, 'StorageFailed: newest');
  const c = classifyRun(run({ 'chains.tekton.dev/signed': 'failed' }), [], { now: NOW, managedByAllowed: everyone });
  assert.match(c!.reason!, /no reason recorded/);
  // every failure reason the controller records (src/observability/events.ts) counts
  for (const reason of ['TransparencyFailed', 'KeylessFailed', 'PolicyRefused', 'PolicyConflict']) {
    const d = classifyRun(run({ 'chains.tekton.dev/signed': 'failed' }), [ev(reason, 'why', '2026-11-23T11:00:01Z')], {
      now: NOW,
      managedByAllowed: everyone,
    });
    assert.equal(d?.reason, `${reason}: why`);
  }
});

test('a run still retrying after a failure is failed, saying it is retrying', () => {
  const e = classifyRun(
    run({ 'chains.tekton.dev/retries': '1', 'chainsmith.dev/last-failure': 'KmsUnavailable: timeout' }),
    [],
    { now: NOW, managedByAllowed: everyone },
  );
  assert.equal(e?.state, 'failed');
  assert.equal(e?.reason, 'retrying after 2 failed attempt(s): KmsUnavailable: timeout');
});

test('a run filtered by managedBy, or with a NoArtifacts / SigningDisabled Event, is skipped with the reason', () => {
  const f = classifyRun(run({}, { managedBy: 'example.com/other' }), [], {
    now: NOW,
    managedByAllowed: (m) => m === undefined,
  });
  assert.equal(f?.state, 'skipped');
  assert.match(f!.reason!, /spec\.managedBy is "example\.com\/other"/);
  const n = classifyRun(run(), [ev('NoArtifacts', 'nothing was signed: no subjects', '2026-11-23T11:00:02Z')], {
    now: NOW,
    managedByAllowed: everyone,
  });
  assert.deepEqual([n?.state, n?.reason], ['skipped', 'NoArtifacts: nothing was signed: no subjects']);
  const d = classifyRun(
    run(),
    [ev('SigningDisabled', 'not signed: every artifact type is disabled', '2026-11-23T11:00:02Z')],
    { now: NOW, managedByAllowed: everyone },
  );
  assert.equal(d?.state, 'skipped');
});

test('a completed run with no mark and no Event is pending, with its age; a running run is not audited', () => {
  const p = classifyRun(run(), [ev('Rearmed', 'x', '2026-11-23T11:00:02Z')], { now: NOW, managedByAllowed: everyone });
  assert.deepEqual([p?.state, p?.ageSeconds], ['pending', 3600]);
  assert.equal(classifyRun(run({}, { done: false }), [], { now: NOW, managedByAllowed: everyone }), undefined);
});

test('totals per namespace, the oldest pending run and nearest-rank p50/p95 latency', () => {
  const entries = [
    ...Array.from({ length: 20 }, (_, i) => ({
      kind: 'TaskRun' as const,
      namespace: 'a',
      name: `s${i}`,
      state: 'signed' as const,
      signLatencySeconds: i + 1,
    })),
    { kind: 'TaskRun' as const, namespace: 'b', name: 'p1', state: 'pending' as const, ageSeconds: 60 },
    { kind: 'PipelineRun' as const, namespace: 'b', name: 'p2', state: 'pending' as const, ageSeconds: 600 },
    { kind: 'TaskRun' as const, namespace: 'b', name: 'f', state: 'failed' as const, reason: 'x' },
    { kind: 'TaskRun' as const, namespace: 'c', name: 'k', state: 'skipped' as const, reason: 'y' },
  ];
  const s = summarise(entries);
  assert.deepEqual(s.totals, {
    signed: 20,
    unverified: 0,
    unlogged: 0,
    failed: 1,
    skipped: 1,
    pending: 2,
    total: 24,
  });
  assert.deepEqual(
    s.namespaces.map((n) => [n.namespace, n.signed, n.failed, n.skipped, n.pending, n.total]),
    [
      ['a', 20, 0, 0, 0, 20],
      ['b', 0, 1, 0, 2, 3],
      ['c', 0, 0, 1, 0, 1],
    ],
  );
  assert.deepEqual(s.oldestPending, { kind: 'PipelineRun', namespace: 'b', name: 'p2', ageSeconds: 600 });
  assert.deepEqual(s.signLatency, { count: 20, p50Seconds: 10, p95Seconds: 19 });
  assert.equal(percentile([], 50), undefined);
});

test('durations parse like 30m, 1h30m, 7d and print back short', () => {
  assert.equal(parseDuration('30m'), 1800);
  assert.equal(parseDuration('1h30m'), 5400);
  assert.equal(parseDuration('7d'), 604800);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(parseDuration('10'), undefined);
  assert.equal(formatDuration(3725), '1h2m');
  assert.equal(formatDuration(45), '45s');
});

test('resign selects marked runs, only failed ones with --failed-only, only recent ones with --since', () => {
  const opts = { failedOnly: false, now: NOW };
  assert.equal(needsResign(run({ 'chains.tekton.dev/signed': 'true' }), opts), true);
  assert.equal(needsResign(run({}), opts), false);
  assert.equal(needsResign(run({ 'chains.tekton.dev/signed': 'true' }, { done: false }), opts), false);
  const failedOnly = { failedOnly: true, now: NOW };
  assert.equal(needsResign(run({ 'chains.tekton.dev/signed': 'true' }), failedOnly), false);
  assert.equal(needsResign(run({ 'chains.tekton.dev/signed': 'failed' }), failedOnly), true);
  assert.equal(
    needsResign(run({ 'chains.tekton.dev/retries': '2', 'chainsmith.dev/last-failure': 'x' }), failedOnly),
    true,
  );
  assert.equal(needsResign(run({ 'chains.tekton.dev/signed': 'true' }), { ...opts, sinceSeconds: 1800 }), false);
  assert.equal(needsResign(run({ 'chains.tekton.dev/signed': 'true' }), { ...opts, sinceSeconds: 7200 }), true);
});
