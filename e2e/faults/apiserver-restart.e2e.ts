// Fault scenario 2 (docs/reliability.md): restart kube-apiserver and etcd of the shared stack mid-batch. The
// controller must reconnect its watches, relist and finish: every run signed, none lost, none failed.
// The daemons come back with their exact command lines (same ports, same etcd data dir), and are restored in
// `after` even when the test fails. FAULTS_RUNS (CI 60, full 300), FAULTS_DOWN_SECONDS (CI 5, full 20).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FULL,
  FAKE_DIGEST,
  apiserverReady,
  buildRun,
  etcdHealthy,
  knob,
  pool,
  recordResult,
  scenario,
  scenarioTimeoutMs,
  sleep,
  stackDaemon,
  tally,
  waitAllMarked,
  type Scenario,
  type StackDaemon,
} from './lib.js';
import { stackEnv, waitFor } from '../lib/index.js';

const RUNS = knob('FAULTS_RUNS', 60, 300);
const DOWN_SECONDS = knob('FAULTS_DOWN_SECONDS', 5, 20);

let s: Scenario | undefined;
let etcd: StackDaemon | undefined;
let apiserver: StackDaemon | undefined;

/** Brings etcd, then the apiserver, back (idempotent: a live daemon is left alone). */
async function restore(): Promise<void> {
  if (etcd && !etcd.alive()) await etcd.start();
  await etcdHealthy();
  if (apiserver && !apiserver.alive()) await apiserver.start();
  await apiserverReady();
}

after(async () => {
  await restore();
  await s?.teardown();
});

test(
  `restart kube-apiserver and etcd mid-batch of ${RUNS} runs: the controller reconnects, relists and signs them all`,
  { timeout: scenarioTimeoutMs(280_000) },
  async () => {
    s = await scenario('apiserver', { 'artifacts.oci.storage': 'tekton' });
    etcd = stackDaemon('etcd');
    apiserver = stackDaemon('kube-apiserver');
    const controller = await s.start();
    await controller.waitForLog(/informers synced/, 30_000);
    let exited = false;
    void controller.exited.then(() => (exited = true));
    const image = { repository: `${stackEnv().registry}/faults/apiserver`, digest: FAKE_DIGEST };

    const firstHalf = Math.floor(RUNS / 2);
    await pool(Array.from({ length: firstHalf }), 4, () => buildRun(s!.ns, image));
    // mid-batch: some runs signed, others still queued
    await waitFor(async () => (await tally(s!.ns)).signed >= Math.min(5, firstHalf), {
      timeoutMs: 60_000,
      description: 'a few runs signed',
    });

    const downAt = Date.now();
    await apiserver.stop();
    await etcd.stop();
    await sleep(DOWN_SECONDS * 1000);
    await restore();
    const upAt = Date.now();
    const linesAtRestore = controller.lines.length;

    // the rest of the batch completes after the restart; the controller must see it through new watches
    await pool(Array.from({ length: RUNS - firstHalf }), 4, () => buildRun(s!.ns, image));
    await waitFor(() => controller.lines.slice(linesAtRestore).some((l) => l.includes('"message":"signed"')), {
      timeoutMs: 120_000,
      intervalMs: 100,
      description: 'a run signed after the restart',
    });
    const recovered = (Date.now() - upAt) / 1000;
    const t = await waitAllMarked(s.ns, RUNS, FULL ? 20 * 60_000 : 120_000);
    const reconnectLines = controller.lines.filter((l) =>
      /watch failed; reconnecting|list failed; retrying|410 Gone|watch error event/.test(l),
    ).length;
    await recordResult({
      scenario: 'apiserver-restart',
      mode: FULL ? 'full' : 'ci',
      runs: RUNS,
      lost: t.unsigned,
      duplicated: 0,
      falselyMarked: t.unbacked,
      failed: t.failed,
      recoverySeconds: [recovered],
      notes: `apiserver+etcd down ${((upAt - downAt) / 1000).toFixed(1)} s (stop, ${DOWN_SECONDS} s pause, start, ready); ${reconnectLines} reconnect/relist log lines; the controller process was never restarted`,
    });
    assert.equal(exited, false, 'the controller process survived the outage');
    assert.ok(reconnectLines > 0, 'the controller noticed the outage and reconnected');
    assert.equal(t.failed, 0);
    assert.equal(t.signed, RUNS);
    assert.equal(t.finalizers, 0);
    assert.equal(t.unbacked, 0);
  },
);
