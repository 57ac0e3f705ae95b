// Workload (c): P PipelineRuns with 5 child TaskRuns each. The arm starts and signs a canary;
// then every pipeline completes (children first, then the PipelineRun, as Tekton does).
// Latency is the PipelineRun's completion→signed; throughput counts every signed run.
import { PIPELINERUNS, TASKRUNS } from '../../src/kube/client.js';
import { mapLimit, pollUntil } from '../lib/pool.js';
import { completePipelineRun, completeTaskRun, createPipelineRun, createTaskRun } from '../lib/runs.js';
import { createNamespace } from '../lib/setup.js';
import { SignedWatch } from '../measure/signed-watch.js';
import { summarise } from '../measure/stats.js';
import { awaitCanary, createCanary, machineNote, Meter, sigstoreFields, requestMix } from './common.js';
import type { WorkloadContext, WorkloadResult } from './types.js';

const CHILDREN = 5;

export async function pipelines(ctx: WorkloadContext, p: number): Promise<WorkloadResult> {
  const { api } = ctx;
  const { client } = api;
  const ns = 'bench-pipelines';
  await createNamespace(client, ns);
  const prs = Array.from({ length: p }, (_, i) => `pipe-${i}`);
  const children = prs.map((pr) =>
    Array.from({ length: CHILDREN }, (_, c) => ({ name: `${pr}-task${c}`, task: `task${c}` })),
  );
  const childNames = children.flat().map((c) => c.name);
  const images = await ctx.images(ns, p * CHILDREN + 1);
  await mapLimit(prs, 16, async (pr, i) => {
    const uid = await createPipelineRun(client, ns, pr);
    for (const c of children[i]!) await createTaskRun(client, ns, c.name, { name: pr, uid, task: c.task });
  });
  await createCanary(api, ns);
  const trWatch = new SignedWatch(client, ns, TASKRUNS);
  const prWatch = new SignedWatch(client, ns, PIPELINERUNS);
  const proc = await ctx.startArm();
  try {
    await awaitCanary(api, ns, trWatch, images[p * CHILDREN]!);
    const meter = new Meter(api, proc.pid, ctx);
    await meter.begin();
    ctx.log(`pipelines: completing ${p} PipelineRuns × ${CHILDREN} TaskRuns`);
    const t0 = Date.now();
    const prCompletedAt = await mapLimit(prs, 16, async (pr, i) => {
      await Promise.all(children[i]!.map((c, k) => completeTaskRun(client, ns, c.name, images[i * CHILDREN + k]!)));
      return completePipelineRun(client, ns, pr, children[i]!, images[i * CHILDREN + CHILDREN - 1]!);
    });
    const all = await pollUntil(
      () => prWatch.countSigned(prs) === p && trWatch.countSigned(childNames) === childNames.length,
      ctx.timeoutMs,
      100,
    );
    const reading = await meter.end();
    const prSigned = prs.map((n) => prWatch.signedAt.get(n));
    const latencies = prSigned.flatMap((s, i) => (s === undefined ? [] : [(s - prCompletedAt[i]!) / 1000]));
    const signedTimes = [...prSigned, ...childNames.map((n) => trWatch.signedAt.get(n))].filter(
      (t): t is number => t !== undefined,
    );
    const elapsedS = ((signedTimes.length ? Math.max(...signedTimes) : Date.now()) - t0) / 1000;
    const tlog = sigstoreFields(reading, signedTimes.length);
    return {
      workload: 'pipelines',
      runs: p * (CHILDREN + 1),
      signed: signedTimes.length,
      elapsedS,
      throughput: signedTimes.length / elapsedS,
      latency: summarise(latencies),
      latencyOf: `${p} PipelineRuns`,
      cpuSecondsPerRun: reading.cpuSeconds / Math.max(1, signedTimes.length),
      peakRssMiB: reading.peakRssMiB,
      apiRequestsPerRun: reading.apiRequests / Math.max(1, signedTimes.length),
      timedOut: !all,
      ...(tlog.rekor ? { rekor: tlog.rekor } : {}),
      ...(tlog.fulcio ? { fulcio: tlog.fulcio } : {}),
      notes: [
        requestMix(reading.byKind, signedTimes.length),
        ...tlog.notes,
        machineNote(reading, signedTimes.length),
        `${latencies.length}/${p} PipelineRuns and ${trWatch.countSigned(childNames)}/${childNames.length} TaskRuns signed`,
      ],
    };
  } finally {
    trWatch.stop();
    prWatch.stop();
    await proc.stop();
  }
}
