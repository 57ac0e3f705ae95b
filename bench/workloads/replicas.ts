// Workload (issue 23), replicas: the burst workload run three times on the same stack, by 1, 2 and then 3 chainsmith
// replicas sharing `buckets: "3"` (Chains' leader-election ConfigMap, default Lease timings). Each replica count gets
// its own namespace, its own Lease names and the same N runs; the clock starts once every replica is ready, the
// buckets are split fairly and a canary is signed. Reported per arm: runs/s, CPU s/run summed over the replicas,
// API requests and writes per run, and the Lease traffic (the API server's count and the replicas' own
// chainsmith_lease_requests_total).
import { CONFIGMAPS, KubeApiError, TASKRUNS, type KubeClient } from '../../src/kube/client.js';
import { mapLimit, pollUntil, sleep } from '../lib/pool.js';
import { freePort } from '../lib/ports.js';
import type { Managed } from '../lib/process.js';
import { completeTaskRun, createTaskRun } from '../lib/runs.js';
import { createNamespace, SYSTEM_NAMESPACE } from '../lib/setup.js';
import { apiserverRequests, requestDelta } from '../measure/apiserver.js';
import { sampleProc } from '../measure/proc.js';
import { SignedWatch } from '../measure/signed-watch.js';

import { awaitCanary, createCanary, machineNote, Meter, requestMix } from './common.js';
import { burstFigures, type WorkloadContext, type WorkloadResult } from './types.js';

/** Buckets for every arm, so only the replica count changes between arms. */
export const REPLICA_BUCKETS = 3;
export const REPLICA_COUNTS = [1, 2, 3] as const;
const LEADER_ELECTION_CONFIG = 'tekton-chains-config-leader-election';
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);
/** Seconds of Lease traffic measured after the burst, with no runs: four renew intervals at the default timings. */
const IDLE_S = 20;

async function writeLeaderElection(client: KubeClient, buckets: number): Promise<void> {
  const body = {
    metadata: { name: LEADER_ELECTION_CONFIG, namespace: SYSTEM_NAMESPACE },
    data: { buckets: String(buckets) },
  };
  try {
    await client.replace(CONFIGMAPS, SYSTEM_NAMESPACE, LEADER_ELECTION_CONFIG, body);
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    await client.create(CONFIGMAPS, SYSTEM_NAMESPACE, body);
  }
}

/** The buckets a replica's /readyz says it holds; undefined while it is not ready. */
async function bucketsHeld(port: number): Promise<number[] | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    const m = /buckets held: ([0-9,]+|none) of (\d+)/.exec(await res.text());
    if (res.status !== 200 || !m) return undefined;
    return m[1] === 'none' ? [] : m[1]!.split(',').map(Number);
  } catch {
    return undefined;
  }
}

/** `chainsmith_lease_requests_total` by verb from a replica's /metrics (empty when it does not answer). */
async function leaseRequests(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^chainsmith_lease_requests_total\{verb="([^"]+)"\} ([0-9.e+]+)$/.exec(line);
      if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
    }
  } catch {
    // a replica that stopped answering contributes nothing
  }
  return out;
}

async function leaseTotals(ports: number[]): Promise<Map<string, number>> {
  const sum = new Map<string, number>();
  for (const m of await Promise.all(ports.map(leaseRequests)))
    for (const [verb, n] of m) sum.set(verb, (sum.get(verb) ?? 0) + n);
  return sum;
}

