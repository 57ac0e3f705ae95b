// Grouping runs read from one file: a PipelineRun with its child TaskRuns (a `List` export), plain TaskRuns.
import type { PipelineRun, PipelineRunWithChildren, Run, TaskRun } from './types.js';

/** The runs of a file, with each PipelineRun's children attached and the remaining TaskRuns on their own. */
export interface RunGroups {
  pipelineRuns: PipelineRunWithChildren[];
  /** TaskRuns that are not a child of any PipelineRun in the same input */
  taskRuns: TaskRun[];
}

/**
 * True when the TaskRun belongs to the PipelineRun: named in its childReferences, or labelled `tekton.dev/pipelineRun`.
 */
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
  // TaskRuns indexed by name and by their pipelineRun label: each PipelineRun looks up its candidates instead of
  // testing every TaskRun of the file (a List with thousands of both would be quadratic).
  const index = new Map<TaskRun, number>(trs.map((tr, i) => [tr, i]));
  const byName = groupBy(trs, (tr) => tr.metadata.name);
  const byLabel = groupBy(trs, (tr) => tr.metadata.labels?.['tekton.dev/pipelineRun']);
  const claimed = new Set<TaskRun>();
  const pipelineRuns = prs.map((pr) => {
    const refs = pr.status?.childReferences ?? [];
    const rank = new Map<string, number>();
    const candidates = new Set<TaskRun>();
    refs.forEach((c, i) => {
      if (!rank.has(c.name)) rank.set(c.name, i);
      if (c.kind === undefined || c.kind === 'TaskRun') for (const tr of byName.get(c.name) ?? []) candidates.add(tr);
    });
    if (pr.metadata.name !== undefined) for (const tr of byLabel.get(pr.metadata.name) ?? []) candidates.add(tr);
    const rankOf = (tr: TaskRun) => rank.get(tr.metadata.name ?? '') ?? refs.length;
    const children = [...candidates]
      .filter((tr) => !claimed.has(tr))
      .map((tr) => ({ tr, i: index.get(tr)!, r: rankOf(tr) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.tr);
    children.forEach((c) => claimed.add(c));
    return { run: pr, children };
  });
  return { pipelineRuns, taskRuns: trs.filter((tr) => !claimed.has(tr)) };
}

function groupBy<T>(items: T[], keyOf: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
