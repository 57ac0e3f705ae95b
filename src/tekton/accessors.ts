// Read-only questions about a run: is it done, did it succeed, what did it produce.
// Kept apart from the types so every module asks them the same way (one concept, one place).
import type { ParamValue, PipelineRun, PipelineRunWithChildren, Run, RunResult, TaskRun } from './types.js';

/** The run's kind, as the API names it. */
export function runKindOf(run: Run): 'TaskRun' | 'PipelineRun' {
  return run.kind;
}

/** The `Succeeded` condition, if the run has one. */
export function succeededCondition(run: Run) {
  return run.status?.conditions?.find((c) => c.type === 'Succeeded');
}

/** A run is done when its `Succeeded` condition is present and no longer `Unknown` (succeeded, failed or cancelled). */
export function isDone(run: Run): boolean {
  const c = succeededCondition(run);
  return c !== undefined && c.status !== 'Unknown';
}

/** A run succeeded when its `Succeeded` condition is `True`. */
export function isSucceeded(run: Run): boolean {
  return succeededCondition(run)?.status === 'True';
}

/** The run's own results (`status.results`), in status order; `[]` when it has none. */
export function results(run: Run): RunResult[] {
  return run.status?.results ?? [];
}

/** The first result with exactly this name (Tekton result names are unique within a run). */
export function resultByName(run: Run, name: string): RunResult | undefined {
  return results(run).find((r) => r.name === name);
}

/** All StepAction results of a TaskRun (`status.steps[].results`), step by step, in order. */
export function stepResults(taskRun: TaskRun): RunResult[] {
  return (taskRun.status?.steps ?? []).flatMap((s) => s.results ?? []);
}

/**
 * Go's `ParamValue.StringVal`: the value when it is a string, else `""`.
 * Chains reads string-typed hints this way, so an array or object silently reads as empty.
 */
export function stringValue(value: ParamValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** Go's `ParamValue.ObjectVal`: the value when it is an object (not an array), else undefined. */
export function objectValue(value: ParamValue | undefined): Record<string, string> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

/** `namespace/name` of a run, for messages. */
export function runDisplayName(run: Run): string {
  const { namespace, name } = run.metadata;
  return namespace ? `${namespace}/${name ?? '?'}` : (name ?? '?');
}

/**
 * The child TaskRuns that executed during a PipelineRun (spec §1.9): for each pipeline task of
 * `status.pipelineSpec.tasks` then `.finally`, in spec order, each collected child whose label
 * `tekton.dev/pipelineTask` names the task (child-list order) and that has a `status.completionTime`.
 * No `status.pipelineSpec` → no executed tasks.
 */
export function executedChildTaskRuns(pr: PipelineRunWithChildren): TaskRun[] {
  const spec = pr.run.status?.pipelineSpec;
  if (!spec) return [];
  // Children grouped by label in one pass: a scan of all children per task is quadratic in large pipelines.
  const byTask = new Map<string, TaskRun[]>();
  for (const child of pr.children) {
    const label = child.metadata.labels?.['tekton.dev/pipelineTask'];
    if (label === undefined || !child.status?.completionTime) continue;
    const list = byTask.get(label);
    if (list) list.push(child);
    else byTask.set(label, [child]);
  }
  const out: TaskRun[] = [];
  for (const task of [...(spec.tasks ?? []), ...(spec.finally ?? [])]) {
    for (const c of byTask.get(task.name) ?? []) out.push(c);
  }
  return out;
}

/** Type guard for a TaskRun. */
export function isTaskRun(run: Run): run is TaskRun {
  return run.kind === 'TaskRun';
}

/** Type guard for a PipelineRun. */
export function isPipelineRun(run: Run): run is PipelineRun {
  return run.kind === 'PipelineRun';
}

/** The ServiceAccount a run's pods use (`default` when unset), as Chains resolves it. */
export function serviceAccountOf(run: Run): string {
  const name = run.kind === 'TaskRun' ? run.spec.serviceAccountName : run.spec.taskRunTemplate?.serviceAccountName;
  return name && name !== '' ? name : 'default';
}
