// Reading runs from files: JSON or YAML, one object, a multi-document YAML stream or a Kubernetes `List`.
// Input is validated just enough that later stages can trust the shapes they read; any problem becomes
// one ChainsmithError('InvalidRun') whose message names the document and the field.
import { ChainsmithError } from '../errors.js';
import { escapeTerminal } from '../text/terminal.js';
import { MAX_DOCUMENTS, parseJsonDocument, parseYamlDocuments } from '../input/documents.js';
import { displayPath, readInputText } from '../input/read.js';
import type { Run } from './types.js';
import { convertV1beta1 } from './v1beta1.js';
import { checkRunDocument, describeType } from './validate.js';

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
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return [parseJsonDocument(trimmed, { reason: 'InvalidRun' })];
  return parseYamlDocuments(text, { reason: 'InvalidRun' });
}

/** Guesses the kind of a document without apiVersion/kind (Chains' own test fixtures omit them). */
function inferKind(doc: Obj): 'TaskRun' | 'PipelineRun' | undefined {
  const spec = isObj(doc.spec) ? doc.spec : {};
  const status = isObj(doc.status) ? doc.status : {};
  const task =
    'taskRef' in spec || 'taskSpec' in spec || 'taskSpec' in status || 'steps' in status || 'podName' in status;
  const pipeline =
    'pipelineRef' in spec || 'pipelineSpec' in spec || 'pipelineSpec' in status || 'childReferences' in status;
  if (task === pipeline) return undefined;
  return task ? 'TaskRun' : 'PipelineRun';
}

/** Turns one parsed document into a v1 Run (converting v1beta1), or throws InvalidRun naming the problem. */
function toRun(doc: unknown, label: string): Run {
  if (!isObj(doc)) throw invalid(`${label} is ${describeType(doc)}, not a TaskRun or PipelineRun object`);
  const apiVersion = doc.apiVersion;
  let kind = doc.kind;
  if (apiVersion !== undefined && apiVersion !== TEKTON_V1 && apiVersion !== TEKTON_V1BETA1) {
    throw invalid(
      `${label} has apiVersion ${JSON.stringify(apiVersion)} (kind ${JSON.stringify(kind ?? '')}); ` +
        `expected a ${TEKTON_V1} (or ${TEKTON_V1BETA1}) TaskRun or PipelineRun`,
    );
  }
  if (kind === undefined && apiVersion === undefined) kind = inferKind(doc);
  if (kind !== 'TaskRun' && kind !== 'PipelineRun') {
    throw invalid(
      kind === undefined
        ? `${label} has no kind; expected a TaskRun or PipelineRun`
        : `${label} is a ${typeof kind === 'string' ? escapeTerminal(kind) : describeType(kind)}, ` +
            'not a TaskRun or PipelineRun',
    );
  }
  const name = isObj(doc.metadata) && typeof doc.metadata.name === 'string' ? ` ${doc.metadata.name}` : '';
  // Before the conversion: v1beta1 fields are checked (and named) as written, e.g. status.taskResults.
  checkRunDocument(doc, kind, `${label} (${kind}${name})`, { v1beta1: apiVersion === TEKTON_V1BETA1 });
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
    const items = Array.isArray(doc)
      ? doc
      : isObj(doc) && typeof doc.kind === 'string' && doc.kind.endsWith('List') && 'items' in doc
        ? doc.items
        : undefined;
    if (items === undefined) {
      runs.push(toRun(doc, label));
      return;
    }
    if (!Array.isArray(items)) throw invalid(`${label} is a List whose items is ${describeType(items)}, not a list`);
    if (items.length > MAX_DOCUMENTS) {
      throw invalid(`${label} is a List of ${items.length} items, more than ${MAX_DOCUMENTS} (the limit)`);
    }
    items.forEach((item, j) => runs.push(toRun(item, `${label} item ${j + 1}`)));
  });
  if (runs.length === 0) throw invalid('no TaskRun or PipelineRun found in the input');
  return runs;
}

/**
 * Reads runs from a file, or from stdin when the path is `-` (at most MAX_INPUT_BYTES; FIFOs, devices and
 * directories are refused). Throws ChainsmithError('InvalidRun' | 'InvalidResult') with a one-line message
 * that starts with the file name.
 */
export async function readRunFile(pathOrDash: string): Promise<Run[]> {
  const text = await readInputText(pathOrDash, { reason: 'InvalidRun' });
  try {
    return parseRunDocuments(text);
  } catch (err) {
    // stdin stays unnamed in parse errors, as before: there is only one
    if (err instanceof ChainsmithError && pathOrDash !== '-') {
      throw new ChainsmithError(err.reason, `${displayPath(pathOrDash)}: ${err.message}`);
    }
    throw err;
  }
}
