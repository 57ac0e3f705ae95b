// Fault scenario 3 (docs/reliability.md): stop the registry mid-batch. Runs whose OCI storage fails retry with
// backoff and all end signed after it returns; `signed: "failed"` must never appear for a transient outage
// shorter than `chainsmith.retry-horizon` (default 10m). The registry comes back with its exact command line
// (same port, same storage) and is restored in `after` even when the test fails.
// FAULTS_RUNS (CI 40, full 200), FAULTS_OUTAGE_SECONDS (CI 15, full 60).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FULL,
  buildRun,
  checkCosignLayout,
  knob,
  pool,
  pushImages,
  recordResult,
  registryHealthy,
  scenario,
  scenarioTimeoutMs,
  sleep,
  stackDaemon,
  tally,
  waitAllMarked,
  type Scenario,
  type StackDaemon,
} from './lib.js';
import { waitFor } from '../lib/index.js';

const RUNS = knob('FAULTS_RUNS', 40, 200);
const OUTAGE_SECONDS = knob('FAULTS_OUTAGE_SECONDS', 15, 60);

let s: Scenario | undefined;
let registry: StackDaemon | undefined;

after(async () => {
  if (registry && !registry.alive()) await registry.start();
  await registryHealthy();
  await s?.teardown();
});

test(
  `a ${OUTAGE_SECONDS} s registry outage mid-batch of ${RUNS} runs: retried with backoff, never marked failed, all signed after`,
  { timeout: scenarioTimeoutMs(280_000) },
  async () => {
    s = await scenario('registry', { 'artifacts.taskrun.storage': 'tekton,oci', 'artifacts.oci.storage': 'oci' });
    registry = stackDaemon('registry');
    const images = await pushImages(RUNS, 'outage');
    const controller = await s.start();
    await controller.waitForLog(/informers synced/, 30_000);

    // watch for a false "failed" the whole time, not only at the end (a re-armed run would hide it)
    let failedSeen = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const t = await tally(s!.ns).catch(() => undefined);
        if (t) failedSeen = Math.max(failedSeen, t.failed);
        await sleep(500);
      }
    })();

    const firstHalf = Math.floor(RUNS / 2);
    await pool(images.slice(0, firstHalf), 4, (img) => buildRun(s!.ns, img));
    await waitFor(async () => (await tally(s!.ns)).signed >= Math.min(3, firstHalf), {
      timeoutMs: 60_000,
      description: 'a few runs signed',
    });

    await registry.stop();
    const downAt = Date.now();
    // the rest completes while the registry is away
    await pool(images.slice(firstHalf), 4, (img) => buildRun(s!.ns, img));
    await sleep(Math.max(0, OUTAGE_SECONDS * 1000 - (Date.now() - downAt)));
    const during = await tally(s.ns);
    await registry.start();
    await registryHealthy();
    const upAt = Date.now();

    const t = await waitAllMarked(s.ns, RUNS, FULL ? 20 * 60_000 : 150_000);
    const allSignedAfter = (Date.now() - upAt) / 1000;
    watching = false;
    await watcher;
    const layout = await checkCosignLayout(images);
    const transientLines = controller
      .jsonLogs()
      .filter((l) => l.message === 'signing failed' && l.transient === true).length;
    await recordResult({
      scenario: 'registry-outage',
      mode: FULL ? 'full' : 'ci',
      runs: RUNS,
      lost: t.unsigned + layout.missingSig + layout.missingAtt,
      duplicated: layout.duplicated,
      falselyMarked: t.unbacked,
      failed: Math.max(failedSeen, t.failed),
      recoverySeconds: [allSignedAfter],
      notes: `registry down ${((upAt - downAt) / 1000).toFixed(1)} s; ${during.unsigned} runs waiting when it returned; ${transientLines} transient "signing failed" retries logged; time = registry back → every run signed`,
    });
    assert.ok(during.unsigned > 0, 'the outage held runs back (otherwise it tested nothing)');
    assert.ok(transientLines > 0, 'the failures were recognised as transient');
    assert.equal(failedSeen, 0, 'signed "failed" never appeared during the outage');
    assert.equal(t.failed, 0);
    assert.equal(t.signed, RUNS);
    assert.equal(t.finalizers, 0);
    assert.equal(t.unbacked, 0);
    assert.equal(layout.missingSig + layout.missingAtt, 0, 'every image has its .sig and .att');
    assert.deepEqual(layout.details, [], 'no duplicate layers after the retries');
  },
);
