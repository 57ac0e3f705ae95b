// Reading runs from files: JSON or YAML, one object, a multi-document YAML stream or a Kubernetes `List`.
// Input is validated just enough that later stages can trust the shapes they read; any problem becomes
// one ChainsmithError('InvalidRun') whose message names the document and the field.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { ChainsmithError } from '../errors.js';
import type { Run } from './types.js';
import { convertV1beta1 } from './v1beta1.js';

type Obj = Record<string, unknown>;

const TEKTON_V1 = 'tekton.dev/v1';
const TEKTON_V1BETA1 = 'tekton.dev/v1beta1';

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function invalid(message: string): ChainsmithError {
  return new ChainsmithError('InvalidRun', message);
}

/** Parses the text into plain values, one per document (JSON first when it looks like JSON, for its clearer errors). */
function parseDocuments(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid('the input is empty');
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(trimmed)];
    } catch (err) {
      throw invalid(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const values: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const first = doc.errors[0];
    if (first) {
      const pos = first.pos[0] >= 0 ? lineAndColumn(text, first.pos[0]) : undefined;
      throw invalid(`invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${first.message.split('\n')[0]}`);
    }
    values.push(doc.toJS({ maxAliasCount: 1000 }));
  }
  return values;
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

/** Guesses the kind of a document without apiVersion/kind (Chains' own test fixtures omit them). */
function inferKind(doc: Obj): 'TaskRun' | 'PipelineRun' | undefined {
  const spec = isObj(doc.spec) ? doc.spec : {};
  const status = isObj(doc.status) ? doc.status : {};
  const task = 'taskRef' in spec || 'taskSpec' in spec || 'taskSpec' in status || 'steps' in status || 'podName' in status;
  const pipeline = 'pipelineRef' in spec || 'pipelineSpec' in spec || 'pipelineSpec' in status || 'childReferences' in status;
  if (task === pipeline) return undefined;
  return task ? 'TaskRun' : 'PipelineRun';
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A Tekton ParamValue: string, array of strings, or object whose values are strings. */
function checkParamValue(v: unknown, where: string): void {
  if (typeof v === 'string') return;
  if (Array.isArray(v)) {
    const bad = v.findIndex((x) => typeof x !== 'string');
    if (bad >= 0) throw invalid(`${where}[${bad}] must be a string, got ${describeType(v[bad])}`);
    return;
  }
  if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') throw invalid(`${where}.${k} must be a string, got ${describeType(x)}`);
    }
    return;
  }
  throw invalid(`${where} must be a string, an array of strings or an object of strings, got ${describeType(v)}`);
}

function checkArray(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`${where} must be a list, got ${describeType(v)}`);
  return v;
}

/** `[{name, value}]` lists: params and results. */
function checkNamedValues(v: unknown, where: string, valueKey: 'value' | 'default', valueRequired: boolean): void {
  checkArray(v, where).forEach((item, i) => {
    const at = `${where}[${i}]`;
    if (!isObj(item)) throw invalid(`${at} must be an object, got ${describeType(item)}`);
    if (typeof item.name !== 'string' || item.name === '') throw invalid(`${at}.name must be a non-empty string`);
    if (item[valueKey] === undefined || item[valueKey] === null) {
      if (valueRequired) throw invalid(`${at} (${item.name}) has no ${valueKey}`);
      return;
    }
    checkParamValue(item[valueKey], `${at}.${valueKey}`);
  });
}

function checkStringMap(v: unknown, where: string): void {
  if (v === undefined || v === null) return;
  if (!isObj(v)) throw invalid(`${where} must be a map of strings, got ${describeType(v)}`);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw invalid(`${where}["${k}"] must be a string, got ${describeType(x)}`);
  }
}

/** Checks the fields chainsmith reads; anything else passes through untouched. */
function checkShape(doc: Obj, kind: 'TaskRun' | 'PipelineRun'): void {
  if (doc.metadata !== undefined && !isObj(doc.metadata)) throw invalid(`metadata must be an object, got ${describeType(doc.metadata)}`);
  const meta = (doc.metadata ?? {}) as Obj;
  if (meta.name !== undefined && typeof meta.name !== 'string') throw invalid('metadata.name must be a string');
  checkStringMap(meta.labels, 'metadata.labels');
  checkStringMap(meta.annotations, 'metadata.annotations');
  if (doc.spec !== undefined && doc.spec !== null && !isObj(doc.spec)) throw invalid(`spec must be an object, got ${describeType(doc.spec)}`);
  const spec = (doc.spec ?? {}) as Obj;
  checkNamedValues(spec.params, 'spec.params', 'value', true);
  if (doc.status === undefined || doc.status === null) return;
  if (!isObj(doc.status)) throw invalid(`status must be an object, got ${describeType(doc.status)}`);
  const status = doc.status;
  checkArray(status.conditions, 'status.conditions').forEach((c, i) => {
    if (!isObj(c) || typeof c.type !== 'string') throw invalid(`status.conditions[${i}] must be an object with a type`);
  });
  checkNamedValues(status.results, 'status.results', 'value', true);
  for (const key of ['taskSpec', 'pipelineSpec']) {
    const embedded = status[key];
    if (embedded === undefined || embedded === null) continue;
    if (!isObj(embedded)) throw invalid(`status.${key} must be an object, got ${describeType(embedded)}`);
    checkNamedValues(embedded.params, `status.${key}.params`, 'default', false);
  }
  if (kind === 'TaskRun') {
    for (const key of ['steps', 'sidecars']) {
      checkArray(status[key], `status.${key}`).forEach((s, i) => {
        if (!isObj(s)) throw invalid(`status.${key}[${i}] must be an object, got ${describeType(s)}`);
        if (s.imageID !== undefined && typeof s.imageID !== 'string') throw invalid(`status.${key}[${i}].imageID must be a string`);
        if (key === 'steps') checkNamedValues(s.results, `status.steps[${i}].results`, 'value', true);
      });
    }
  } else {
    checkArray(status.childReferences, 'status.childReferences').forEach((c, i) => {
      if (!isObj(c) || typeof c.name !== 'string') throw invalid(`status.childReferences[${i}] must be an object with a name`);
    });
  }
}

