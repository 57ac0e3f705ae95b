// Tekton Chains, run out of cluster as test-stack.md §6 describes, at its defaults and tuned.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/ports.js';
import { startManaged } from '../lib/process.js';
import { SYSTEM_NAMESPACE } from '../lib/setup.js';
import type { Arm, ArmContext } from './types.js';

/**
 * v0.28.1: the release chainsmith's format goldens come from (scripts/chains-goldens.sh), from the Go module proxy;
 * bench/build-chains.sh builds it. It uploads attestations to Rekor as `intoto` 0.0.1 (v0.29+ as `dsse` 0.0.1).
 */
export const CHAINS_VERSION = process.env.CHAINS_VERSION ?? 'v0.28.1';

export function chainsBinary(): string {
  const cache = process.env.CHAINSMITH_CACHE ?? join(homedir(), '.cache', 'chainsmith');
  return join(cache, 'bin', `chains-controller-${CHAINS_VERSION}`);
}

export const TUNED_FLAGS = ['--threads-per-controller=32', '--kube-api-qps=50', '--kube-api-burst=100'];

function chainsArm(name: 'chains-default' | 'chains-tuned', flags: string[]): Arm {
  return {
    name,
    describe: `Tekton Chains ${CHAINS_VERSION}${flags.length ? ' ' + flags.join(' ') : ' (defaults: 2 threads, effective QPS 20 / burst 20)'}`,
    version: CHAINS_VERSION,
    signs: true,
    async start(ctx: ArmContext) {
      const bin = chainsBinary();
      if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash bench/build-chains.sh`);
      // knative sharedmain: SYSTEM_NAMESPACE is required; the code's minimum Kubernetes version is
      // newer than some stacks; the pprof server always listens, so give it a free port.
      const env = {
        SYSTEM_NAMESPACE,
        KUBERNETES_MIN_VERSION: 'v1.28.0',
        PROFILING_PORT: String(await freePort()),
        METRICS_DOMAIN: 'tekton.dev/chains',
        KUBECONFIG: ctx.stack.kubeconfig,
      };
      return startManaged(bin, ['--kubeconfig', ctx.stack.kubeconfig, ...flags], env, ctx.logFile);
    },
  };
}

export const chainsDefault = chainsArm('chains-default', []);
export const chainsTuned = chainsArm('chains-tuned', TUNED_FLAGS);
