// The ceiling arm: bench/arms/ceiling-worker.ts as its own process, measured like a controller.
import { join } from 'node:path';
import { startManaged } from '../lib/process.js';
import { REPO_ROOT } from '../lib/stack.js';
import type { Arm, ArmContext } from './types.js';

export const ceiling: Arm = {
  name: 'ceiling',
  describe: 'plain client: watch + one merge patch per run writing payload/signature-sized annotations and signed=true, unbounded concurrency, no signing',
  version: '-',
  signs: false,
  start(ctx: ArmContext) {
    return startManaged(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench/arms/ceiling-worker.ts'), ctx.stack.kubeconfig], {}, ctx.logFile, REPO_ROOT);
  },
};