/** Turns one parsed document into a v1 Run (converting v1beta1), or throws InvalidRun naming the problem. */
function toRun(doc: unknown, label: string): Run {
  if (!isObj(doc)) throw invalid(`${label} is ${describeType(doc)}, not a TaskRun or PipelineRun object`);
  const apiVersion = doc.apiVersion;
  let kind = doc.kind;
  if (apiVersion !== undefined && apiVersion !== TEKTON_V1 && apiVersion !== TEKTON_V1BETA1) {
    throw invalid(`${label} has apiVersion ${JSON.stringify(apiVersion)} (kind ${JSON.stringify(kind ?? '')}); expected a ${TEKTON_V1} (or ${TEKTON_V1BETA1}) TaskRun or PipelineRun`);
  }
  if (kind === undefined && apiVersion === undefined) kind = inferKind(doc);
  if (kind !== 'TaskRun' && kind !== 'PipelineRun') {
    throw invalid(kind === undefined ? `${label} has no kind; expected a TaskRun or PipelineRun` : `${label} is a ${String(kind)}, not a TaskRun or PipelineRun`);
  }
  const name = isObj(doc.metadata) && typeof doc.metadata.name === 'string' ? ` ${doc.metadata.name}` : '';
  try {
    checkShape(doc, kind);
  } catch (err) {
    if (err instanceof ChainsmithError) throw invalid(`${label} (${kind}${name}): ${err.message}`);
    throw err;
  }
  const v1 = apiVersion === TEKTON_V1BETA1 ? convertV1beta1(doc, kind) : { ...doc, apiVersion: TEKTON_V1 };
  v1.kind = kind;
  if (!isObj(v1.metadata)) v1.metadata = {};
  if (!isObj(v1.spec)) v1.spec = {};
  if (v1.status === null) delete v1.status;
  // Shape checked above: the object now matches the Run types for every field chainsmith reads.
  return v1 as unknown as Run;
}

/**
 * Parses JSON or YAML text into v1 runs: a single object, a multi-document YAML stream, a Kubernetes
 * `List` (or a JSON array), in document order. v1beta1 documents are converted (see v1beta1.ts).
 * Throws ChainsmithError('InvalidRun') with a one-line message for anything else.
 */
export function parseRunDocuments(text: string): Run[] {
  const docs = parseDocuments(text).filter((d) => d !== null && d !== undefined);
  const runs: Run[] = [];
  const many = docs.length > 1;
  docs.forEach((doc, i) => {
    const label = many ? `document ${i + 1}` : 'the document';
    const items = Array.isArray(doc) ? doc : isObj(doc) && typeof doc.kind === 'string' && doc.kind.endsWith('List') && 'items' in doc ? doc.items : undefined;
    if (items === undefined) {
      runs.push(toRun(doc, label));
      return;
    }
    if (!Array.isArray(items)) throw invalid(`${label} is a List whose items is ${describeType(items)}, not a list`);
    items.forEach((item, j) => runs.push(toRun(item, `${label} item ${j + 1}`)));
  });
  if (runs.length === 0) throw invalid('no TaskRun or PipelineRun found in the input');
  return runs;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads runs from a file, or from stdin when the path is `-`. Throws ChainsmithError('InvalidRun') with a one-line message. */
export async function readRunFile(pathOrDash: string): Promise<Run[]> {
  let text: string;
  try {
    text = pathOrDash === '-' ? await readStdin() : await readFile(pathOrDash, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : err instanceof Error ? err.message : String(err);
    throw new ChainsmithError('InvalidRun', `cannot read ${pathOrDash === '-' ? 'stdin' : pathOrDash}: ${why}`, { cause: err });
  }
  try {
    return parseRunDocuments(text);
  } catch (err) {
    if (err instanceof ChainsmithError && pathOrDash !== '-') throw new ChainsmithError('InvalidRun', `${pathOrDash}: ${err.message}`);
    throw err;
  }
}
