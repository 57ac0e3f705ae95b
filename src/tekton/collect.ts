// Grouping runs read from one file: a PipelineRun with its child TaskRuns (a `List` export), plain TaskRuns.
import type { PipelineRun, PipelineRunWithChildren, Run, TaskRun } from './types.js';

/** The runs of a file, with each PipelineRun's children attached and the remaining TaskRuns on their own. */
export interface RunGroups {
  pipelineRuns: PipelineRunWithChildren[];
  /** TaskRuns that are not a child of any PipelineRun in the same input */
  taskRuns: TaskRun[];
}

/** True when the TaskRun belongs to the PipelineRun: named in its childReferences, or labelled `tekton.dev/pipelineRun`. */
export function isChildOf(tr: TaskRun, pr: PipelineRun): boolean {
  const refs = pr.status?.childReferences ?? [];
  if (refs.some((c) => c.name === tr.metadata.name && (c.kind === undefined || c.kind === 'TaskRun'))) return true;
  return pr.metadata.name !== undefined && tr.metadata.labels?.['tekton.dev/pipelineRun'] === pr.metadata.name;
}

/**
 * Attaches TaskRuns to their PipelineRun. Children come in childReferences order, then any further
 * labelled children in input order (Chains collects children the same way: childReferences first).
 */
export function groupRuns(runs: Run[]): RunGroups {
  const prs = runs.filter((r): r is PipelineRun => r.kind === 'PipelineRun');
  const trs = runs.filter((r): r is TaskRun => r.kind === 'TaskRun');
  const claimed = new Set<TaskRun>();
  const pipelineRuns = prs.map((pr) => {
    const mine = trs.filter((tr) => !claimed.has(tr) && isChildOf(tr, pr));
    const order = (pr.status?.childReferences ?? []).map((c) => c.name);
    const rank = (tr: TaskRun) => {
      const i = order.indexOf(tr.metadata.name ?? '');
      return i < 0 ? order.length : i;
    };
    const children = mine.map((tr, i) => ({ tr, i })).sort((a, b) => rank(a.tr) - rank(b.tr) || a.i - b.i).map((x) => x.tr);
    children.forEach((c) => claimed.add(c));
    return { run: pr, children };
  });
  return { pipelineRuns, taskRuns: trs.filter((tr) => !claimed.has(tr)) };
}
