// Workload (a), burst: N TaskRuns exist; the arm starts and signs a canary; then all N are
// completed at once (concurrent /status patches) and we measure how fast they get signed.
import { TASKRUNS } from '../../src/kube/client.js';
import { mapLimit, pollUntil } from '../lib/pool.js';
import { completeTaskRun, createTaskRun } from '../lib/runs.js';
import { createNamespace } from '../lib/setup.js';
import { SignedWatch } from '../measure/signed-watch.js';

import { awaitCanary, createCanary, machineNote, Meter, sigstoreFields, requestMix } from './common.js';
import { burstFigures, type WorkloadContext, type WorkloadResult } from './types.js';

export async function burst(ctx: WorkloadContext, n: number): Promise<WorkloadResult> {
  const { api } = ctx;
  const { client } = api;
  const ns = 'bench-burst';
  await createNamespace(client, ns);
  const names = Array.from({ length: n }, (_, i) => `burst-${i}`);
  const images = await ctx.images(ns, n + 1);
  await mapLimit(names, 32, (name) => createTaskRun(client, ns, name));
  await createCanary(api, ns);
  const watch = new SignedWatch(client, ns, TASKRUNS);
  const proc = await ctx.startArm();
  try {
    await awaitCanary(api, ns, watch, images[n]!);
    const meter = new Meter(api, proc.pid, ctx);
    await meter.begin();
    ctx.log(`burst: completing ${n} TaskRuns at once`);
    const t0 = Date.now();
    const completedAt = await mapLimit(names, 64, (name, i) => completeTaskRun(client, ns, name, images[i]!));
    const tCompleted = Date.now();
    const all = await pollUntil(() => watch.countSigned(names) === n, ctx.timeoutMs, 100);
    const reading = await meter.end();
    const signedTimes = names.map((name) => watch.signedAt.get(name));
    const latencies = signedTimes.flatMap((s, i) => (s === undefined ? [] : [(s - completedAt[i]!) / 1000]));
    const last = Math.max(...signedTimes.map((s) => s ?? 0));
    const elapsedS = ((latencies.length ? last : Date.now()) - t0) / 1000;
    const tlog = sigstoreFields(reading, latencies.length);
    return {
      ...burstFigures('burst', n, latencies, elapsedS),
      cpuSecondsPerRun: reading.cpuSeconds / Math.max(1, latencies.length),
      peakRssMiB: reading.peakRssMiB,
      apiRequestsPerRun: reading.apiRequests / Math.max(1, latencies.length),
      timedOut: !all,
      ...(tlog.rekor ? { rekor: tlog.rekor } : {}),
      ...(tlog.fulcio ? { fulcio: tlog.fulcio } : {}),
      notes: [
        requestMix(reading.byKind, latencies.length),
        ...tlog.notes,
        machineNote(reading, latencies.length),
        `completing all ${n} took ${((tCompleted - t0) / 1000).toFixed(1)}s`,
      ],
    };
  } finally {
    watch.stop();
    await proc.stop();
  }
}
