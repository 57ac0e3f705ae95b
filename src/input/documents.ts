// Parsing untrusted JSON and YAML text into plain values, with limits checked before anything recursive runs:
// nesting depth (recursive code downstream — the YAML composer, protobuf-style key sorting, structuredClone —
// must never overflow the stack), number of documents, keys per object and values per document.
// YAML duplicate keys are found with one hash set per mapping: the `yaml` package's own check compares every
// new key with all earlier ones, which takes minutes for a mapping with tens of thousands of keys.
import { Composer, CST, isAlias, isMap, isScalar, isSeq, Lexer, Parser, type Document } from 'yaml';
import { ChainsmithError, type Reason } from '../errors.js';
import { MAX_INPUT_BYTES } from './read.js';

/** Deepest nesting of objects and arrays (mappings and sequences) accepted in one document or run. */
export const MAX_NESTING_DEPTH = 256;
/** Most documents in one YAML stream, and most items in one `List`. */
export const MAX_DOCUMENTS = 10_000;
/** Most keys in one object (mapping). */
export const MAX_OBJECT_KEYS = 10_000;
/** Most values (objects, arrays, strings, numbers …; a YAML alias counts each time it is used) in one document. */
export const MAX_DOCUMENT_VALUES = 1_000_000;
/** Most characters in all the strings (keys included) of one document or run: the input size limit. */
export const MAX_DOCUMENT_CHARS = MAX_INPUT_BYTES;
/** Most YAML alias expansions per anchor (the `yaml` package's guard against "billion laughs"). */
export const MAX_YAML_ALIAS_COUNT = 1000;
/**
 * Most scalars and flow collections in one YAML stream. The `yaml` parser holds ~600 bytes per node in its token
 * tree before any limit can be checked on it (a 15 MiB stream of a million scalars took 1.2 GiB), so YAML input is
 * counted first by its streaming lexer: this caps the parser near 300 MiB. A single run is at most 1.5 MiB in
 * etcd (~100,000 scalars); larger lists of runs can be given as JSON, which has no such cost.
 */
export const MAX_YAML_NODES = 500_000;
// below this length a stream cannot hold MAX_YAML_NODES nodes (each takes at least two characters)
const YAML_NODE_COUNT_FROM = 2 * MAX_YAML_NODES;

export interface DocumentOptions {
  /** the reason of the ChainsmithError thrown on bad input */
  reason: Reason;
}

/**
 * What makes a plain value (parsed JSON, a run from the API server) exceed the document limits, or undefined.
 * Iterative, so it is safe on any depth; stops at the first problem, so a cyclic value ends at the depth limit.
 */
