// Shared test helpers: results and runs built the way the API server would serve them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRunDocuments } from '../../src/tekton/read.js';
import type { ParamValue, PipelineRun, Run, RunResult, TaskRun } from '../../src/tekton/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/runs/', import.meta.url));

/** Results from `[name, value]` pairs. */
export function res(...pairs: Array<[string, ParamValue]>): RunResult[] {
  return pairs.map(([name, value]) => ({ name, value }));
}

/** A completed TaskRun with the given status fields. */
export function taskRun(status: TaskRun['status'] = {}, spec: TaskRun['spec'] = {}, name = 'tr'): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name },
    spec,
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], ...status },
  };
}

/** Reads a fixture under test/fixtures/runs through the real reader. */
export function loadRuns(path: string): Run[] {
  return parseRunDocuments(readFileSync(FIXTURES + path, 'utf8'));
}

export function loadTaskRun(path: string): TaskRun {
  const r = loadRuns(path)[0]!;
  if (r.kind !== 'TaskRun') throw new Error(`${path} is not a TaskRun`);
  return r;
}

export function loadPipelineRun(path: string): PipelineRun {
  const r = loadRuns(path)[0]!;
  if (r.kind !== 'PipelineRun') throw new Error(`${path} is not a PipelineRun`);
  return r;
}

export const DIGEST1 = 'sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5';
export const DIGEST2 = 'sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b6';
export const DIGEST3 = 'sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b7';
export const DIGEST4 = 'sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b8';
/** hex part of a sha256 digest string */
export const hex = (d: string) => d.slice('sha256:'.length);
