// Several controller replicas sharing buckets of work through Leases, and bursts of image-building TaskRuns for
// them to sign: the pieces e2e/buckets.e2e.ts uses, kept here for the larger churn test and the bench arms.
import { CONFIGMAPS, KubeApiError, TASKRUNS, type KubeClient } from '../../src/kube/client.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { startController, type ControllerProcess } from './controller.js';
import { stackEnv } from './env.js';
import { kube, randomSuffix } from './kube.js';
import { layersOf, pushRandomImage } from './registry.js';
import { completeImageTaskRun, controllerArgs } from './scenario.js';
import { waitFor } from './wait.js';

/** Chains' leader-election ConfigMap name (what the controller reads first). */
export const LEADER_ELECTION_CONFIG = 'tekton-chains-config-leader-election';

/** Short Lease timings for tests: a killed replica's buckets move within ~10 s. */
export const FAST_LEASES = { 'lease-duration': '6s', 'renew-deadline': '4s', 'retry-period': '1s' };

/** Writes the leader-election ConfigMap in `systemNs` (replacing an existing one). */
export async function writeLeaderElectionConfig(
  systemNs: string,
  data: Record<string, string>,
  client: KubeClient = kube(),
): Promise<void> {
  const body = { metadata: { name: LEADER_ELECTION_CONFIG, namespace: systemNs }, data };
  try {
    await client.replace(CONFIGMAPS, systemNs, LEADER_ELECTION_CONFIG, body);
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    await client.create(CONFIGMAPS, systemNs, body);
  }
}

export interface ReplicaOptions {
  /** the namespace whose runs are signed */
  ns: string;
  /** SYSTEM_NAMESPACE: chains-config, the leader-election ConfigMap and the Leases */
  systemNs: string;
  secretsDir: string;
  leaseName: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}

/** Starts one replica with leader election on (buckets come from the ConfigMap); resolves once it has synced. */
export async function startReplica(o: ReplicaOptions): Promise<ControllerProcess> {
  const args = controllerArgs(o.ns, o.secretsDir, [
    '--leader-elect=true',
    '--lease-name',
    o.leaseName,
    ...(o.extraArgs ?? []),
  ]);
  const c = await startController(args, { SYSTEM_NAMESPACE: o.systemNs, ...o.env });
  await c.waitForLog(/informers synced/, 120_000);
  return c;
}

/** The port of a replica's /healthz, /readyz and /metrics (from its start-up log line). */
export async function opsPort(c: ControllerProcess): Promise<number> {
  const line = await c.waitForLog(/serving \/healthz/, 60_000);
  return Number((JSON.parse(line) as { port: number }).port);
}

