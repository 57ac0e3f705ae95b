// What every workload gets from the harness and what it reports.
import type { Arm } from '../arms/types.js';
import type { HarnessApi } from '../lib/api.js';
import type { Managed } from '../lib/process.js';
import type { ImageRef } from '../lib/runs.js';
import type { BenchFulcio, BenchRekor, BenchSigstore2 } from '../lib/stack.js';
import type { FulcioResult } from '../measure/fulcio.js';
import type { RekorResult } from '../measure/rekor.js';
import type { LatencySummary } from '../measure/stats.js';

export type WorkloadName = 'burst' | 'backlog' | 'pipelines';

export interface WorkloadContext {
  api: HarnessApi;
  arm: Arm;
  /** Starts the arm's process (one per workload, so CPU and peak RSS are per workload). */
  startArm(): Promise<Managed>;
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
}