/** One arm: `count` replicas, one burst of `n` runs. */
async function replicaArm(ctx: WorkloadContext, n: number, count: number): Promise<WorkloadResult> {
  const { api } = ctx;
  const { client } = api;
  const ns = `bench-replicas-${count}`;
  await createNamespace(client, ns);
  const names = Array.from({ length: n }, (_, i) => `burst-${i}`);
  const images = await ctx.images(ns, n + 1);
  await mapLimit(names, 32, (name) => createTaskRun(client, ns, name));
  await createCanary(api, ns);
  await writeLeaderElection(client, REPLICA_BUCKETS);
  const watch = new SignedWatch(client, ns, TASKRUNS);
  const procs: Managed[] = [];
  const ports: number[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const port = await freePort();
      ports.push(port);
      // a Lease name of this arm's own: no bucket Lease of the previous arm is still held
      procs.push(await ctx.startArmWith({ extraArgs: ['--lease-name', `chainsmith-r${count}`], metricsPort: port }));
    }
    const share = Math.ceil(REPLICA_BUCKETS / count);
    const split = await pollUntil(
      async () => {
        const held = await Promise.all(ports.map(bucketsHeld));
        if (held.some((h) => h === undefined || h.length > share)) return false;
        return held.flatMap((h) => h!).length === REPLICA_BUCKETS;
      },
      180_000,
      250,
    );
    if (!split) throw new Error(`${count} replicas did not split ${REPLICA_BUCKETS} buckets within 180 s`);
    await awaitCanary(api, ns, watch, images[n]!);
    const meter = new Meter(api, procs[0]!.pid, ctx);
    const cpu0 = procs.map((p) => sampleProc(p.pid)?.cpuSeconds ?? NaN);
    const lease0 = await leaseTotals(ports);
    await meter.begin();
    ctx.log(`replicas: ${count} replica(s), completing ${n} TaskRuns at once`);
    const t0 = Date.now();
    const completedAt = await mapLimit(names, 64, (name, i) => completeTaskRun(client, ns, name, images[i]!));
    const tCompleted = Date.now();
    const all = await pollUntil(() => watch.countSigned(names) === n, ctx.timeoutMs, 100);
    const reading = await meter.end();
    const measuredS = (Date.now() - t0) / 1000;
    const cpuByReplica = procs.map((p, i) => (sampleProc(p.pid)?.cpuSeconds ?? NaN) - cpu0[i]!);
    const peakRss = Math.max(...procs.map((p) => sampleProc(p.pid)?.peakRssMiB ?? NaN));
    const lease1 = await leaseTotals(ports);
    const signedTimes = names.map((name) => watch.signedAt.get(name));
    const latencies = signedTimes.flatMap((s, i) => (s === undefined ? [] : [(s - completedAt[i]!) / 1000]));
    const last = Math.max(...signedTimes.map((s) => s ?? 0));
    const elapsedS = ((latencies.length ? last : Date.now()) - t0) / 1000;
    const signed = Math.max(1, latencies.length);
    let writes = 0;
    let leaseApi = 0;
    for (const [kind, v] of reading.byKind) {
      const [verb = '', resource = ''] = kind.split(' ');
      if (resource === 'leases') leaseApi += v;
      if (WRITE_VERBS.has(verb) && !resource.endsWith('/status')) writes += v;
    }
    const delta = (a: Map<string, number>, b: Map<string, number>): Record<string, number> =>
      Object.fromEntries([...b].map(([verb, v]) => [verb, v - (a.get(verb) ?? 0)]));
    const leaseByVerb = delta(lease0, lease1);
    // Lease traffic with no runs, over IDLE_S seconds (the burst is too short to see every renewal)
    const idleApi0 = await apiserverRequests(api);
    const idleLease0 = await leaseTotals(ports);
    const tIdle = Date.now();
    await sleep(IDLE_S * 1000);
    const idleLease1 = await leaseTotals(ports);
    const idleApi1 = await apiserverRequests(api);
    const idleS = (Date.now() - tIdle) / 1000;
    let idleApiLease = 0;
    for (const [kind, v] of requestDelta(idleApi0, idleApi1)) if (kind.split(' ')[1] === 'leases') idleApiLease += v;
    const cpuSum = cpuByReplica.reduce((a, b) => a + b, 0);
    return {
      ...burstFigures('replicas', n, latencies, elapsedS),
      cpuSecondsPerRun: cpuSum / signed,
      peakRssMiB: peakRss,
      apiRequestsPerRun: reading.apiRequests / signed,
      timedOut: !all,
      replicas: {
        count,
        buckets: REPLICA_BUCKETS,
        writesPerRun: writes / signed,
        leaseRequestsPerRun: leaseApi / signed,
        leaseRequestsPerSecond: leaseApi / measuredS,
        leaseByVerb,
        idle: {
          seconds: idleS,
          apiLeaseRequestsPerSecond: idleApiLease / idleS,
          byVerb: delta(idleLease0, idleLease1),
        },
        cpuSecondsByReplica: cpuByReplica,
        ...(reading.serverCpuSeconds !== undefined
          ? { serverCpuSecondsPerRun: reading.serverCpuSeconds / signed }
          : {}),
        measuredS,
      },
      notes: [
        `${count} replica(s), buckets ${REPLICA_BUCKETS}; CPU s by replica ${cpuByReplica.map((c) => c.toFixed(1)).join(' + ')}`,
        requestMix(reading.byKind, latencies.length),
        machineNote(reading, latencies.length),
        `completing all ${n} took ${((tCompleted - t0) / 1000).toFixed(1)}s`,
      ],
    };
  } finally {
    watch.stop();
    await Promise.all(procs.map((p) => p.stop()));
  }
}

/** 1, 2 and 3 replicas, one after the other, each on a burst of `n` runs; one result per replica count. */
export async function replicas(
  ctx: WorkloadContext,
  n: number,
  counts: readonly number[] = REPLICA_COUNTS,
): Promise<WorkloadResult[]> {
  const out: WorkloadResult[] = [];
  for (const count of counts) out.push(await replicaArm(ctx, n, count));
  return out;
}
