// Fault scenario 1 (docs/reliability.md): `kill -9` the controller at random moments while runs complete, and
// restart it. Every run must end signed "true" with its evidence, no `.sig`/`.att` may gain a second layer, and
// no finalizer may be left behind. FAULTS_RUNS (CI 100, full 500), FAULTS_KILLS (CI 2, full 5).
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
  scenario,
  scenarioTimeoutMs,
  signedCount,
  sleep,
  tally,
  waitAllMarked,
  type Scenario,
} from './lib.js';
import { waitFor, type ControllerProcess } from '../lib/index.js';

const RUNS = knob('FAULTS_RUNS', 100, 500);
const KILLS = knob('FAULTS_KILLS', 2, 5);

let s: Scenario | undefined;
after(() => s?.teardown());

test(
  `kill -9 the controller ${KILLS}× while ${RUNS} runs complete: all signed once, no duplicate layers, no finalizer left`,
  { timeout: scenarioTimeoutMs(280_000) },
  async () => {
    s = await scenario('kill', { 'artifacts.taskrun.storage': 'tekton,oci', 'artifacts.oci.storage': 'oci' });
    const images = await pushImages(RUNS, 'kill');
    let controller: ControllerProcess = await s.start();
    await controller.waitForLog(/informers synced/, 30_000);

    // runs complete in a steady stream while the killer strikes at random moments
    let created = 0;
    const producing = pool(images, 4, async (img) => {
      await buildRun(s!.ns, img);
      created++;
    });
    const recovery: number[] = [];
    // random moments while signing is under way: when the signed count passes random points of the batch
    const thresholds = Array.from({ length: KILLS }, () => Math.floor(RUNS * (0.05 + Math.random() * 0.85))).sort(
      (a, b) => a - b,
    );
    for (let k = 0; k < KILLS; k++) {
      await waitFor(async () => (await tally(s!.ns)).signed >= thresholds[k]!, {
        timeoutMs: 120_000,
        intervalMs: 100,
        description: `${thresholds[k]} runs signed`,
      });
      await sleep(Math.random() * 300);
      const before = signedCount(controller);
      process.kill(controller.pid, 'SIGKILL');
      const killedAt = Date.now();
      await controller.exited;
      await sleep(Math.random() * 1_000);
      controller = await s.start();
      await controller.waitForLog(/informers synced/, 60_000);
      // recovered = the new process signs its first run (there is always work left while runs are produced)
      const t = await tally(s.ns);
      if (t.unsigned > 0 || created < RUNS) {
        await controller.waitForLog((l) => l.includes('"message":"signed"'), 120_000);
        recovery.push((Date.now() - killedAt) / 1000);
      }
      console.log(
        `kill ${k + 1} at ≥${thresholds[k]} signed: the killed process had signed ${before}; ${created}/${RUNS} runs created so far`,
      );
    }
    await producing;
    const t = await waitAllMarked(s.ns, RUNS, FULL ? 30 * 60_000 : 150_000);
    const layout = await checkCosignLayout(images);
    const signedLines = s.controllers.reduce((n, c) => n + signedCount(c), 0);
    await recordResult({
      scenario: 'controller-kill',
      mode: FULL ? 'full' : 'ci',
      runs: RUNS,
      lost: t.unsigned + layout.missingSig + layout.missingAtt,
      duplicated: layout.duplicated,
      falselyMarked: t.unbacked,
      failed: t.failed,
      recoverySeconds: recovery,
      notes: `${KILLS} kills; ${signedLines} "signed" log lines across ${s.controllers.length} processes (a run signed again after a kill between store and mark counts twice)`,
    });
    assert.equal(t.failed, 0, 'no run marked failed');
    assert.equal(t.signed, RUNS, 'every run signed "true"');
    assert.equal(t.finalizers, 0, 'no finalizer left behind');
    assert.equal(t.unbacked, 0, 'every signed mark has its evidence');
    assert.equal(layout.missingSig + layout.missingAtt, 0, 'every image has its .sig and .att');
    assert.deepEqual(layout.details, [], 'no .sig/.att holds a duplicate layer');
  },
);