/** The buckets a replica holds, from its `/readyz` body; undefined when it is not ready or not answering. */
export async function bucketsHeld(c: ControllerProcess): Promise<number[] | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${await opsPort(c)}/readyz`);
    const m = /buckets held: ([0-9,]+|none) of (\d+)/.exec(await res.text());
    if (res.status !== 200 || !m) return undefined;
    return m[1] === 'none' ? [] : m[1]!.split(',').map(Number);
  } catch {
    return undefined;
  }
}

/**
 * Waits until the replicas hold every one of `buckets` buckets exactly once, each at most its fair share
 * ceil(buckets / replicas); returns each replica's buckets.
 */
export async function waitForFairSplit(
  replicas: ControllerProcess[],
  buckets: number,
  timeoutMs = 120_000,
): Promise<number[][]> {
  const share = Math.ceil(buckets / replicas.length);
  return waitFor(
    async () => {
      const held = await Promise.all(replicas.map(bucketsHeld));
      if (held.some((h) => h === undefined || h.length > share)) return undefined;
      const all = held.flatMap((h) => h!).sort((a, b) => a - b);
      return all.length === buckets && all.every((b, i) => b === i) ? (held as number[][]) : undefined;
    },
    { timeoutMs, intervalMs: 500, description: `${buckets} buckets split fairly over ${replicas.length} replicas` },
  );
}

/** A TaskRun that built an image, and the image. */
export interface ImageRun {
  name: string;
  image: { repository: string; digest: string };
}

/**
 * Pushes `count` random images to one repository of the stack registry and completes a TaskRun for each
 * (`concurrency` at a time); `onCreated(n)` is called after each run with how many exist so far.
 */
export async function imageRunBurst(
  ns: string,
  count: number,
  opts: { repository?: string; concurrency?: number; onCreated?: (n: number) => void | Promise<void> } = {},
): Promise<ImageRun[]> {
  const repository = opts.repository ?? `${stackEnv().registry}/burst-${randomSuffix()}/app`;
  const out: ImageRun[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const pushed = await pushRandomImage(repository);
      const image = { repository: pushed.repository, digest: pushed.digest };
      out.push({ name: await completeImageTaskRun(ns, image), image });
      await opts.onCreated?.(out.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, opts.concurrency ?? 4) }, worker));
  return out;
}

/** Every TaskRun of `ns` by name (one LIST). */
export async function taskRunsByName(ns: string, client: KubeClient = kube()): Promise<Map<string, TaskRun>> {
  const out = new Map<string, TaskRun>();
  let cont: string | undefined;
  do {
    const page = await client.list<TaskRun>(TASKRUNS, ns, { limit: 500, ...(cont ? { continue: cont } : {}) });
    for (const tr of page.items) out.set(tr.metadata.name!, tr);
    cont = page.metadata.continue || undefined;
  } while (cont);
  return out;
}

/**
 * Waits until every named run is marked `signed: "true"` and carries no finalizer; a run marked `failed` fails
 * at once. With `stallMs`, also fails once no run has become signed for that long while some are still pending
 * (a run no replica will ever sign), naming them. Resolves with the runs.
 */
export async function waitAllSigned(
  ns: string,
  names: string[],
  timeoutMs: number,
  opts: { stallMs?: number } = {},
): Promise<Map<string, TaskRun>> {
  const deadline = Date.now() + timeoutMs;
  let best = names.length;
  let progressAt = Date.now();
  let lastError: unknown;
  for (;;) {
    let pending: string[] | undefined;
    let runs: Map<string, TaskRun> | undefined;
    try {
      runs = await taskRunsByName(ns);
      pending = [];
    } catch (err) {
      lastError = err;
    }
    if (runs && pending) {
      for (const n of names) {
        const a = runs.get(n)?.metadata.annotations ?? {};
        if (a['chains.tekton.dev/signed'] === 'failed') throw new Error(`run ${n} was marked failed`);
        if (a['chains.tekton.dev/signed'] !== 'true' || (runs.get(n)?.metadata.finalizers ?? []).length > 0)
          pending.push(n);
      }
      if (pending.length === 0) return runs;
      if (pending.length < best) {
        best = pending.length;
        progressAt = Date.now();
      }
    }
    const still = pending ? `${pending.length} of ${names.length} not signed: ${pending.slice(0, 20).join(', ')}` : '';
    if (opts.stallMs !== undefined && Date.now() - progressAt > opts.stallMs)
      throw new Error(`no run became signed for ${opts.stallMs / 1000} s; ${still}`);
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`${names.length} runs not signed within ${timeoutMs / 1000} s; ${still}${why}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** How many `signed` log lines each run name has across the replicas' output. */
export function signedLogCounts(replicas: ControllerProcess[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of replicas)
    for (const l of c.jsonLogs()) {
      if (l.message !== 'signed' || typeof l.name !== 'string') continue;
      counts.set(l.name, (counts.get(l.name) ?? 0) + 1);
    }
  return counts;
}

/** The number of layers (signatures) in the cosign `.sig` tag of an image. */
export async function sigLayerCount(image: { repository: string; digest: string }): Promise<number> {
  return (await layersOf(image.repository, `sha256-${image.digest.slice('sha256:'.length)}.sig`)).length;
}

/** Kills a replica as `kill -9` does (no shutdown, no Lease released) and waits for it to be gone. */
export async function killHard(c: ControllerProcess): Promise<void> {
  process.kill(c.pid, 'SIGKILL');
  await c.exited;
}

/** The runs a replica is working on right now (`chainsmith_queue_in_flight` on its /metrics); undefined if unknown. */
export async function queueInFlight(c: ControllerProcess): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${await opsPort(c)}/metrics`);
    const m = /^chainsmith_queue_in_flight(?:\{[^}]*\})? (\d+)/m.exec(await res.text());
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
