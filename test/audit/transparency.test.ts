// `audit` and the transparency log: a run marked signed without a `chains.tekton.dev/transparency` entry is
// `unlogged` when the current chains-config uploads its signatures — `transparency.enabled: "true"`, or `manual` for
// runs annotated `chains.tekton.dev/transparency-upload: "true"` (the controller's own rule, shouldUploadTlog).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../../src/audit/audit.js';
import { classifyRun, type RunSummary } from '../../src/audit/classify.js';
import { summariseRun, type Cluster, type RunKind } from '../../src/audit/cluster.js';
import { renderAuditText } from '../../src/audit/render.js';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import type { Run } from '../../src/tekton/types.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const ON = parseChainsConfig({ 'transparency.enabled': 'true' });
const MANUAL = parseChainsConfig({ 'transparency.enabled': 'manual' });
const OFF = parseChainsConfig({});
const LOGGED = { 'chains.tekton.dev/transparency': 'https://rekor.example.com/api/v1/log/entries?logIndex=7' };
const UPLOAD = { 'chains.tekton.dev/transparency-upload': 'true' };
const SIGNED = { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T11:00:04Z' };

function run(name: string, annotations: Record<string, string>, kind: RunKind = 'TaskRun'): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind,
    metadata: { name, namespace: 'team', uid: `uid-${name}`, annotations },
    spec: {},
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-11-23T11:00:00Z' },
  } as Run;
}

/** A cluster holding these runs under this chains-config. */
function cluster(runs: Run[], config: ChainsConfig): Cluster {
  return {
    chainsConfig: async () => ({ config }),
    runSummaries: async function* (kind: RunKind, _q: unknown, keys?: never, cfg?: ChainsConfig) {
      for (const r of runs) if (r.kind === kind) yield summariseRun(r, keys, cfg);
    },
    chainsmithEvents: async () => new Map(),
  } as unknown as Cluster;
}

test('summariseRun: a signed run lacks a tlog entry only where the config would have uploaded one', () => {
  const cases: Array<[string, Record<string, string>, ChainsConfig, RunSummary['tlogMissing']]> = [
    ['on, no entry', SIGNED, ON, { mode: 'true' }],
    ['on, entry', { ...SIGNED, ...LOGGED }, ON, undefined],
    ['on, empty entry', { ...SIGNED, 'chains.tekton.dev/transparency': '' }, ON, { mode: 'true' }],
    ['manual, asked for, no entry', { ...SIGNED, ...UPLOAD }, MANUAL, { mode: 'manual' }],
    ['manual, asked for, entry', { ...SIGNED, ...UPLOAD, ...LOGGED }, MANUAL, undefined],
    ['manual, not asked for', SIGNED, MANUAL, undefined],
    [
      'manual, asked for with "false"',
      { ...SIGNED, 'chains.tekton.dev/transparency-upload': 'false' },
      MANUAL,
      undefined,
    ],
    ['off', SIGNED, OFF, undefined],
    ['on, not signed', { 'chains.tekton.dev/signed': 'failed' }, ON, undefined],
    ['on, no mark', {}, ON, undefined],
  ];
  for (const [what, annotations, config, want] of cases)
    assert.deepEqual(summariseRun(run('r', annotations), undefined, config).tlogMissing, want, what);
  // without a config (resign, and callers that do not ask) nothing is checked
  assert.equal(summariseRun(run('r', SIGNED)).tlogMissing, undefined);
});

