// Shape and size checks of a run before anything reads it. Runs come from files (tekton/read.ts) and from the
// API server (the controller); both are untrusted, so type hinting and the payload formats call assertValidRun
// at their entry points, and one message names the field: `status.results[2].value is 100 MiB, more than …`.
import { ChainsmithError, type Reason } from '../errors.js';
import { valueLimitProblem } from '../input/documents.js';
import { formatBytes } from '../input/read.js';
import { escapeTerminal } from '../text/terminal.js';
import type { Run } from './types.js';

/** Most step (or sidecar) entries in one list of a TaskRun: status.steps, status.sidecars, taskSpec.steps … */
export const MAX_STEPS = 50_000;
/** Most results of one run: status.results, and all status.steps[].results together. */
export const MAX_RESULTS = 50_000;
/** Most params in one list: spec.params, taskSpec.params, pipelineSpec.params, a pipeline task's params. */
export const MAX_PARAMS = 50_000;
/** Most pipeline tasks (tasks plus finally) and child references of one PipelineRun. */
export const MAX_PIPELINE_TASKS = 50_000;
/** Largest result value (UTF-8 bytes of a string, of all items of an array or object): Tekton's own 1.5 MiB ceiling. */
export const MAX_RESULT_VALUE_BYTES = 1536 * 1024;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A shape problem: `where` is the field path, the reason InvalidRun unless the result size is the problem. */
class ShapeError extends Error {
  constructor(
    message: string,
    readonly reason: Reason = 'InvalidRun',
  ) {
    super(message);
  }
}

/** How a value is named in messages: `null`, `an array`, `a number`. */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function shown(name: string): string {
  return escapeTerminal(name.length > 100 ? `${name.slice(0, 100)}…` : name);
}

/** An optional list: undefined/null read as empty, anything else than an array is refused. */
function list(v: unknown, where: string, max: number, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ShapeError(`${where} must be a list, got ${describeType(v)}`);
  if (v.length > max) throw new ShapeError(`${where} has ${v.length} ${what}, more than ${max} (the limit)`);
  return v;
}

function objectList(v: unknown, where: string, max: number, what: string): Obj[] {
  return list(v, where, max, what).map((item, i) => {
    if (!isObj(item)) throw new ShapeError(`${where}[${i}] must be an object, got ${describeType(item)}`);
    return item;
  });
}

function optionalObject(v: unknown, where: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new ShapeError(`${where} must be an object, got ${describeType(v)}`);
  return v;
}

function optionalString(v: unknown, where: string): void {
  if (v !== undefined && v !== null && typeof v !== 'string') {
    throw new ShapeError(`${where} must be a string, got ${describeType(v)}`);
  }
}

function stringMap(v: unknown, where: string): void {
  if (v === undefined || v === null) return;
  if (!isObj(v)) throw new ShapeError(`${where} must be a map of strings, got ${describeType(v)}`);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new ShapeError(`${where}["${shown(k)}"] must be a string, got ${describeType(x)}`);
  }
}

/** A Tekton ParamValue (string, array of strings, or object of strings); returns its size in UTF-8 bytes. */
function paramValue(v: unknown, where: string): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  let bytes = 0;
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (typeof x !== 'string') throw new ShapeError(`${where}[${i}] must be a string, got ${describeType(x)}`);
      bytes += Buffer.byteLength(x, 'utf8');
    });
    return bytes;
  }
  if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') throw new ShapeError(`${where}.${shown(k)} must be a string, got ${describeType(x)}`);
      bytes += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(x, 'utf8');
    }
    return bytes;
  }
  const got = describeType(v);
  throw new ShapeError(`${where} must be a string, an array of strings or an object of strings, got ${got}`);
}

interface NamedValuesOptions {
  valueKey: 'value' | 'default';
  valueRequired: boolean;
  max: number;
  what: string;
  /** results: values larger than MAX_RESULT_VALUE_BYTES are refused (InvalidResult) */
  sizeLimited?: boolean;
}

/** `[{name, value}]` lists: params and results. Returns the number of items. */
function namedValues(v: unknown, where: string, o: NamedValuesOptions): number {
  const items = list(v, where, o.max, o.what);
  items.forEach((item, i) => {
    const at = `${where}[${i}]`;
    if (!isObj(item)) throw new ShapeError(`${at} must be an object, got ${describeType(item)}`);
    if (typeof item.name !== 'string' || item.name === '') {
      throw new ShapeError(`${at}.name must be a non-empty string`);
    }
    optionalString(item.type, `${at}.type`);
    const value = item[o.valueKey];
    if (value === undefined || value === null) {
      if (o.valueRequired) throw new ShapeError(`${at} (${shown(item.name)}) has no ${o.valueKey}`);
      return;
    }
    const bytes = paramValue(value, `${at}.${o.valueKey}`);
    if (o.sizeLimited && bytes > MAX_RESULT_VALUE_BYTES) {
      const limit = formatBytes(MAX_RESULT_VALUE_BYTES);
      const what = `${at}.${o.valueKey} (${shown(item.name)})`;
      const message = `${what} is ${formatBytes(bytes)}, more than ${limit} (the result size limit)`;
      throw new ShapeError(message, 'InvalidResult');
    }
  });
  return items.length;
}