export function valueLimitProblem(value: unknown): string | undefined {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  let values = 0;
  let chars = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (++values > MAX_DOCUMENT_VALUES) return `it holds more than ${MAX_DOCUMENT_VALUES} values (the limit)`;
    if (typeof v === 'string') {
      chars += v.length;
      if (chars > MAX_DOCUMENT_CHARS) return `its strings hold more than ${MAX_DOCUMENT_CHARS} characters (the limit)`;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_NESTING_DEPTH) return `it is nested deeper than ${MAX_NESTING_DEPTH} levels (the limit)`;
    if (Array.isArray(v)) {
      for (const item of v) stack.push({ v: item, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    if (keys.length > MAX_OBJECT_KEYS) {
      return `an object has ${keys.length} keys, more than ${MAX_OBJECT_KEYS} (the limit)`;
    }
    for (const k of keys) {
      chars += k.length;
      stack.push({ v: (v as Record<string, unknown>)[k], depth: depth + 1 });
    }
    if (chars > MAX_DOCUMENT_CHARS) return `its strings hold more than ${MAX_DOCUMENT_CHARS} characters (the limit)`;
  }
  return undefined;
}

/** JSON.parse (iterative in V8, so deep input cannot overflow it) followed by the document limits. */
export function parseJsonDocument(text: string, opts: DocumentOptions): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ChainsmithError(opts.reason, `invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const problem = valueLimitProblem(value);
  if (problem) throw new ChainsmithError(opts.reason, `the JSON document is refused: ${problem}`);
  return value;
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

function at(text: string, offset: number | undefined): string {
  if (offset === undefined || offset < 0) return '';
  const { line, col } = lineAndColumn(text, offset);
  return ` at line ${line}, column ${col}`;
}

function isCollectionToken(t: CST.Token): t is CST.BlockMap | CST.BlockSequence | CST.FlowCollection {
  return t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection';
}

/**
 * The offset where flow collections (`[`, `{`) in YAML text first nest deeper than `max`, or undefined. One linear
 * pass before the `yaml` parser, which spends ~1.5 µs per byte on deep flow nesting before its own limits refuse it
 * (16 MiB would cost ~20 s of CPU). It errs only towards counting less: quoted scalars, comments, and brackets
 * inside block plain scalars are skipped, and a quote never spans a line here, so a stray quote hides one line at
 * most (which the parser then reads as a scalar, quickly). The token-tree check after parsing stays exact.
 */
export function flowNestingOffset(text: string, max: number): number | undefined {
  let depth = 0;
  let quote = '';
  // whether the next character starts a scalar: line start, or after an indicator (`:`, `-`, `,`, `[`, `{`, `?`)
  let scalarStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      quote = '';
      scalarStart = true;
      continue;
    }
    if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = '';
      continue;
    }
    if (quote === "'") {
      if (c === "'") {
        if (text[i + 1] === "'") i++;
        else quote = '';
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
      continue;
    }
    if ((c === '"' || c === "'") && scalarStart) {
      quote = c;
      continue;
    }
    if ((c === '[' || c === '{') && (scalarStart || depth > 0)) {
      if (++depth > max) return i;
      scalarStart = true;
      continue;
    }
    if ((c === ']' || c === '}') && depth > 0) {
      depth--;
      scalarStart = false;
      continue;
    }
    scalarStart = c === ':' || c === '-' || c === ',' || c === '?';
  }
  return undefined;
}

/** The number of scalars and flow collections in YAML text, counted by the streaming lexer (no tree is built). */
export function countYamlNodes(text: string, stopAbove = Infinity): number {
  let nodes = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'scalar' || type === 'flow-map-start' || type === 'flow-seq-start') {
      if (++nodes > stopAbove) break;
    }
  }
  return nodes;
}

/** Checks the limits on the parser's token tree, before the (recursive) composer sees it. */
function checkTokens(tokens: CST.Token[], text: string, opts: DocumentOptions): void {
  const fail = (message: string, offset?: number) =>
    new ChainsmithError(opts.reason, `invalid YAML${at(text, offset)}: ${message}`);
  const documents = tokens.filter((t) => t.type === 'document').length;
  if (documents > MAX_DOCUMENTS) {
    throw fail(`the stream holds ${documents} documents, more than ${MAX_DOCUMENTS} (the limit)`);
  }
  const stack: Array<{ t: CST.Token; depth: number }> = tokens.map((t) => ({ t, depth: 0 }));
  let values = 0;
  while (stack.length > 0) {
    const { t, depth } = stack.pop()!;
    if (t.type === 'document') {
      values = 0;
      if (t.value) stack.push({ t: t.value, depth });
      continue;
    }
    if (++values > MAX_DOCUMENT_VALUES) {
      throw fail(`a document holds more than ${MAX_DOCUMENT_VALUES} values (the limit)`, t.offset);
    }
    if (!isCollectionToken(t)) continue;
    if (depth >= MAX_NESTING_DEPTH) throw fail(`nested deeper than ${MAX_NESTING_DEPTH} levels (the limit)`, t.offset);
    if (t.type !== 'block-seq' && t.items.length > MAX_OBJECT_KEYS) {
      throw fail(`a collection has ${t.items.length} entries, more than ${MAX_OBJECT_KEYS} (the limit)`, t.offset);
    }
    for (const item of t.items) {
      if (item.key) stack.push({ t: item.key, depth: depth + 1 });
      if (item.value) stack.push({ t: item.value, depth: depth + 1 });
    }
  }
}

/** Throws on the first mapping that repeats a scalar key (as `yaml` does by default, but in linear time). */
function checkDuplicateKeys(doc: Document.Parsed, text: string, opts: DocumentOptions): void {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node) || !node) continue;
    if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    } else if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) {
            const where = at(text, pair.key.range?.[0]);
            throw new ChainsmithError(opts.reason, `invalid YAML${where}: Map keys must be unique`);
          }
          seen.add(pair.key.value);
        } else {
          stack.push(pair.key);
        }
        stack.push(pair.value);
      }
    }
  }
}

/**
 * Parses a YAML stream (JSON is YAML too) into one plain value per document, `undefined` for an empty document.
 * Limits are checked on the token tree first, then on the values (aliases expanded). Throws ChainsmithError(reason)
 * `invalid YAML at line L, column C: …` for syntax errors and exceeded limits.
 */
export function parseYamlDocuments(text: string, opts: DocumentOptions): unknown[] {
  const deep = flowNestingOffset(text, MAX_NESTING_DEPTH);
  if (deep !== undefined) {
    throw new ChainsmithError(
      opts.reason,
      `invalid YAML${at(text, deep)}: nested deeper than ${MAX_NESTING_DEPTH} levels (the limit)`,
    );
  }
  if (text.length >= YAML_NODE_COUNT_FROM && countYamlNodes(text, MAX_YAML_NODES) > MAX_YAML_NODES) {
    throw new ChainsmithError(
      opts.reason,
      `invalid YAML: the stream holds more than ${MAX_YAML_NODES} values (the YAML limit; give large inputs as JSON)`,
    );
  }
  const tokens = Array.from(new Parser().parse(text));
  checkTokens(tokens, text, opts);
  // uniqueKeys: false skips the package's quadratic duplicate check; checkDuplicateKeys does it linearly.
  const docs = Array.from(new Composer({ uniqueKeys: false }).compose(tokens));
  const values: unknown[] = [];
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first) {
      throw new ChainsmithError(opts.reason, `invalid YAML${at(text, first.pos[0])}: ${first.message.split('\n')[0]}`);
    }
    checkDuplicateKeys(doc, text, opts);
    if (doc.contents === null) {
      values.push(undefined);
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
    } catch (err) {
      throw new ChainsmithError(opts.reason, `invalid YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
    const problem = valueLimitProblem(value);
    if (problem) throw new ChainsmithError(opts.reason, `the YAML document is refused: ${problem}`);
    values.push(value);
  }
  return values;
}
