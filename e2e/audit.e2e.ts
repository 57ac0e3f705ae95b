// `chainsmith audit` and `chainsmith resign` against the real stack, with runs put in each state by the real
// controller: signed (an image signed into the registry), skipped (no artifacts), failed (the registry is
// unreachable and the retry limit is 0), and pending (completed while no controller runs). Then resign: a dry run
// changes nothing, --failed-only clears only the failed run, and the controller signs a re-armed run again. Last,
// with transparency turned on (the stack's Rekor), the runs signed without it are `unlogged` and a new one is not.
// Finally, runs annotated as the controller annotates the runs it signs under a SigningPolicy (or refuses to sign)
// are grouped by policy and signer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  completePipelineRun,
  completeTaskRun,
  createNamespace,
  createPipelineRun,
  createTaskRun,
  getTaskRun,
  pushRandomImage,
  stackEnv,
  waitFor,
  type ControllerProcess,
} from './lib/index.js';
import { chainsmithCli, startSigningController, writeChainsConfig, x509SecretsDir } from './lib/scenario.js';
import type { TaskRun } from '../src/tekton/types.js';
import type { AuditResult } from '../src/audit/audit.js';
import { rekorEnv } from './lib/env.js';

const exec = promisify(execFile);
const UNREACHABLE_DIGEST = `sha256:${'7'.repeat(64)}`;

const cli = (args: string[]) => chainsmithCli(args);

async function completedRun(ns: string, results: Array<{ name: string; value: string }> = []): Promise<string> {
  const tr = await createTaskRun(ns);
  await completeTaskRun(ns, tr.metadata.name!, { results: results.map((r) => ({ ...r, type: 'string' as const })) });
  return tr.metadata.name!;
}

const annotation = async (ns: string, name: string, key: string) =>
  (await getTaskRun(ns, name)).metadata.annotations?.[key];

async function waitForMark(ns: string, name: string, value: string): Promise<TaskRun> {
  return waitFor(
    async () => {
      const tr = await getTaskRun(ns, name);
      return tr.metadata.annotations?.['chains.tekton.dev/signed'] === value ? tr : undefined;
    },
    { timeoutMs: 60_000, description: `${name} signed=${value}` },
  );
}

