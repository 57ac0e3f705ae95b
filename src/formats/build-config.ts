// SLSA v0.2 `buildConfig` (spec §3.2 steps, §3.3 tasks): what each step ran, and for a PipelineRun
// which child TaskRun ran for which pipeline task, after which others.
import type { PipelineRunWithChildren, PipelineTask, Step, StepState, TaskRun, ParamValue } from '../tekton/types.js';
import { goRoundTrip } from './go-types/marshal.js';
import { invocation, type Invocation } from './invocation.js';
import type { JsonValue } from './serialise.js';
import { goTime } from './time.js';

const PIPELINE_TASK_LABEL = 'tekton.dev/pipelineTask';

export interface StepAttestation {
  entryPoint: string;
  arguments: unknown;
  environment: { container: string; image: string };
  annotations: null;
}

function stringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map((x) => String(x)) : undefined;
}

/** One step: the spec step's script (else its command joined by spaces) and args, the status step's image. */
export function stepAttestation(step: Step | undefined, state: StepState): StepAttestation {
  const script = typeof step?.script === 'string' ? step.script : '';
  const command = stringArray(step?.command) ?? [];
  const imageID = state.imageID ?? '';
  return {
    entryPoint: script !== '' ? script : command.join(' '),
    // Go marshals a nil `args` slice held in an interface as null; an explicit [] stays [].
    arguments: stringArray(step?.args) ?? null,
    environment: {
      container: state.name ?? '',
      image: `oci://${imageID.startsWith('docker-pullable://') ? imageID.slice('docker-pullable://'.length) : imageID}`,
    },
    annotations: null,
  };
}

/** TaskRun buildConfig: one entry per status step, its spec step looked up by name (the first of that name). */
export function taskRunBuildConfig(tr: TaskRun): { steps: StepAttestation[] } {
  // a map rather than a search per step: a run with 20,000 steps must not cost 200 million comparisons
  const byName = new Map<string, Step>();
  for (const s of tr.status?.taskSpec?.steps ?? []) if (!byName.has(s.name ?? '')) byName.set(s.name ?? '', s);
  return { steps: (tr.status?.steps ?? []).map((state) => stepAttestation(byName.get(state.name ?? ''), state)) };
}

export interface TaskAttestation {
  name?: string;
  after?: string[];
  ref: JsonValue;
  startedOn?: string;
  finishedOn?: string;
  serviceAccountName?: string;
  status?: string;
  steps?: StepAttestation[];
  invocation: Invocation;
  results?: Array<{ name: string; type?: string; value: ParamValue }>;
}

/**
 * PipelineRun buildConfig: for each pipeline task (tasks, then finally) each completed child TaskRun
 * whose steps pair up with its task spec. `tasks` is null without `status.pipelineSpec`.
 */
export function pipelineRunBuildConfig(pr: PipelineRunWithChildren): { tasks: TaskAttestation[] | null } {
  const spec = pr.run.status?.pipelineSpec;
  if (!spec) return { tasks: null };
  const regular = spec.tasks ?? [];
  const all = [...regular, ...(spec.finally ?? [])];
  const tasks: TaskAttestation[] = [];
  const childrenOf = childrenByPipelineTask(pr.children);
  let last = '';
  all.forEach((task, i) => {
    const runs = childrenOf.get(task.name) ?? [];
    if (runs.length === 0) return;
    for (const tr of runs) {
      if (!tr.status?.completionTime) continue;
      const steps = pairedSteps(tr);
      if (!steps) continue;
      let after = resultDependencies(task);
      // a finally task with no dependencies ran after the last regular task that had a TaskRun
      if (after.length === 0 && i >= regular.length && last !== '') after = [last];
      const entry: TaskAttestation = {
        name: task.name,
        // Chains' TaskAttestation holds a v1.TaskRef struct (a zero one when the task has no taskRef)
        ref: goRoundTrip(task.taskRef ?? {}, 'TaskRef'),
        invocation: invocation(tr, tr.spec.params, tr.status.taskSpec?.params ?? []),
      };
      if (after.length > 0) entry.after = after;
      // Chains panics on a missing start time; we leave the field out instead (docs/compatibility.md)
      if (tr.status.startTime) entry.startedOn = goTime(tr.status.startTime, 'status.startTime');
      entry.finishedOn = goTime(tr.status.completionTime, 'status.completionTime');
      const sa = pr.run.spec.taskRunTemplate?.serviceAccountName;
      if (sa) entry.serviceAccountName = sa;
      const status = conditionStatus(tr);
      if (status) entry.status = status;
      if (steps.length > 0) entry.steps = steps;
      const results = tr.status.results ?? [];
      if (results.length > 0) {
        entry.results = results.map((r) =>
          r.type ? { name: r.name, type: r.type, value: r.value } : { name: r.name, value: r.value },
        );
      }
      tasks.push(entry);
    }
    if (i < regular.length) last = task.name;
  });
  return { tasks };
}

