// What every workload gets from the harness and what it reports.
import type { Arm } from '../arms/types.js';
import type { HarnessApi } from '../lib/api.js';
import type { Managed } from '../lib/process.js';
import type { ImageRef } from '../lib/runs.js';
import type { BenchFulcio, BenchRekor, BenchSigstore2 } from '../lib/stack.js';
import type { FulcioResult } from '../measure/fulcio.js';
import type { RekorResult } from '../measure/rekor.js';
import { summarise, type LatencySummary } from '../measure/stats.js';

export type WorkloadName = 'burst' | 'backlog' | 'pipelines' | 'replicas' | 'policies';

export interface WorkloadContext {
  api: HarnessApi;
  arm: Arm;
  /** Starts the arm's process (one per workload, so CPU and peak RSS are per workload). */
  startArm(): Promise<Managed>;
  /** Starts one more process of the arm with `extra` (the replicas workload: several chainsmith replicas). */
  startArmWith(extra: { extraArgs?: string[]; metricsPort?: number }): Promise<Managed>;
  /** `count` image references for runs in `ns` (real pushed images when the config stores to OCI). */
  images(ns: string, count: number): Promise<ImageRef[]>;
  /** The stack's Rekor, when the config uploads to it (the meter then counts its requests). */
  rekor?: BenchRekor;
  /** The stack's Fulcio, when the config signs keylessly (the meter then counts its requests). */
  fulcio?: BenchFulcio;
  /** The stack's Rekor v2 and TSA, when chainsmith takes its log from the signing config (config 5). */
  sigstore2?: BenchSigstore2;
  /** kube-apiserver and etcd, for their CPU per run. */
  serverPids?: number[];
  /** Upper bound for the whole measured part of the workload. */
  timeoutMs: number;
  /** Progress lines go here (stderr). */
  log(msg: string): void;
}

export interface WorkloadResult {
  workload: WorkloadName;
  /** Runs the measured figures are about. */
  runs: number;
  signed: number;
  /** Seconds from the first measured completion to the last signature. */
  elapsedS: number;
  /** Runs signed per second. */
  throughput: number;
  /** Completion→signed latency, seconds. */
  latency: LatencySummary;
  /** Which runs the latency is about. */
  latencyOf: string;
  cpuSecondsPerRun: number;
  peakRssMiB: number;
  apiRequestsPerRun: number;
  timedOut: boolean;
  /** What the arm cost the stack's Rekor, when the config uploads to it. */
  rekor?: RekorResult;
  /** What the arm cost the stack's Fulcio, when the config signs keylessly. */
  fulcio?: FulcioResult;
  /** Workload-specific figures for the notes column. */
  notes: string[];
  /** The replicas workload: how many replicas shared the burst and what they cost together. */
  replicas?: ReplicasFigures;
  /** The policies workload: which arm (chains-config alone, or 20 SigningPolicies per namespace) and its costs. */
  policies?: PoliciesFigures;
}

/** One arm of the policies workload (issue 24): the burst over `namespaces` namespaces, with or without policies. */
export interface PoliciesFigures {
  arm: 'single-config' | 'policies';
  namespaces: number;
  /** SigningPolicies per namespace (0 in the single-config arm); one of them selects the burst's runs. */
  policiesPerNamespace: number;
  /** Distinct tenant Secrets (signer keys) in the controller's namespace (0 in the single-config arm). */
  secrets: number;
  /** API writes (POST, PUT, PATCH, DELETE; `/status` patches excluded) per run signed. */
  writesPerRun: number;
  /** GET secrets (the tenant keys read through the API) per run signed. */
  secretReadsPerRun: number;
  /** kube-apiserver + etcd CPU seconds per run signed. */
  serverCpuSecondsPerRun?: number;
  /** What the harness checked about who signed the runs (every signed run and the canaries). */
  signerCheck: string;
}

/** One arm of the replicas workload (issue 23): `count` chainsmith replicas sharing `buckets` bucket Leases. */
export interface ReplicasFigures {
  count: number;
  buckets: number;
  /** API writes (POST, PUT, PATCH, DELETE; the harness's `/status` patches excluded) per run signed. */
  writesPerRun: number;
  /** Lease requests the API server saw (every verb) per run signed, and per second of the measured part. */
  leaseRequestsPerRun: number;
  leaseRequestsPerSecond: number;
  /** The replicas' own `chainsmith_lease_requests_total` deltas over the burst, summed over replicas, by verb. */
  leaseByVerb: Record<string, number>;
  /**
   * Lease traffic once the burst is signed, over `idleS` seconds with no runs (it does not depend on the run rate, and
   * the burst is too short to see every renewal): the API server's count of requests on `leases` per second, and the
   * replicas' counters by verb.
   */
  idle: { seconds: number; apiLeaseRequestsPerSecond: number; byVerb: Record<string, number> };
  /** CPU seconds of each replica over the measured part. */
  cpuSecondsByReplica: number[];
  /** kube-apiserver + etcd CPU seconds per run signed. */
  serverCpuSecondsPerRun?: number;
  /** Seconds the measured part lasted (for per-second lease traffic). */
  measuredS: number;
}

/** The fields every burst-shaped workload reports the same way: runs, signed, elapsed time, rate and latency. */
export function burstFigures(
  workload: WorkloadName,
  runs: number,
  latencies: readonly number[],
  elapsedS: number,
): Pick<WorkloadResult, 'workload' | 'runs' | 'signed' | 'elapsedS' | 'throughput' | 'latency' | 'latencyOf'> {
  return {
    workload,
    runs,
    signed: latencies.length,
    elapsedS,
    throughput: latencies.length / elapsedS,
    latency: summarise(latencies),
    latencyOf: 'all TaskRuns',
  };
}