describe('audit and resign over runs in the four states', () => {
  let ns: string;
  let systemNs: string;
  let keysDir: string;
  let controller: ControllerProcess | undefined;
  const names = { signed: '', skipped: '', filtered: '', failed: '', pending: '' };
  let signedImage = '';
  // only image signatures, stored in the registry; failures give up at once
  const data = {
    'artifacts.taskrun.storage': '',
    'artifacts.oci.storage': 'oci',
    'chainsmith.max-retries': '0',
    'chainsmith.retry-horizon': '0s',
  };

  const start = async () => {
    controller = await startSigningController(ns, systemNs, keysDir);
  };

  before(async () => {
    ns = await createNamespace('audit');
    systemNs = await createNamespace('audit-sys');
    keysDir = await x509SecretsDir('chainsmith-audit-keys-');
    await writeChainsConfig(systemNs, data);
    await start();

    const image = await pushRandomImage(`${stackEnv().registry}/audit/app`);
    signedImage = image.ref;
    names.signed = await completedRun(ns, [
      { name: 'IMAGE_URL', value: image.repository },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ]);
    names.skipped = await completedRun(ns);
    // managed by another controller (not in filter.managedBy): chainsmith leaves it alone
    const foreign = await createTaskRun(ns, {
      spec: {
        managedBy: 'example.com/other-controller',
        serviceAccountName: 'default',
        taskRef: { kind: 'Task', name: 'build-push' },
      },
    });
    await completeTaskRun(ns, foreign.metadata.name!);
    names.filtered = foreign.metadata.name!;
    names.failed = await completedRun(ns, [
      { name: 'IMAGE_URL', value: '127.0.0.1:1/audit/unreachable' },
      { name: 'IMAGE_DIGEST', value: UNREACHABLE_DIGEST },
    ]);
    await waitForMark(ns, names.signed, 'true');
    await waitForMark(ns, names.failed, 'failed');
    await controller!.waitForLog((l) => l.includes('nothing signed') && l.includes(names.skipped), 30_000);
    await controller!.stop();
    controller = undefined;
    // completed while no controller runs: pending
    names.pending = await completedRun(ns, [
      { name: 'IMAGE_URL', value: image.repository },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ]);
  });

  after(async () => {
    await controller?.stop();
    await rm(keysDir, { recursive: true, force: true });
  });

  test('audit --json classifies each run, with reasons, totals, oldest pending and latency', async () => {
    const res = await cli(['audit', '--namespace', ns, '--system-namespace', systemNs, '--json', '--page-size', '2']);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as AuditResult;
    const state = (name: string) => report.runs.find((r) => r.name === name);
    assert.equal(state(names.signed)?.state, 'signed');
    assert.equal(typeof state(names.signed)?.signLatencySeconds, 'number');
    assert.equal(state(names.skipped)?.state, 'skipped');
    assert.match(state(names.skipped)!.reason!, /^NoArtifacts: /);
    assert.equal(state(names.filtered)?.state, 'skipped');
    assert.match(state(names.filtered)!.reason!, /spec\.managedBy is "example\.com\/other-controller"/);
    assert.equal(state(names.failed)?.state, 'failed');
    assert.match(state(names.failed)!.reason!, /127\.0\.0\.1:1/);
    assert.equal(state(names.pending)?.state, 'pending');
    assert.deepEqual(report.summary.totals, {
      signed: 1,
      unverified: 0,
      unlogged: 0,
      failed: 1,
      skipped: 2,
      pending: 1,
      total: 5,
    });
    assert.deepEqual(report.transparency, { enabled: false, manual: false });
    assert.deepEqual(
      report.summary.namespaces.map((n) => [n.namespace, n.total]),
      [[ns, 5]],
    );
    assert.equal(report.summary.oldestPending?.name, names.pending);
    assert.equal(report.summary.signLatency.count, 1);
    assert.ok(report.summary.signLatency.p50Seconds !== undefined && report.summary.signLatency.p50Seconds < 120);
  });

  test('the image the controller signed verifies with chainsmith verify, as with cosign verify', async () => {
    const ours = await cli(['verify', '--key', join(keysDir, 'cosign.pub'), signedImage]);
    assert.equal(ours.code, 0, ours.stdout + ours.stderr);
    const cosign = await exec(stackEnv().cosign, [
      'verify',
      '--key',
      join(keysDir, 'cosign.pub'),
      '--insecure-ignore-tlog',
      '--allow-http-registry',
      signedImage,
    ]);
    assert.match(cosign.stdout, /docker-manifest-digest/);
  });

  test('audit prints a readable table by default', async () => {
    const res = await cli(['audit', '--namespace', ns, '--system-namespace', systemNs]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /NAMESPACE\s+SIGNED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL/);
    assert.match(res.stdout, new RegExp(`${ns}\\s+1\\s+1\\s+2\\s+1\\s+5`));
    assert.match(res.stdout, new RegExp(`oldest pending: TaskRun ${ns}/${names.pending}`));
    assert.match(res.stdout, new RegExp(`failed\\s+TaskRun\\s+${ns}/${names.failed}\\s+\\S`));
    assert.match(res.stdout, /completion → signed: p50 /);
  });

  test('audit --since excludes older runs; bad input exits 2 with one line', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const res = await cli(['audit', '--namespace', ns, '--system-namespace', systemNs, '--json', '--since', '1s']);
    assert.equal((JSON.parse(res.stdout) as AuditResult).summary.totals.total, 0);
    const bad = await cli(['audit', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    const both = await cli(['resign', '--namespace', ns, '--all-namespaces']);
    assert.equal(both.code, 2);
  });

  test('resign --dry-run lists the marked runs and changes nothing', async () => {
    const before = await getTaskRun(ns, names.signed);
    const res = await cli(['resign', '--namespace', ns, '--dry-run']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /dry run: would clear the marks on 2 run\(s\)/);
    assert.match(res.stdout, new RegExp(`${names.failed} \\(signed: failed\\)`));
    const after = await getTaskRun(ns, names.signed);
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'the run was not written');
    assert.equal(await annotation(ns, names.failed, 'chains.tekton.dev/signed'), 'failed');
  });

  test('resign --failed-only clears the failed run only, reporting progress on stderr', async () => {
    const res = await cli(['resign', '--namespace', ns, '--failed-only']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /cleared the marks on 1 of 1 run/);
    assert.match(res.stderr, /resign: 1\/1 /);
    assert.equal(await annotation(ns, names.failed, 'chains.tekton.dev/signed'), undefined);
    assert.equal(await annotation(ns, names.failed, 'chains.tekton.dev/retries'), undefined);
    assert.equal(await annotation(ns, names.failed, 'chainsmith.dev/last-failure'), undefined);
    assert.equal(await annotation(ns, names.signed, 'chains.tekton.dev/signed'), 'true');
  });

  test('after resign the controller signs the run again', async () => {
    const signedAt = await annotation(ns, names.signed, 'chainsmith.dev/signed-at');
    await new Promise((r) => setTimeout(r, 1100)); // signed-at has second precision
    const res = await cli(['resign', '--namespace', ns, '--selector', `tekton.dev/taskRun=${names.signed}`]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /cleared the marks on 1 of 1 run/);
    assert.equal(await annotation(ns, names.signed, 'chains.tekton.dev/signed'), undefined);
    await start();
    const again = await waitForMark(ns, names.signed, 'true');
    assert.notEqual(again.metadata.annotations?.['chainsmith.dev/signed-at'], signedAt);
    // the pending run is signed too, now that a controller runs; the filtered one is still left alone
    await waitForMark(ns, names.pending, 'true');
    assert.equal(await annotation(ns, names.filtered, 'chains.tekton.dev/signed'), undefined);
  });

  test('with transparency on, runs signed without a Rekor entry are unlogged; one signed with it is signed', async () => {
    await controller?.stop();
    controller = undefined;
    const rekor = rekorEnv();
    await writeChainsConfig(systemNs, { ...data, 'transparency.enabled': 'true', 'transparency.url': rekor.url });
    const before = await cli(['audit', '--namespace', ns, '--system-namespace', systemNs, '--json']);
    assert.equal(before.code, 0, before.stderr);
    const report = JSON.parse(before.stdout) as AuditResult;
    const state = (r: AuditResult, name: string) => r.runs.find((x) => x.name === name);
    assert.deepEqual(report.transparency, { enabled: true, manual: false });
    for (const name of [names.signed, names.pending]) {
      assert.equal(state(report, name)?.state, 'unlogged', name);
      assert.match(state(report, name)!.reason!, /no transparency-log entry/);
    }
    assert.equal(report.summary.totals.unlogged, 2);

    await start();
    const image = await pushRandomImage(`${stackEnv().registry}/audit/logged`);
    const logged = await completedRun(ns, [
      { name: 'IMAGE_URL', value: image.repository },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ]);
    const tr = await waitForMark(ns, logged, 'true');
    assert.match(
      tr.metadata.annotations?.['chains.tekton.dev/transparency'] ?? '',
      /\/api\/v1\/log\/entries\?logIndex=/,
    );
    const after = await cli(['audit', '--namespace', ns, '--system-namespace', systemNs]);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /transparency log on \(true\)/);
    assert.match(after.stdout, /NAMESPACE\s+SIGNED\s+UNLOGGED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL/);
    assert.match(
      after.stdout,
      new RegExp(`unlogged\\s+TaskRun\\s+${ns}/${names.signed}\\s+signed, but no transparency-log`),
    );
    assert.doesNotMatch(after.stdout, new RegExp(`${ns}/${logged}\\b`));
  });
});

