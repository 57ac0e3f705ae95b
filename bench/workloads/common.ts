// Pieces the workloads share: the canary that proves the arm is up, and the meter that takes
// CPU, memory and API request deltas around the measured part.
import type { HarnessApi } from '../lib/api.js';
import { pollUntil } from '../lib/pool.js';
import { completeTaskRun, createTaskRun, type ImageRef } from '../lib/runs.js';
import type { BenchFulcio, BenchRekor, BenchSigstore2 } from '../lib/stack.js';
import { FulcioMeter, fulcioNote, type FulcioReading, type FulcioResult } from '../measure/fulcio.js';
import { apiserverRequests, requestDelta, type RequestCounts } from '../measure/apiserver.js';
import { sampleMachine, sampleProc, type MachineCpu } from '../measure/proc.js';
import { RekorMeter, rekorNote, type RekorReading, type RekorResult } from '../measure/rekor.js';
import { Sigstore2Meter, sigstore2Note, type Sigstore2Reading } from '../measure/rekor-v2.js';
import type { SignedWatch } from '../measure/signed-watch.js';

export const CANARY_TIMEOUT_MS = 180_000;

/**
 * Completes a canary TaskRun and waits until the arm has marked it signed: Chains has no
 * readiness endpoint, so this is when the clock may start for every arm alike.
 */
export async function awaitCanary(api: HarnessApi, ns: string, watch: SignedWatch, image: ImageRef): Promise<void> {
  await completeTaskRun(api.client, ns, 'canary', image);
  if (!(await pollUntil(() => watch.signedAt.has('canary'), CANARY_TIMEOUT_MS, 100))) {
    throw new Error(`the canary TaskRun ${ns}/canary was not signed within ${CANARY_TIMEOUT_MS / 1000}s`);
  }
}

/** Creates the canary TaskRun (before the arm starts, like every other run). */
export function createCanary(api: HarnessApi, ns: string): Promise<void> {
  return createTaskRun(api.client, ns, 'canary');
}

export interface MeterReading {
  cpuSeconds: number;
  peakRssMiB: number;
  apiRequests: number;
  /** Server-side request counts by "VERB resource[/subresource]" (harness requests included). */
  byKind: Map<string, number>;
  /** The stack's Rekor, when the config uploads to it. */
  rekor?: RekorReading;
  /** The stack's Fulcio, when the config signs keylessly. */
  fulcio?: FulcioReading;
  /** The stack's Rekor v2 and TSA (config 5). */
  sigstore2?: Sigstore2Reading;
  /** CPU seconds of kube-apiserver + etcd, when their pids were given. */
  serverCpuSeconds?: number;
  /** Share of the machine's CPU time that was busy, and busy at nice priority (other work), 0..1. */
  machineBusy: number;
  machineNice: number;
}

/** What a Meter may measure besides the arm: the stack's servers. */
export interface MeterTargets {
  rekor?: BenchRekor;
  fulcio?: BenchFulcio;
  sigstore2?: BenchSigstore2;
  /** kube-apiserver and etcd */
  serverPids?: number[];
}

/**
 * CPU seconds of the arm's process and API requests the server saw from everyone but the
 * harness, between begin() and end(); peak RSS is the process's lifetime high-water mark.
 * Also the machine's busy share, the API server's and etcd's CPU, and the stack's Rekor and Fulcio when given.
 */
export class Meter {
  private cpu0 = 0;
  private server0: RequestCounts = { total: 0, byKind: new Map() };
  private harness0 = 0;
  private servers0 = 0;
  private machine0: MachineCpu = { total: 0, idle: 0, nice: 0 };
  private readonly rekor?: RekorMeter;
  private readonly fulcio?: FulcioMeter;
  private readonly sigstore2?: Sigstore2Meter;

