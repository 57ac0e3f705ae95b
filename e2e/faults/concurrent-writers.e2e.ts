// Fault scenario 5 (docs/reliability.md): another client patches labels and annotations of the same runs while
// the controller signs them — both the way `kubectl annotate` does (merge patch, no precondition) and the way
// a controller does (GET, modify, PUT with the read resourceVersion, retry on 409). No write of either side may
// be lost: every run ends with all of the other writer's keys and with chainsmith's mark and payloads.
// FAULTS_RUNS (CI 30, full 150), FAULTS_WRITES (per run and style; CI 4, full 10).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FULL,
  FAKE_DIGEST,
  buildRun,
  knob,
  listRuns,
  pool,
  recordResult,
  scenario,
  scenarioTimeoutMs,
  sleep,
  waitAllMarked,
  type Scenario,
} from './lib.js';
import { getTaskRun, kube, stackEnv } from '../lib/index.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { KubeApiError, TASKRUNS } from '../../src/kube/client.js';

const RUNS = knob('FAULTS_RUNS', 30, 150);
const WRITES = knob('FAULTS_WRITES', 4, 10);

let s: Scenario | undefined;
after(() => s?.teardown());

/** `kubectl annotate`/`label` style: a merge patch without a precondition. */
async function mergePatch(ns: string, name: string, i: number): Promise<void> {
  await kube().mergePatch(TASKRUNS, ns, name, {
    metadata: {
      annotations: { [`writer.example/patch-${i}`]: `v${i}` },
      labels: { [`writer.example/patch-${i}`]: `v${i}` },
    },
  });
}

/** Controller style: read, modify, replace with the read resourceVersion; a 409 means re-read and try again. */
async function readModifyWrite(ns: string, name: string, i: number): Promise<number> {
  for (let conflicts = 0; ; conflicts++) {
    const run = await getTaskRun(ns, name);
    run.metadata.annotations = { ...run.metadata.annotations, [`writer.example/put-${i}`]: `v${i}` };
    try {
      await kube().replace(TASKRUNS, ns, name, run);
      return conflicts;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409) || conflicts > 50) throw err;
    }
  }
}

test(
  `another writer patching ${RUNS} runs ${WRITES * 2}× each while they are signed: no annotation of either writer is lost`,
  { timeout: scenarioTimeoutMs(200_000) },
  async () => {
    s = await scenario('writers', { 'artifacts.oci.storage': 'tekton' });
    const controller = await s.start();
    await controller.waitForLog(/informers synced/, 30_000);
    const image = { repository: `${stackEnv().registry}/faults/writers`, digest: FAKE_DIGEST };

    let conflicts = 0;
    // the other writer starts the moment each run completes, racing the controller's finalizer and finish patches
    await pool(Array.from({ length: RUNS }), 6, async () => {
      const name = await buildRun(s!.ns, image);
      for (let i = 0; i < WRITES; i++) {
        await mergePatch(s!.ns, name, i);
        conflicts += await readModifyWrite(s!.ns, name, i);
        await sleep(Math.random() * 30);
      }
    });
    const start = Date.now();
    const t = await waitAllMarked(s.ns, RUNS, FULL ? 10 * 60_000 : 90_000);
    const settled = (Date.now() - start) / 1000;

    const runs = await listRuns(s.ns);
    const lostOther: string[] = [];
    const lostOurs: string[] = [];
    for (const r of runs as TaskRun[]) {
      const a = r.metadata.annotations ?? {};
      const l = r.metadata.labels ?? {};
      for (let i = 0; i < WRITES; i++) {
        if (a[`writer.example/patch-${i}`] !== `v${i}` || l[`writer.example/patch-${i}`] !== `v${i}`)
          lostOther.push(`${r.metadata.name} patch-${i}`);
        if (a[`writer.example/put-${i}`] !== `v${i}`) lostOther.push(`${r.metadata.name} put-${i}`);
      }
      if (
        !a[`chains.tekton.dev/payload-taskrun-${r.metadata.uid}`] ||
        !a[`chains.tekton.dev/signature-taskrun-${r.metadata.uid}`] ||
        !a['chainsmith.dev/signed-at']
      ) {
        lostOurs.push(r.metadata.name!);
      }
    }
    const apiConflicts = controller.lines.filter((l) => /conflict|409/i.test(l)).length;
    await recordResult({
      scenario: 'concurrent-writers',
      mode: FULL ? 'full' : 'ci',
      runs: RUNS,
      lost: lostOther.length + lostOurs.length + t.unsigned,
      duplicated: 0,
      falselyMarked: t.unbacked,
      failed: t.failed,
      recoverySeconds: [],
      notes: `${RUNS * WRITES * 2} writes by the other client (${conflicts} of its PUTs re-read after a 409); ${apiConflicts} controller log lines about conflicts; lost counts keys of either writer missing at the end; every run marked ${settled.toFixed(1)} s after the last write`,
    });
    assert.deepEqual(lostOther, [], "none of the other writer's labels/annotations were lost");
    assert.deepEqual(lostOurs, [], "none of chainsmith's annotations were lost");
    assert.equal(t.signed, RUNS);
    assert.equal(t.failed, 0);
    assert.equal(t.finalizers, 0);
  },
);
