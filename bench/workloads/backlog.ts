// Workload (b), backlog: M completed, unsigned TaskRuns exist when the arm starts (a busy cluster
// turning signing on, chains#979). Once the arm signs its first run, one new TaskRun completes
// per second; we measure the NEW runs' completion→signed time while the backlog drains.
import { TASKRUNS } from '../../src/kube/client.js';
import { mapLimit, pollUntil, sleep } from '../lib/pool.js';
import { completeTaskRun, createTaskRun } from '../lib/runs.js';
import { createNamespace } from '../lib/setup.js';
import { SignedWatch } from '../measure/signed-watch.js';
import { summarise } from '../measure/stats.js';
import { machineNote, Meter, sigstoreFields, requestMix } from './common.js';
import type { WorkloadContext, WorkloadResult } from './types.js';

export async function backlog(ctx: WorkloadContext, m: number, newRuns: number): Promise<WorkloadResult> {
  const { api } = ctx;
  const { client } = api;
  const ns = 'bench-backlog';
  await createNamespace(client, ns);
  const old = Array.from({ length: m }, (_, i) => `old-${i}`);
  const fresh = Array.from({ length: newRuns }, (_, i) => `new-${i}`);
  const images = await ctx.images(ns, m + newRuns);
  ctx.log(`backlog: creating ${m} completed runs and ${newRuns} pending ones`);
  await mapLimit(old, 32, async (name, i) => {
    await createTaskRun(client, ns, name);
    await completeTaskRun(client, ns, name, images[i]!);
  });
  await mapLimit(fresh, 32, (name) => createTaskRun(client, ns, name));
  const watch = new SignedWatch(client, ns, TASKRUNS);
  const proc = await ctx.startArm();
  const deadline = Date.now() + ctx.timeoutMs;
  try {
    const meter = new Meter(api, proc.pid, ctx);
    await meter.begin();
    const tStart = Date.now();
    if (!(await pollUntil(() => watch.countSigned(old) > 0, 180_000, 100)))
      throw new Error('no backlog run was signed within 180s of the start');
    const firstSignedS = (Date.now() - tStart) / 1000;
    ctx.log(`backlog: first old run signed after ${firstSignedS.toFixed(1)}s; completing one new run per second`);
    const completedAt = new Map<string, number>();
    const backlogDrained = (): boolean => watch.countSigned(old) === m;
    const completing: Array<Promise<void>> = [];
    for (const [i, name] of fresh.entries()) {
      if (Date.now() > deadline) break;
      const due = tStart + firstSignedS * 1000 + i * 1000;
      await sleep(Math.max(0, due - Date.now()));
      completing.push(completeTaskRun(client, ns, name, images[m + i]!).then((t) => void completedAt.set(name, t)));
    }
    await Promise.all(completing);
    const all = await pollUntil(
      () => backlogDrained() && watch.countSigned(fresh) === completedAt.size,
      Math.max(0, deadline - Date.now()),
      200,
    );
    const reading = await meter.end();
    const oldTimes = old.map((n) => watch.signedAt.get(n)).filter((t): t is number => t !== undefined);
    const drainEnd = oldTimes.length === m ? Math.max(...oldTimes) : Date.now();
    const latencies: number[] = [];
    const duringDrain: number[] = [];
    for (const [name, t] of completedAt) {
      const s = watch.signedAt.get(name);
      if (s === undefined) continue;
      latencies.push((s - t) / 1000);
      if (t < drainEnd) duringDrain.push((s - t) / 1000);
    }
    const drainS = (drainEnd - tStart) / 1000;
    const totalSigned = oldTimes.length + latencies.length;
    const during = summarise(duringDrain);
    const tlog = sigstoreFields(reading, totalSigned);
    return {
      workload: 'backlog',
      runs: m,
      signed: oldTimes.length,
      elapsedS: drainS,
      throughput: oldTimes.length / drainS,
      latency: summarise(latencies),
      latencyOf: `${completedAt.size} new runs (1/s)`,
      cpuSecondsPerRun: reading.cpuSeconds / Math.max(1, totalSigned),
      peakRssMiB: reading.peakRssMiB,
      apiRequestsPerRun: reading.apiRequests / Math.max(1, totalSigned),
      timedOut: !all,
      ...(tlog.rekor ? { rekor: tlog.rekor } : {}),
      ...(tlog.fulcio ? { fulcio: tlog.fulcio } : {}),
      notes: [
        requestMix(reading.byKind, totalSigned),
        ...tlog.notes,
        machineNote(reading, totalSigned),
        `backlog of ${m} drained in ${drainS.toFixed(1)}s (first signature after ${firstSignedS.toFixed(1)}s)`,
        `${duringDrain.length} new runs completed while it drained: p95 ${Number.isNaN(during.p95) ? '-' : during.p95.toFixed(2) + 's'}`,
      ],
    };
  } finally {
    watch.stop();
    await proc.stop();
  }
}