/** The children grouped by their `tekton.dev/pipelineTask` label, in child-list order (one pass, not one per task). */
function childrenByPipelineTask(children: TaskRun[]): Map<string, TaskRun[]> {
  const out = new Map<string, TaskRun[]>();
  for (const c of children) {
    const label = c.metadata.labels?.[PIPELINE_TASK_LABEL];
    if (label === undefined) continue;
    const list = out.get(label);
    if (list) list.push(c);
    else out.set(label, [c]);
  }
  return out;
}

/** Steps paired by index with the task spec, or undefined when they cannot be paired (skip the TaskRun). */
function pairedSteps(tr: TaskRun): StepAttestation[] | undefined {
  const specSteps = tr.status?.taskSpec?.steps;
  const states = tr.status?.steps ?? [];
  if (!specSteps || specSteps.length !== states.length) return undefined;
  const out: StepAttestation[] = [];
  for (let i = 0; i < specSteps.length; i++) {
    const step = specSteps[i]!;
    const state = states[i]!;
    if ((state.name ?? '').startsWith('unnamed-') && (step.name ?? '') !== '') return undefined;
    out.push(stepAttestation(step, state));
  }
  return out;
}

function conditionStatus(tr: TaskRun): string | undefined {
  switch (tr.status?.conditions?.[0]?.status) {
    case 'False':
      return 'Failed';
    case 'True':
      return 'Succeeded';
    case 'Unknown':
      return 'Running';
    default:
      return undefined;
  }
}

// `$(tasks.<name>.results.<result>)`-style references (Tekton's VariableSubstitutionRegex).
const SUBSTITUTION = /\$\([_a-zA-Z0-9.-]+(\.[_a-zA-Z0-9.-]+)*(\[([0-9]+|\*)\])?\)/g;

function referencedTasks(text: unknown, into: string[]): void {
  if (typeof text !== 'string') return;
  for (const m of text.matchAll(SUBSTITUTION)) {
    const parts = m[0].slice(2, -1).split('.');
    if (
      (parts.length === 4 || parts.length === 5) &&
      (parts[0] === 'tasks' || parts[0] === 'finally') &&
      parts[2] === 'results'
    ) {
      into.push(parts[1]!);
    }
  }
}

function paramValueTexts(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  // Go iterates object params in map order; sorted keys keep `after` deterministic
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.keys(obj)
      .sort()
      .map((k) => obj[k]);
  }
  return [value];
}

/** The objects of a list, for fields the run validation leaves open (`when`, `env`): anything else is ignored. */
function objects(v: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x));
}

/**
 * `runAfter` plus every task whose results the pipeline task references (params, matrix params,
 * when expressions, inline step/sidecar fields), de-duplicated, first mention first.
 */
export function resultDependencies(task: PipelineTask): string[] {
  const after = Array.isArray(task.runAfter) ? task.runAfter.map(String) : [];
  const refs: string[] = [];
  const matrix = task.matrix as
    { params?: Array<{ value?: unknown }>; include?: Array<{ params?: Array<{ value?: unknown }> }> } | undefined;
  const params = [
    ...(task.params ?? []),
    ...(matrix?.params ?? []),
    ...(matrix?.include ?? []).flatMap((i) => i.params ?? []),
  ];
  for (const p of params) for (const t of paramValueTexts(p.value)) referencedTasks(t, refs);
  const when = objects(task.when);
  for (const w of when) {
    referencedTasks(w.input, refs);
    referencedTasks(w.cel, refs);
    for (const v of Array.isArray(w.values) ? w.values : []) referencedTasks(v, refs);
  }
  for (const c of [...(task.taskSpec?.steps ?? []), ...(task.taskSpec?.sidecars ?? [])]) {
    for (const field of ['name', 'image', 'imagePullPolicy', 'script', 'workingDir'] as const)
      referencedTasks(c[field], refs);
    for (const v of [...(stringArray(c.command) ?? []), ...(stringArray(c.args) ?? [])]) referencedTasks(v, refs);
    const env = objects(c.env);
    for (const e of env) referencedTasks(e.value, refs);
  }
  const seen = new Set(after);
  for (const r of refs) {
    if (seen.has(r)) continue;
    seen.add(r);
    after.push(r);
  }
  return after;
}
