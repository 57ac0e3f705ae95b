// Fault scenario 4 (docs/reliability.md): two replicas with leader election. Exactly one signs (counted from each
// replica's own "signed" log lines, by run UID); `kill -9` the leader mid-batch and the standby takes over
// within the lease duration (15 s) and signs the rest. FAULTS_RUNS (CI 40, full 200).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FULL,
  FAKE_DIGEST,
  buildRun,
  knob,
  pool,
  recordResult,
  scenario,
  scenarioTimeoutMs,
  tally,
  waitAllMarked,
  type Scenario,
} from './lib.js';
import { stackEnv, waitFor, type ControllerProcess } from '../lib/index.js';

const RUNS = knob('FAULTS_RUNS', 40, 200);
const LEASE_SECONDS = 15; // src/controller/leader.ts default

let s: Scenario | undefined;
after(() => s?.teardown());

/** The UIDs of the runs a replica logged as signed. */
function signedUids(c: ControllerProcess): string[] {
  return c
    .jsonLogs()
    .filter((l) => l.message === 'signed')
    .map((l) => String(l.uid));
}

test(
  `two replicas: only the leader signs; kill -9 it mid-batch of ${RUNS} runs and the standby takes over within ${LEASE_SECONDS} s`,
  { timeout: scenarioTimeoutMs(200_000) },
  async () => {
    s = await scenario('leader', { 'artifacts.oci.storage': 'tekton' }, ['--lease-name', 'chainsmith-faults']);
    const a = await s.start();
    await a.waitForLog(/became the leader/, 30_000);
    const b = await s.start();
    await b.waitForLog(/informers synced/, 30_000);
    const image = { repository: `${stackEnv().registry}/faults/leader`, digest: FAKE_DIGEST };

    const firstHalf = Math.floor(RUNS / 2);
    await pool(Array.from({ length: firstHalf }), 4, () => buildRun(s!.ns, image));
    await waitAllMarked(s.ns, firstHalf, 120_000);
    const beforeKill = { a: signedUids(a).length, b: signedUids(b).length };

    // the rest completes; the leader dies in the middle of it
    const producing = pool(Array.from({ length: RUNS - firstHalf }), 2, () => buildRun(s!.ns, image));
    await waitFor(async () => (await tally(s!.ns)).signed > firstHalf, {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: 'the leader signing the second half',
    });
    process.kill(a.pid, 'SIGKILL');
    const killedAt = Date.now();
    await b.waitForLog(/became the leader/, (LEASE_SECONDS + 10) * 1000);
    const takeover = (Date.now() - killedAt) / 1000;
    await producing;
    const t = await waitAllMarked(s.ns, RUNS, FULL ? 20 * 60_000 : 120_000);

    const ua = signedUids(a);
    const ub = signedUids(b);
    const both = ua.filter((u) => ub.includes(u));
    await recordResult({
      scenario: 'leader-election',
      mode: FULL ? 'full' : 'ci',
      runs: RUNS,
      lost: t.unsigned,
      duplicated: both.length,
      falselyMarked: t.unbacked,
      failed: t.failed,
      recoverySeconds: [takeover],
      notes: `before the kill: leader signed ${beforeKill.a}, standby ${beforeKill.b}; after: leader ${ua.length} in all, standby ${ub.length}; duplicated = runs signed by both (a kill between store and mark); time = kill → standby leads (lease ${LEASE_SECONDS} s)`,
    });
    assert.equal(beforeKill.b, 0, 'the standby signs nothing while the leader lives');
    assert.equal(beforeKill.a, firstHalf, 'the leader signed each run of the first half exactly once');
    // the standby retries every 2 s (leader.ts), so it sees an expired lease at most one retry late
    assert.ok(takeover <= LEASE_SECONDS + 2, `standby took over in ${takeover} s`);
    assert.ok(ub.length > 0, 'the new leader signed the rest');
    assert.ok(both.length <= 1, `at most the one run in flight at the kill is signed twice (got ${both.length})`);
    assert.equal(t.signed, RUNS);
    assert.equal(t.failed, 0);
    assert.equal(t.finalizers, 0);
  },
);