test('classifyRun: unlogged keeps the signing time, says why, and an unverified mark still comes first', () => {
  const opts = { now: NOW, managedByAllowed: () => true };
  const summary = (extra: Partial<RunSummary>): RunSummary => ({
    kind: 'TaskRun',
    namespace: 'team',
    name: 'r',
    uid: 'u',
    done: true,
    completionTime: '2026-11-23T11:00:00Z',
    annotations: SIGNED,
    ...extra,
  });
  const on = classifyRun(summary({ tlogMissing: { mode: 'true' } }), [], opts)!;
  assert.equal(on.state, 'unlogged');
  assert.equal(on.signLatencySeconds, 4);
  assert.match(
    on.reason!,
    /^signed, but no transparency-log entry \(no chains\.tekton\.dev\/transparency annotation\)/,
  );
  assert.match(on.reason!, /transparency\.enabled is "true"$/);
  const manual = classifyRun(summary({ tlogMissing: { mode: 'manual' } }), [], opts)!;
  assert.match(manual.reason!, /"manual" and the run asks for it \(chains\.tekton\.dev\/transparency-upload: "true"\)/);
  const forged = classifyRun(
    summary({ tlogMissing: { mode: 'true' }, mark: { verified: false, why: 'no chainsmith.dev/mark-signature' } }),
    [],
    opts,
  )!;
  assert.equal(forged.state, 'unverified');
  assert.equal(classifyRun(summary({}), [], opts)!.state, 'signed');
});

test('audit with transparency on: unlogged runs are counted, listed and shown in their own column', async () => {
  const runs = [
    run('logged', { ...SIGNED, ...LOGGED }),
    run('unlogged', SIGNED),
    run('pipeline-unlogged', SIGNED, 'PipelineRun'),
    run('pending', {}),
  ];
  const result = await audit(cluster(runs, ON), { systemNamespace: 'x', now: NOW });
  assert.deepEqual(
    result.runs.map((e) => [e.kind, e.name, e.state]),
    [
      ['PipelineRun', 'pipeline-unlogged', 'unlogged'],
      ['TaskRun', 'logged', 'signed'],
      ['TaskRun', 'pending', 'pending'],
      ['TaskRun', 'unlogged', 'unlogged'],
    ],
  );
  assert.deepEqual(result.transparency, { enabled: true, manual: false });
  assert.equal(result.summary.totals.unlogged, 2);
  assert.equal(result.summary.namespaces[0]!.unlogged, 2);
  // latency counts every run chainsmith signed, logged or not
  assert.equal(result.summary.signLatency.count, 3);

  const json = JSON.parse(JSON.stringify(result)) as typeof result;
  assert.equal(json.summary.totals.unlogged, 2);
  assert.equal(json.runs.filter((r) => r.state === 'unlogged').length, 2);

  const text = renderAuditText(result);
  assert.match(
    text,
    /transparency log on \(true\): signed runs without chains\.tekton\.dev\/transparency are unlogged/,
  );
  assert.match(text, /NAMESPACE\s+SIGNED\s+UNLOGGED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL/);
  assert.match(text, /team\s+1\s+2\s+0\s+0\s+1\s+4/);
  assert.match(text, /Runs not \(fully\) signed:/);
  // unlogged runs are listed before pending ones
  assert.match(
    text,
    /unlogged\s+PipelineRun\s+team\/pipeline-unlogged\s+signed, but no transparency-log entry[^]*pending/,
  );
});

test('audit with transparency manual: only runs that asked for the log are unlogged', async () => {
  const runs = [run('asked', { ...SIGNED, ...UPLOAD }), run('not-asked', SIGNED)];
  const result = await audit(cluster(runs, MANUAL), { systemNamespace: 'x', now: NOW });
  assert.deepEqual(
    result.runs.map((e) => [e.name, e.state]),
    [
      ['asked', 'unlogged'],
      ['not-asked', 'signed'],
    ],
  );
  assert.deepEqual(result.transparency, { enabled: true, manual: true });
  assert.match(
    renderAuditText(result),
    /transparency log on \(manual: runs annotated chains\.tekton\.dev\/transparency-upload/,
  );
});

test('audit with transparency off: no run is unlogged and the column is not shown', async () => {
  const result = await audit(cluster([run('a', SIGNED)], OFF), { systemNamespace: 'x', now: NOW });
  assert.equal(result.runs[0]!.state, 'signed');
  assert.deepEqual(result.transparency, { enabled: false, manual: false });
  assert.equal(result.summary.totals.unlogged, 0);
  const text = renderAuditText(result);
  assert.match(text, /transparency log off in chains-config/);
  assert.match(text, /NAMESPACE\s+SIGNED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL/);
});