const RESULTS = {
  valueKey: 'value',
  valueRequired: true,
  max: MAX_RESULTS,
  what: 'results',
  sizeLimited: true,
} as const;
const PARAMS = { valueKey: 'value', valueRequired: true, max: MAX_PARAMS, what: 'params' } as const;
const PARAM_SPECS = { valueKey: 'default', valueRequired: false, max: MAX_PARAMS, what: 'params' } as const;

function provenance(v: unknown, where: string): void {
  const p = optionalObject(v, where);
  const ref = optionalObject(p?.refSource, `${where}.refSource`);
  if (!ref) return;
  optionalString(ref.uri, `${where}.refSource.uri`);
  optionalString(ref.entryPoint, `${where}.refSource.entryPoint`);
  stringMap(ref.digest, `${where}.refSource.digest`);
}

/** Steps and sidecars of a task spec: objects with an optional string name. */
function specSteps(v: unknown, where: string): void {
  objectList(v, where, MAX_STEPS, 'entries').forEach((s, i) => optionalString(s.name, `${where}[${i}].name`));
}

function taskSpec(v: unknown, where: string): void {
  const spec = optionalObject(v, where);
  if (!spec) return;
  namedValues(spec.params, `${where}.params`, PARAM_SPECS);
  specSteps(spec.steps, `${where}.steps`);
  specSteps(spec.sidecars, `${where}.sidecars`);
}

function pipelineTasks(v: unknown, where: string): number {
  const tasks = objectList(v, where, MAX_PIPELINE_TASKS, 'tasks');
  tasks.forEach((t, i) => {
    const at = `${where}[${i}]`;
    if (typeof t.name !== 'string') throw new ShapeError(`${at}.name must be a string, got ${describeType(t.name)}`);
    optionalObject(t.taskRef, `${at}.taskRef`);
    objectList(t.params, `${at}.params`, MAX_PARAMS, 'params');
    taskSpec(t.taskSpec, `${at}.taskSpec`);
    const matrix = optionalObject(t.matrix, `${at}.matrix`);
    objectList(matrix?.params, `${at}.matrix.params`, MAX_PARAMS, 'params');
    objectList(matrix?.include, `${at}.matrix.include`, MAX_PARAMS, 'entries').forEach((inc, j) =>
      objectList(inc.params, `${at}.matrix.include[${j}].params`, MAX_PARAMS, 'params'),
    );
  });
  return tasks.length;
}

/** The v1beta1 result fields that v1beta1.ts moves to status.results, checked under their own names. */
const V1BETA1_RESULTS = ['taskResults', 'taskRunResults', 'pipelineResults'];

/**
 * Checks every field chainsmith reads, and the count and size limits; anything else passes through untouched.
 * Throws ShapeError naming the field (the caller adds the file or run). `v1beta1` also checks the old field names.
 */