describe('audit groups runs by signing policy and signer', () => {
  // the annotations the controller writes (src/tekton/annotations.ts); no controller runs here: the runs are
  // created carrying them, as the controller would leave them
  const POLICY = 'chainsmith.dev/signing-policy';
  const SIGNER = 'chainsmith.dev/policy-signer';
  const signed = (at: string) => ({ 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': at });
  let teamA: string;
  let teamB: string;
  let plain: string;
  const names = { a1: '', a2: '', aPipe: '', b1: '', bKeyed: '', refused: '', conflict: '', plain: '' };

  async function annotatedRun(ns: string, annotations: Record<string, string>): Promise<string> {
    const tr = await createTaskRun(ns, { metadata: { annotations } });
    await completeTaskRun(ns, tr.metadata.name!);
    return tr.metadata.name!;
  }

  before(async () => {
    teamA = await createNamespace('audit-team-a');
    teamB = await createNamespace('audit-team-b');
    plain = await createNamespace('audit-plain');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const secretA = { ...signed(now), [POLICY]: 'team-a', [SIGNER]: 'secret/team-a-signing' };
    names.a1 = await annotatedRun(teamA, secretA);
    names.a2 = await annotatedRun(teamA, secretA);
    const pr = await createPipelineRun(teamA, { metadata: { annotations: secretA } });
    await completePipelineRun(teamA, pr.metadata.name!);
    names.aPipe = pr.metadata.name!;
    names.b1 = await annotatedRun(teamB, { ...signed(now), [POLICY]: 'builds', [SIGNER]: `keyless/${teamB}/builder` });
    // a policy without a signer of its own: the cluster's key signed it
    names.bKeyed = await annotatedRun(teamB, { ...signed(now), [POLICY]: 'builder-id-only' });
    names.refused = await annotatedRun(teamB, {
      'chains.tekton.dev/signed': 'failed',
      'chainsmith.dev/last-failure': `PolicyRefused: SigningPolicy ${teamB}/rogue is not granted: secret other-team-key`,
    });
    names.conflict = await annotatedRun(teamA, {
      'chains.tekton.dev/signed': 'failed',
      'chainsmith.dev/last-failure': `PolicyConflict: SigningPolicies ${teamA}/x and ${teamA}/y both select this run`,
    });
    names.plain = await annotatedRun(plain, signed(now));
  });

  test('audit -A --json: policy and signer per run, and summary.policies per (policy, signer)', async () => {
    const res = await cli(['audit', '-A', '--json', '--page-size', '3']);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as AuditResult;
    const entry = (ns: string, name: string) => report.runs.find((r) => r.namespace === ns && r.name === name)!;
    assert.deepEqual(
      [entry(teamA, names.a1).policy, entry(teamA, names.a1).policySigner],
      [`${teamA}/team-a`, 'secret/team-a-signing'],
    );
    assert.equal(entry(teamA, names.aPipe).kind, 'PipelineRun');
    assert.equal(entry(teamA, names.aPipe).policy, `${teamA}/team-a`);
    assert.equal(entry(teamB, names.b1).policySigner, `keyless/${teamB}/builder`);
    assert.deepEqual(
      [entry(teamB, names.bKeyed).policy, entry(teamB, names.bKeyed).policySigner],
      [`${teamB}/builder-id-only`, undefined],
    );
    const plainRun = entry(plain, names.plain);
    assert.deepEqual([plainRun.state, plainRun.policy, plainRun.policySigner], ['signed', undefined, undefined]);
    // refused and conflicting runs: failed, with the reason
    assert.equal(entry(teamB, names.refused).state, 'failed');
    assert.match(entry(teamB, names.refused).reason!, /^PolicyRefused: SigningPolicy .*\/rogue is not granted/);
    assert.equal(entry(teamA, names.conflict).state, 'failed');
    assert.match(entry(teamA, names.conflict).reason!, /^PolicyConflict: /);

    const group = (policy: string) =>
      report.summary.policies.filter((p) => p.policy === policy).map((p) => [p.signer, p.signed, p.failed, p.total]);
    assert.deepEqual(group(`${teamA}/team-a`), [['secret/team-a-signing', 3, 0, 3]]);
    assert.deepEqual(group(`${teamB}/builds`), [[`keyless/${teamB}/builder`, 1, 0, 1]]);
    assert.deepEqual(group(`${teamB}/builder-id-only`), [['chains-config', 1, 0, 1]]);
    // other suites' runs share these groups: ours are among them
    const atLeast = (policy: string, signer: string, state: 'signed' | 'failed') => {
      const g = report.summary.policies.find((p) => p.policy === policy && p.signer === signer);
      assert.ok(g && g[state] >= 1, `${policy} ${signer}: ${JSON.stringify(g)}`);
    };
    atLeast('(refused)', '-', 'failed');
    atLeast('(conflict)', '-', 'failed');
    atLeast('chains-config', 'chains-config', 'signed');
    const counted = report.summary.policies.reduce((n, p) => n + p.total, 0);
    assert.equal(counted, report.summary.totals.total, 'every run is counted in exactly one group');
    const totals = report.summary.policies.map((p) => p.total);
    assert.deepEqual(
      totals,
      [...totals].sort((x, y) => y - x),
      'most runs first',
    );
  });

  test('the text report shows BY SIGNING POLICY only where runs were signed under a policy', async () => {
    const res = await cli(['audit', '--namespace', teamA]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /BY SIGNING POLICY/);
    assert.match(res.stdout, /POLICY\s+SIGNER\s+SIGNED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL/);
    assert.match(res.stdout, new RegExp(`${teamA}/team-a\\s+secret/team-a-signing\\s+3\\s+0\\s+0\\s+0\\s+3`));
    assert.match(res.stdout, /\(conflict\)\s+-\s+0\s+1\s+0\s+0\s+1/);
    assert.match(res.stdout, new RegExp(`failed\\s+TaskRun\\s+${teamA}/${names.conflict}\\s+PolicyConflict: `));
    const none = await cli(['audit', '--namespace', plain]);
    assert.equal(none.code, 0, none.stderr);
    assert.doesNotMatch(none.stdout, /POLICY/);
  });

  test('audit --policy keeps the runs of one policy', async () => {
    const res = await cli(['audit', '-A', '--json', '--policy', `${teamA}/team-a`]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as AuditResult;
    assert.deepEqual(report.runs.map((r) => r.name).sort(), [names.a1, names.a2, names.aPipe].sort());
    assert.equal(report.summary.totals.signed, 3);
    assert.equal(report.policy, `${teamA}/team-a`);
    const empty = await cli(['audit', '-A', '--policy', ' ']);
    assert.equal(empty.code, 2);
  });
});
