// Which arms run which workloads, at which sizes, in full and quick mode.
import type { ArmName } from './arms/types.js';
import {
  IN_TOTO_TEKTON,
  IN_TOTO_TEKTON_KEYLESS,
  IN_TOTO_TEKTON_POLICIES,
  IN_TOTO_TEKTON_REKOR,
  IN_TOTO_TEKTON_REKOR_V2,
  IN_TOTO_TEKTON_REPLICAS,
  SLSA_V2ALPHA4_OCI,
  SLSA_V2ALPHA4_OCI_REPLICAS,
  type BenchConfig,
} from './lib/configs.js';
import type { WorkloadName } from './workloads/types.js';

export interface Sizes {
  burst: number;
  backlog: number;
  /** New runs completed at 1/s during the backlog workload. */
  backlogNewRuns: number;
  pipelines: number;
  /** Bound on the measured part of each workload. */
  timeoutMs: number;
}

export const FULL: Sizes = { burst: 1000, backlog: 5000, backlogNewRuns: 300, pipelines: 100, timeoutMs: 45 * 60_000 };
export const QUICK: Sizes = { burst: 200, backlog: 500, backlogNewRuns: 60, pipelines: 20, timeoutMs: 5 * 60_000 };

export interface Step {
  config: BenchConfig;
  arm: ArmName;
  workloads: WorkloadName[];
}

const SIGNERS: ArmName[] = ['chains-default', 'chains-tuned', 'chainsmith'];
const ALL: WorkloadName[] = ['burst', 'backlog', 'pipelines'];

/**
 * Every step runs on a fresh stack. Quick mode keeps the full matrix for the in-toto/tekton
 * config and only the burst for slsa/v2alpha4/oci, which keeps it well under 20 minutes on 2 cores.
 * The Rekor config (issue 17) runs the burst only, in both modes: its question is throughput against the log.
 * So does the keyless config (issue 18), with one more arm: chainsmith with certificate reuse, the option the issue
 * asks to measure. The replicas configs (issue 23) run chainsmith only, 1, 2 and 3 replicas on one stack; the
 * signing-policies config (issue 24) chainsmith only, the burst without and with 20 × 20 SigningPolicies on one stack.
 */
export function plan(quick: boolean): Step[] {
  return [
    ...SIGNERS.map((arm) => ({ config: IN_TOTO_TEKTON, arm, workloads: ALL })),
    { config: IN_TOTO_TEKTON, arm: 'ceiling' as const, workloads: ['burst' as const] },
    ...SIGNERS.map((arm) => ({
      config: SLSA_V2ALPHA4_OCI,
      arm,
      workloads: quick ? (['burst'] as WorkloadName[]) : ALL,
    })),
    { config: SLSA_V2ALPHA4_OCI, arm: 'ceiling' as const, workloads: ['burst' as const] },
    ...[...SIGNERS, 'ceiling' as const].map((arm) => ({
      config: IN_TOTO_TEKTON_REKOR,
      arm,
      workloads: ['burst'] as WorkloadName[],
    })),
    ...[...SIGNERS, 'chainsmith-reuse' as const, 'ceiling' as const].map((arm) => ({
      config: IN_TOTO_TEKTON_KEYLESS,
      arm,
      workloads: ['burst'] as WorkloadName[],
    })),
    { config: IN_TOTO_TEKTON_REKOR_V2, arm: 'chainsmith' as const, workloads: ['burst'] as WorkloadName[] },
    // issue 23: 1, 2 and 3 replicas, one after the other on one stack (the replicas workload runs all three)
    { config: IN_TOTO_TEKTON_REPLICAS, arm: 'chainsmith' as const, workloads: ['replicas'] as WorkloadName[] },
    { config: SLSA_V2ALPHA4_OCI_REPLICAS, arm: 'chainsmith' as const, workloads: ['replicas'] as WorkloadName[] },
    // issue 24: the burst over 20 namespaces under chains-config alone, then with 20 SigningPolicies per namespace
    { config: IN_TOTO_TEKTON_POLICIES, arm: 'chainsmith' as const, workloads: ['policies'] as WorkloadName[] },
  ];
}