function checkShape(doc: Obj, kind: 'TaskRun' | 'PipelineRun', v1beta1: boolean): void {
  const meta = optionalObject(doc.metadata, 'metadata') ?? {};
  for (const key of ['name', 'namespace', 'uid']) optionalString(meta[key], `metadata.${key}`);
  stringMap(meta.labels, 'metadata.labels');
  stringMap(meta.annotations, 'metadata.annotations');
  const spec = optionalObject(doc.spec, 'spec') ?? {};
  namedValues(spec.params, 'spec.params', PARAMS);
  for (const key of ['taskRef', 'pipelineRef']) {
    const ref = optionalObject(spec[key], `spec.${key}`);
    optionalString(ref?.resolver, `spec.${key}.resolver`);
  }
  const template = optionalObject(spec.taskRunTemplate, 'spec.taskRunTemplate');
  optionalString(template?.serviceAccountName, 'spec.taskRunTemplate.serviceAccountName');
  // v1beta1.ts moves it to spec.taskRunTemplate.serviceAccountName
  if (v1beta1 && kind === 'PipelineRun') optionalString(spec.serviceAccountName, 'spec.serviceAccountName');
  const status = optionalObject(doc.status, 'status');
  if (!status) return;
  objectList(status.conditions, 'status.conditions', MAX_PARAMS, 'conditions').forEach((c, i) => {
    if (typeof c.type !== 'string') throw new ShapeError(`status.conditions[${i}] must be an object with a type`);
  });
  for (const key of ['startTime', 'completionTime']) optionalString(status[key], `status.${key}`);
  provenance(status.provenance, 'status.provenance');
  namedValues(status.results, 'status.results', RESULTS);
  if (v1beta1) for (const key of V1BETA1_RESULTS) namedValues(status[key], `status.${key}`, RESULTS);
  if (kind === 'TaskRun') {
    taskSpec(status.taskSpec, 'status.taskSpec');
    let stepResults = 0;
    objectList(status.steps, 'status.steps', MAX_STEPS, 'steps').forEach((s, i) => {
      optionalString(s.name, `status.steps[${i}].name`);
      optionalString(s.imageID, `status.steps[${i}].imageID`);
      provenance(s.provenance, `status.steps[${i}].provenance`);
      stepResults += namedValues(s.results, `status.steps[${i}].results`, RESULTS);
      if (stepResults > MAX_RESULTS) {
        throw new ShapeError(`status.steps hold more than ${MAX_RESULTS} results (the limit)`);
      }
    });
    objectList(status.sidecars, 'status.sidecars', MAX_STEPS, 'sidecars').forEach((s, i) => {
      optionalString(s.name, `status.sidecars[${i}].name`);
      optionalString(s.imageID, `status.sidecars[${i}].imageID`);
    });
  } else {
    const pipelineSpec = optionalObject(status.pipelineSpec, 'status.pipelineSpec');
    if (pipelineSpec) {
      namedValues(pipelineSpec.params, 'status.pipelineSpec.params', PARAM_SPECS);
      const n =
        pipelineTasks(pipelineSpec.tasks, 'status.pipelineSpec.tasks') +
        pipelineTasks(pipelineSpec.finally, 'status.pipelineSpec.finally');
      if (n > MAX_PIPELINE_TASKS) {
        throw new ShapeError(`status.pipelineSpec holds ${n} tasks, more than ${MAX_PIPELINE_TASKS} (the limit)`);
      }
    }
    const refs = objectList(status.childReferences, 'status.childReferences', MAX_PIPELINE_TASKS, 'child references');
    refs.forEach((c, i) => {
      if (typeof c.name !== 'string') {
        throw new ShapeError(`status.childReferences[${i}] must be an object with a name`);
      }
      optionalString(c.kind, `status.childReferences[${i}].kind`);
      optionalString(c.pipelineTaskName, `status.childReferences[${i}].pipelineTaskName`);
    });
  }
}

/**
 * Checks a run document's fields and limits (not its nesting: the parser did that). Throws ChainsmithError —
 * InvalidResult for an oversized result value, else InvalidRun — whose message is `<label>: <field problem>`.
 */
export function checkRunDocument(
  doc: Obj,
  kind: 'TaskRun' | 'PipelineRun',
  label: string,
  opts: { v1beta1?: boolean } = {},
): void {
  try {
    checkShape(doc, kind, opts.v1beta1 ?? false);
  } catch (err) {
    if (err instanceof ShapeError) throw new ChainsmithError(err.reason, `${label}: ${err.message}`);
    throw err;
  }
}

/** `TaskRun ns/name` for messages about a run that did not come from a file. */
function runLabel(run: unknown): string {
  const o = isObj(run) ? run : {};
  const meta = isObj(o.metadata) ? o.metadata : {};
  const kind = typeof o.kind === 'string' ? o.kind : 'run';
  const name = typeof meta.name === 'string' ? meta.name : '?';
  return `${shown(kind)} ${typeof meta.namespace === 'string' ? `${shown(meta.namespace)}/` : ''}${shown(name)}`;
}

/**
 * Validates a run from any source (the API server, a file, a test) before type hinting or a payload format reads
 * it: nesting depth, value and character counts, then checkRunDocument. Linear in the run's size.
 * Throws ChainsmithError('InvalidRun' | 'InvalidResult') with a one-line message naming the run and the field.
 */
export function assertValidRun(run: Run): void {
  // Type hinting, the findings pass and every payload format each check the run they are handed; one signing
  // passes the same object to all of them, so a run object is walked once (runs are never mutated after reading).
  if (typeof run === 'object' && run !== null && validatedRuns.has(run)) return;
  const label = runLabel(run);
  if (!isObj(run)) throw new ChainsmithError('InvalidRun', `${label}: the run is ${describeType(run)}, not an object`);
  const problem = valueLimitProblem(run);
  if (problem) throw new ChainsmithError('InvalidRun', `${label}: the run is refused: ${problem}`);
  const kind = (run as Obj).kind;
  if (kind !== 'TaskRun' && kind !== 'PipelineRun') {
    throw new ChainsmithError('InvalidRun', `${label}: kind must be TaskRun or PipelineRun`);
  }
  checkRunDocument(run as unknown as Obj, kind, label);
  validatedRuns.add(run);
}

/** Run objects that passed assertValidRun (weakly held: the cache of runs is not kept alive by it). */
const validatedRuns = new WeakSet<object>();

/** Validates results handed over on their own (the controller's image pass): the same rules as status.results. */
export function assertValidResults(results: unknown, label: string): void {
  try {
    namedValues(results, 'status.results', RESULTS);
  } catch (err) {
    if (err instanceof ShapeError) throw new ChainsmithError(err.reason, `${label}: ${err.message}`);
    throw err;
  }
}
