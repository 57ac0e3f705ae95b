// The ceiling arm: bench/arms/ceiling-worker.ts as its own process, measured like a controller.
import { join } from 'node:path';
import { startManaged } from '../lib/process.js';
import { REPO_ROOT } from '../lib/stack.js';
import type { Arm, ArmContext } from './types.js';

export const ceiling: Arm = {
  name: 'ceiling',
  describe:
    "plain client, unbounded concurrency: watch + one merge patch per run writing payload/signature-sized annotations and signed=true (tekton, no signing); for oci, a blind .sig and .att push per run (2 blob uploads + manifest PUT each, no reads) and a signed=true patch; with Rekor, a really signed attestation per run uploaded with chainsmith's RekorClient (dsse, or BENCH_ATTESTATION_ENTRY; at most 64 uploads in flight), then the one patch; keyless, the same with a fresh key and its own Fulcio certificate per run (chainsmith's KeylessSigner)",
  version: '-',
  signs: false,
  start(ctx: ArmContext) {
    return startManaged(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'bench/arms/ceiling-worker.ts'),
        ctx.stack.kubeconfig,
        ...(ctx.oci ? ['--oci'] : []),
        ...(ctx.tlogUrl ? ['--rekor', ctx.tlogUrl, '--entry', process.env.BENCH_ATTESTATION_ENTRY ?? 'dsse'] : []),
        ...(ctx.keyless ? ['--fulcio', ctx.keyless.fulcioUrl, '--token-file', ctx.keyless.tokenFile] : []),
      ],
      {},
      ctx.logFile,
      REPO_ROOT,
    );
  },
};