  constructor(
    private readonly api: HarnessApi,
    private readonly pid: number,
    private readonly targets: MeterTargets = {},
  ) {
    if (targets.rekor) this.rekor = new RekorMeter(targets.rekor);
    if (targets.fulcio) this.fulcio = new FulcioMeter(targets.fulcio);
    if (targets.sigstore2) this.sigstore2 = new Sigstore2Meter(targets.sigstore2);
  }

  private serversCpu(): number {
    return (this.targets.serverPids ?? []).reduce((sum, pid) => sum + (sampleProc(pid)?.cpuSeconds ?? 0), 0);
  }

  async begin(): Promise<void> {
    await this.rekor?.begin();
    await this.fulcio?.begin();
    await this.sigstore2?.begin();
    this.machine0 = sampleMachine();
    this.servers0 = this.serversCpu();
    this.cpu0 = sampleProc(this.pid)?.cpuSeconds ?? 0;
    this.harness0 = this.api.resourceRequests;
    this.server0 = await apiserverRequests(this.api);
  }

  async end(): Promise<MeterReading> {
    const proc = sampleProc(this.pid);
    const servers = this.serversCpu() - this.servers0;
    const m = sampleMachine();
    const elapsed = Math.max(1e-9, m.total - this.machine0.total);
    const harness = this.api.resourceRequests - this.harness0;
    const after = await apiserverRequests(this.api);
    const rekor = await this.rekor?.end();
    const fulcio = await this.fulcio?.end();
    const sigstore2 = await this.sigstore2?.end();
    return {
      cpuSeconds: (proc?.cpuSeconds ?? NaN) - this.cpu0,
      peakRssMiB: proc?.peakRssMiB ?? NaN,
      apiRequests: Math.max(0, after.total - this.server0.total - harness),
      byKind: requestDelta(this.server0, after),
      ...(rekor ? { rekor } : {}),
      ...(fulcio ? { fulcio } : {}),
      ...(sigstore2 ? { sigstore2 } : {}),
      ...(this.targets.serverPids?.length ? { serverCpuSeconds: servers } : {}),
      machineBusy: 1 - (m.idle - this.machine0.idle) / elapsed,
      machineNice: (m.nice - this.machine0.nice) / elapsed,
    };
  }
}

/** The Rekor and Fulcio fields of a WorkloadResult and their notes, when the config uses them. */
export function sigstoreFields(
  reading: MeterReading,
  runs: number,
): { rekor?: RekorResult; fulcio?: FulcioResult; notes: string[] } {
  return {
    ...(reading.rekor ? { rekor: { ...reading.rekor, runs } } : {}),
    ...(reading.fulcio ? { fulcio: { ...reading.fulcio, runs } } : {}),
    notes: [
      ...(reading.fulcio ? [fulcioNote(reading.fulcio, runs)] : []),
      ...(reading.rekor ? [rekorNote(reading.rekor, runs)] : []),
      ...(reading.sigstore2 ? [sigstore2Note(reading.sigstore2, runs)] : []),
    ],
  };
}

/** The machine's load over the measured part, for the notes column: is the box itself the limit? */
export function machineNote(reading: MeterReading, runs: number): string {
  const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;
  const servers =
    reading.serverCpuSeconds === undefined
      ? ''
      : `kube-apiserver+etcd CPU ${(reading.serverCpuSeconds / Math.max(1, runs)).toFixed(4)} s/run; `;
  return `${servers}machine CPU busy ${pct(reading.machineBusy)} (nice, i.e. other low-priority work: ${pct(reading.machineNice)})`;
}

/**
 * The arm's requests per run by kind, for the notes column: the harness's own kinds (status
 * patches, which only it sends) are left out, and so are kinds under 0.05 per run.
 */
export function requestMix(byKind: Map<string, number>, runs: number): string {
  const parts = [...byKind]
    .filter(([k]) => !k.endsWith('/status') && !k.startsWith('WATCH '))
    .map(([k, v]) => [k, v / Math.max(1, runs)] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`);
  return `requests/run: ${parts.join(', ') || '-'}`;
}
