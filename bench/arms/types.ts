// An arm is one signer under test: it starts against a stack and is measured by pid.
import type { BenchStack } from '../lib/stack.js';
import type { Managed } from '../lib/process.js';

export type ArmName = 'chains-default' | 'chains-tuned' | 'chainsmith' | 'chainsmith-reuse' | 'ceiling';

export interface ArmContext {
  stack: BenchStack;
  /** Where the process's log goes. */
  logFile: string;
  /** Extra node flags for chainsmith (e.g. --cpu-prof), from the harness's --profile. */
  nodeFlags?: string[];
  /** The config stores in the registry (`oci`), not in the run's annotations. */
  oci?: boolean;
  /** `transparency.url` when the config uploads to Rekor (the stack's Rekor, or a delay proxy in front of it). */
  tlogUrl?: string;
  /** The keyless config's Fulcio and token file (the ceiling asks Fulcio itself; the controllers read chains-config). */
  keyless?: { fulcioUrl: string; tokenFile: string };
  /** chainsmith only: controller flags after the usual ones (the replicas workload's `--lease-name`). */
  extraArgs?: string[];
  /** chainsmith only: the port of `--metrics-addr` (default: a free one), for /readyz and /metrics. */
  metricsPort?: number;
}

export interface Arm {
  name: ArmName;
  /** One line for the results table: what runs and with which flags. */
  describe: string;
  /** The signer's version, for RESULTS.md. */
  version: string;
  /** Whether this arm signs (the ceiling only writes what a signer writes). */
  signs: boolean;
  /**
   * chains-config keys this arm adds to the config's (an option of the same controller, e.g. chainsmith-reuse's
   * `chainsmith.keyless.reuse-certificate`); bench/plan.ts runs it only where the option applies.
   */
  chainsConfig?: Record<string, string>;
  start(ctx: ArmContext): Promise<Managed>;
}
