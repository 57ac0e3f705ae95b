// Pieces the workloads share: the canary that proves the arm is up, and the meter that takes
// CPU, memory and API request deltas around the measured part.
import type { HarnessApi } from '../lib/api.js';
import { pollUntil } from '../lib/pool.js';
import { completeTaskRun, createTaskRun, type ImageRef } from '../lib/runs.js';
import { apiserverRequests, requestDelta, type RequestCounts } from '../measure/apiserver.js';
import { sampleProc } from '../measure/proc.js';
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
}

/**
 * CPU seconds of the arm's process and API requests the server saw from everyone but the
 * harness, between begin() and end(); peak RSS is the process's lifetime high-water mark.
 */
export class Meter {
  private cpu0 = 0;
  private server0: RequestCounts = { total: 0, byKind: new Map() };
  private harness0 = 0;

  constructor(
    private readonly api: HarnessApi,
    private readonly pid: number,
  ) {}

  async begin(): Promise<void> {
    this.cpu0 = sampleProc(this.pid)?.cpuSeconds ?? 0;
    this.harness0 = this.api.resourceRequests;
    this.server0 = await apiserverRequests(this.api);
  }

  async end(): Promise<MeterReading> {
    const proc = sampleProc(this.pid);
    const harness = this.api.resourceRequests - this.harness0;
    const after = await apiserverRequests(this.api);
    return {
      cpuSeconds: (proc?.cpuSeconds ?? NaN) - this.cpu0,
      peakRssMiB: proc?.peakRssMiB ?? NaN,
      apiRequests: Math.max(0, after.total - this.server0.total - harness),
      byKind: requestDelta(this.server0, after),
    };
  }
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
