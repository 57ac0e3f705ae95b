// Structured hostile inputs: valid fixtures mutated at random paths, JSON trees with hostile leaves (huge strings,
// deep nesting, control characters, `../`, nulls where objects are expected, numbers where strings are expected),
// and text-level YAML/JSON attacks (alias bombs, tens of thousands of keys, truncation).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify as yamlStringify } from 'yaml';
import fc from 'fast-check';
import { FUZZ } from './harness.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** Strings an attacker would try first. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '..',
  '../',
  '../../../etc/passwd',
  '%2e%2e/%2e%2e/escape',
  'a/../../escape',
  '?x=1',
  '#frag',
  '\u001b[2J\u001b[H  VERIFIED  ',
  '\u009b31m',
  '\u202eevil',
  '\u0000',
  'line1\nline2',
  'carriage\r',
  '\t',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  DIGEST_A,
  `sha256:${'A'.repeat(64)}`,
  'sha256:',
  `sha512:${'b'.repeat(128)}`,
  `registry.example.com/app@${DIGEST_A}`,
  `registry.example.com/../escape@${DIGEST_A}`,
  `registry.example.com/app/..@${DIGEST_A}`,
  `127.0.0.1:5000/app:tag@${DIGEST_A}`,
  `127.0.0.1:5000/app@${DIGEST_A}?x=1`,
  `127.0.0.1:5000/app#x@${DIGEST_A}`,
  `localhost/a b@${DIGEST_A}`,
  `ubuntu@${DIGEST_A}`,
  `docker.io/library/ubuntu:latest@${DIGEST_A}`,
  `Registry.EXAMPLE.com/app@${DIGEST_A}`,
  `[::1]:5000/app@${DIGEST_A}`,
  `registry.example.com/app@${DIGEST_A}\n`,
  `registry.example.com/app@sha256:${'a'.repeat(64)}/../../x`,
  'https://github.com/example/repo',
  'git+https://github.com/example/repo.git@refs/heads/main',
  'pkg:oci/app@sha256:abc',
  '/dev/null',
  '1e308',
  'true',
  '~',
  '!!binary',
  '*alias',
  '&anchor',
  '<<',
  '-1',
  'NaN',
];

/** Any string fast-check can make, from every Unicode plane (lone surrogates included). */
const anyString = fc.string({ unit: 'binary', maxLength: 64 });

/** A huge string: a repeated character or a repeated hostile fragment. */
export const hugeString = fc
  .tuple(
    fc.integer({ min: 4096, max: Math.max(4096, FUZZ.huge) }),
    fc.constantFrom('A', '/..', '\u001b[2J', 'é', ',', '\n'),
  )
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)));

/** A leaf value that is wrong in some way. */
export const hostileLeaf: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 3, arbitrary: anyString },
  { weight: 1, arbitrary: hugeString },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, [], {}, [null], {
      '': null,
    }),
  },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);

/** A nesting `depth` deep, of arrays or objects, as JSON text (also valid YAML flow). */
export function nestedText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}"x"${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
}

// Deep values stay a marker string in the tree (a 20,000-level tree would overflow the serialisers and make every
// mutation walk it); serialise() expands the marker into the nested text.
const DEEP_MARK = /"?§DEEP§(array|object)§(\d+)"?/g;

/** Deep nesting: the stack overflows the issue describes live past a few thousand levels. */
export const deepValue: fc.Arbitrary<Json> = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
  .map(([d, k]) => `§DEEP§${k}§${d}`);

function expandDeep(text: string): string {
  return text.replace(DEEP_MARK, (_, kind: 'array' | 'object', depth: string) => nestedText(Number(depth), kind));
}

/** A small random JSON tree whose leaves are hostile. */
export const hostileTree: fc.Arbitrary<Json> = fc.letrec<{ tree: Json }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: hostileLeaf },
    { weight: 1, arbitrary: fc.array(tie('tree'), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), anyString), tie('tree'), { maxKeys: 4 }),
    },
  ),
})).tree;

/** A replacement for a node: hostile leaf, tree, deep nesting, or a wide list/map. */
export const hostileNode: fc.Arbitrary<Json> = fc.oneof(
  { weight: 8, arbitrary: hostileLeaf },
  { weight: 3, arbitrary: hostileTree },
  { weight: 1, arbitrary: deepValue },
);

// ---------------------------------------------------------------------------------------------------------------
// Mutation of valid documents

type Path = Array<string | number>;

/** About how much text one `widen` mutation may add (1 MiB). */
const WIDEN_BYTES = 1024 * 1024;

/** Paths of a tree, root first, down to `maxDepth` (deep values are mutation targets as a whole, not inside). */
export function pathsOf(v: Json, limit = 5000, maxDepth = 48): Path[] {
  const out: Path[] = [];
  const stack: Array<[Json, Path]> = [[v, []]];
  while (stack.length > 0 && out.length < limit) {
    const [x, p] = stack.pop()!;
    out.push(p);
    if (p.length >= maxDepth) continue;
    const children: Array<[Json, Path]> = Array.isArray(x)
      ? x.map((c, i): [Json, Path] => [c, [...p, i]])
      : x !== null && typeof x === 'object'
        ? Object.entries(x).map(([k, c]): [Json, Path] => [c, [...p, k]])
        : [];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return out;
}

function getAt(v: Json, p: Path): Json {
  let x: Json = v;
  for (const k of p) x = (x as Record<string | number, Json>)[k] as Json;
  return x;
}

function setAt(root: Json, p: Path, value: Json): Json {
  if (p.length === 0) return value;
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, Json>;
  parent[p[p.length - 1]!] = value;
  return root;
}

/** One mutation: what to do, where (an index into the paths, modulo their count), and with what. */
export interface Mutation {
  op: 'replace' | 'delete' | 'insert' | 'widen' | 'wrap' | 'retype';
  at: number;
  key: string;
  value: Json;
  times: number;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<Mutation['op']>('replace', 'replace', 'replace', 'delete', 'insert', 'widen', 'wrap', 'retype'),
  at: fc.nat(),
  key: fc.oneof(
    fc.constantFrom('name', 'value', 'results', 'steps', 'status', 'metadata', 'spec', 'digest', 'uri', 'IMAGE_URL'),
    fc.constant('imageID'),
    anyString,
  ),
  value: hostileNode,
  times: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 2, max: 50 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 25_000 }) },
  ),
});

/** Applies mutations to a deep copy of `doc`. Deterministic for the same mutations. */
export function mutate(doc: Json, mutations: Mutation[]): Json {
  let root = structuredClone(doc);
  for (const m of mutations) {
    const paths = pathsOf(root);
    const p = paths[m.at % paths.length]!;
    const here = getAt(root, p);
    // a copy per use: fast-check may hand the same (constant) object to several mutations, and inserting one
    // object twice made the tree a graph (a value inserted into itself is a cycle; JSON.stringify then throws,
    // and nested widening of shared parts grew exponentially until the fuzzer ran out of memory)
    const value: Json = m.value !== null && typeof m.value === 'object' ? structuredClone(m.value) : m.value;
    switch (m.op) {
      case 'replace':
        root = setAt(root, p, value);
        break;
      case 'delete': {
        if (p.length === 0) break;
        const parent = getAt(root, p.slice(0, -1));
        const k = p[p.length - 1]!;
        if (Array.isArray(parent)) parent.splice(k as number, 1);
        else if (parent !== null && typeof parent === 'object') delete parent[k as string];
        break;
      }
      case 'insert':
        if (Array.isArray(here)) here.push(value);
        else if (here !== null && typeof here === 'object') here[m.key] = value;
        else root = setAt(root, p, { [m.key]: value });
        break;
      case 'widen': {
        // Many copies of one element: the quadratic merges and per-key checks of the issue. Bounded to about
        // WIDEN_BYTES of text, so a huge element is copied a few times rather than thousands.
        // measured expanded: a deep marker is short in the tree but thousands of characters in the text
        // the elements are copied cyclically, so the text grows by their average size per copy (not the first's)
        const unit = Math.max(
          1,
          Array.isArray(here) && here.length > 0
            ? Math.ceil(serialise(here, 'json').length / here.length)
            : serialise(here, 'json').length,
        );
        const times = Math.max(2, Math.min(m.times, Math.floor(WIDEN_BYTES / unit)));
        if (Array.isArray(here) && here.length > 0) {
          root = setAt(
            root,
            p,
            Array.from({ length: times }, (_, i) => structuredClone(here[i % here.length]!)),
          );
        } else if (here !== null && typeof here === 'object' && !Array.isArray(here)) {
          // short values only, and never a deep marker: thousands of keys × a deep value is gigabytes of text
          const short = typeof m.value === 'string' && m.value.length <= 64 && !m.value.startsWith('§DEEP§');
          const v = short ? (m.value as string) : 'v';
          for (let i = 0; i < m.times; i++) here[`${m.key.slice(0, 16)}${i}`] = v;
        } else
          root = setAt(
            root,
            p,
            Array.from({ length: times }, () => here),
          );
        break;
      }
      case 'wrap':
        root = setAt(root, p, m.times % 2 === 0 ? [here] : { [m.key]: here });
        break;
      case 'retype':
        {
          // objects become null (String() of a generated object without a prototype would throw)
          const isObject = here !== null && typeof here === 'object';
          const retyped = typeof here === 'string' ? here.length : isObject || here === null ? null : String(here);
          root = setAt(root, p, retyped);
        }
        break;
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

function fixtureDocs(rel: string): Json[] {
  const text = readFileSync(FIXTURES + rel, 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as Json);
}

/** Valid runs to mutate: v1 and v1beta1, TaskRuns, PipelineRuns, Lists, and Chains' own test data. */
export const RUN_FIXTURES: readonly Json[] = [
  ...fixtureDocs('runs/buildah-taskrun.yaml'),
  ...fixtureDocs('runs/ko-taskrun.json'),
  ...fixtureDocs('runs/pipelinerun-list.yaml'),
  ...fixtureDocs('runs/buildah-taskrun-v1beta1.yaml'),
  ...fixtureDocs('runs/pipelinerun-v1beta1.yaml'),
  ...fixtureDocs('formats/v2alpha4-taskrun1.json'),
  ...fixtureDocs('formats/v2alpha4-pipelinerun1.json'),
];

/** Result names type hinting reads, and near misses. */
const HINT_NAMES = [
  'IMAGE_URL',
  'IMAGE_DIGEST',
  'IMAGES',
  'APP_IMAGE_URL',
  'APP_IMAGE_DIGEST',
  'ARTIFACT_URI',
  'ARTIFACT_DIGEST',
  'X_ARTIFACT_URI',
  'X_ARTIFACT_DIGEST',
  'X_ARTIFACT_OUTPUTS',
  'ARTIFACT_OUTPUTS',
  'ARTIFACT_INPUTS',
  'X_ARTIFACT_INPUTS',
  'CHAINS-GIT_URL',
  'CHAINS-GIT_COMMIT',
  'image_url',
  'IMAGEDIGEST',
  '\u001b[2JIMAGE_URL',
  'IMAGE_URL\n',
];

const hintValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(fc.constantFrom(...HOSTILE_STRINGS), { maxLength: 5 }), fc.constantFrom(',', '\n', ', ', ' '))
      .map(([xs, sep]) => xs.join(sep)),
  },
  { weight: 2, arbitrary: fc.record({ uri: hostileLeaf, digest: hostileLeaf }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...HOSTILE_STRINGS), { maxLength: 4 }) },
  { weight: 1, arbitrary: hostileLeaf },
);

/** Results aimed at type hinting: the names it reads, with hostile references and digests. */
export const hintResults: fc.Arbitrary<Json[]> = fc.array(
  fc.record({
    name: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...HINT_NAMES) }, { weight: 1, arbitrary: anyString }),
    value: hintValue,
  }),
  { minLength: 1, maxLength: 8 },
);

/** A run document: a fixture, mutated, sometimes with hinting results spliced into every result list. */
export const runDocument: fc.Arbitrary<Json> = fc
  .tuple(
    fc.nat({ max: RUN_FIXTURES.length - 1 }),
    fc.array(mutationArb, { minLength: 0, maxLength: 4 }),
    fc.option(hintResults, { freq: 2 }),
  )
  .map(([i, muts, results]) => {
    const doc = structuredClone(RUN_FIXTURES[i]!);
    if (results) spliceResults(doc, results);
    return mutate(doc, muts);
  });

/** Replaces every `results` / `taskResults` list in the document (down to a modest depth) by `results`. */
function spliceResults(doc: Json, results: Json[]): void {
  const stack: Array<[Json, number]> = [[doc, 0]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (depth > 48 || x === null || typeof x !== 'object') continue;
    if (Array.isArray(x)) {
      for (const c of x) stack.push([c, depth + 1]);
      continue;
    }
    for (const k of Object.keys(x)) {
      const isResults = k === 'results' || k === 'taskResults' || k === 'pipelineResults';
      if (isResults && Array.isArray(x[k])) x[k] = structuredClone(results);
      else stack.push([x[k]!, depth + 1]);
    }
  }
}

/** Text attacks on a YAML/JSON reader that a tree cannot express. */
export const hostileYamlText: fc.Arbitrary<string> = fc.oneof(
  // alias bomb: each level doubles the previous one
  fc.integer({ min: 5, max: 30 }).map((n) => {
    const lines = ['a0: &a0 [x, x]'];
    for (let i = 1; i < n; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}]`);
    return `${lines.join('\n')}\nkind: TaskRun\napiVersion: tekton.dev/v1\n`;
  }),
  // many keys (the yaml package's duplicate-key check is quadratic)
  fc.integer({ min: 1000, max: 60_000 }).map((n) => {
    const labels = Array.from({ length: n }, (_, i) => `    k${i}: v`).join('\n');
    return `apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  labels:\n${labels}\n`;
  }),
  // deep flow nesting
  fc.integer({ min: 100, max: 50_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 100, max: 50_000 }).map((n) => `${'{a: '.repeat(n)}x${'}'.repeat(n)}`),
  // deep block nesting
  fc
    .integer({ min: 50, max: 3000 })
    .map((n) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} x\n`),
  // many documents
  fc.integer({ min: 100, max: 20_000 }).map((n) => '---\n{}\n'.repeat(n)),
  // tags, merges, odd scalars
  fc.constantFrom(
    'apiVersion: tekton.dev/v1\nkind: TaskRun\nstatus: !!binary aGVsbG8=\n',
    'apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: &m {name: x}\nspec: {<<: *m}\n' +
      'status: {results: [{<<: *m, value: *m}]}\n',
    'apiVersion: tekton.dev/v1\nkind: TaskRun\nstatus: {results: [{name: IMAGE_URL, value: !!js/function "x"}]}\n',
    'apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: x, name: y}\n',
    '%YAML 1.1\n---\nkind: TaskRun\napiVersion: tekton.dev/v1\nstatus: {results: [{name: IMAGE_URL, value: 0x1F}]}\n',
    '\ufeff{"kind":"TaskRun"}',
    '\u0000\u0001\u0002',
    '{"a":1}{"b":2}',
    '[',
    '- - - - -',
    '? complex key\n: value\n',
  ),
);

/** Text of a run file: a run document serialised as JSON or YAML, maybe cut or corrupted, or a text attack. */
export const runText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(runDocument, fc.constantFrom('json', 'json-pretty', 'yaml'))
      .map(([d, how]) => serialise(d, how)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(runDocument, fc.constantFrom('json', 'yaml'), fc.nat(), fc.constantFrom<Edit>('cut', 'insert', 'flip'))
      .map(([d, how, at, edit]) => corrupt(serialise(d, how), at, edit)),
  },
  { weight: 2, arbitrary: hostileYamlText },
  { weight: 1, arbitrary: anyString },
  { weight: 1, arbitrary: hostileTree.map((t) => serialise(t, 'json')) },
);

/** JSON or YAML text of a document (YAML through the same library users' tools use); deep markers expanded. */
export function serialise(doc: Json, how: string): string {
  if (how === 'json') return expandDeep(JSON.stringify(doc) ?? 'null');
  if (how === 'json-pretty') return expandDeep(JSON.stringify(doc, null, 2) ?? 'null');
  return expandDeep(yamlStringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 }));
}

/** How corrupt() edits text. */
export type Edit = 'cut' | 'insert' | 'flip';

/** A byte-level edit: cut the text, insert hostile characters, or flip one character. */
export function corrupt(text: string, at: number, edit: Edit): string {
  const i = text.length === 0 ? 0 : at % text.length;
  if (edit === 'cut') return text.slice(0, i);
  if (edit === 'insert') return `${text.slice(0, i)}\u001b[2J: &x *x\n\t"'{[${text.slice(i)}`;
  return `${text.slice(0, i)}${String.fromCharCode((text.charCodeAt(i) ^ 0x20) & 0xffff)}${text.slice(i + 1)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Image references

const REGISTRIES = [
  '',
  'localhost/',
  'localhost:5000/',
  '127.0.0.1:5000/',
  'ghcr.io/',
  'docker.io/',
  'index.docker.io/',
  'Registry.EXAMPLE.com/',
  '[::1]:5000/',
  'registry.example.com:443/',
  'a:b:c/',
  'host:/',
  'ex ample.com/',
  'ex%41mple.com/',
  'example.com?/',
  'x.y#/',
];
const COMPONENTS = [
  'app',
  'library',
  'ubuntu',
  'a',
  'a.b',
  'a_b',
  'a__b',
  'a-b',
  'a--b',
  '..',
  '.',
  '',
  '.hidden',
  'a..b',
  'UPPER',
  'a b',
  'a\tb',
  'a?b',
  'a#b',
  'a%2fb',
  '%2e%2e',
  'é',
  'a\u001bb',
  '_a',
  'a_',
  'a\nb',
];
const TAGS = [
  '',
  ':latest',
  ':v1.2.3',
  ':_x',
  ':.x',
  ':-x',
  `:${'t'.repeat(128)}`,
  `:${'t'.repeat(129)}`,
  ':a/b',
  ':a?b',
  ':',
  ':a b',
];
const DIGESTS = [
  '',
  `@${DIGEST_A}`,
  `@${DIGEST_B}`,
  '@sha256:abc',
  `@sha256:${'A'.repeat(64)}`,
  `@sha512:${'b'.repeat(128)}`,
  `@${DIGEST_A}/../x`,
  `@${DIGEST_A}?x`,
  `@${DIGEST_A}#x`,
  `@${DIGEST_A}@${DIGEST_A}`,
  '@',
  `@ ${DIGEST_A}`,
  `@${DIGEST_A} `,
  `@${DIGEST_A}\n`,
];

/** Image references built from hostile parts, plus random strings over the reference alphabet. */
export const referenceText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...REGISTRIES),
        fc.array(fc.constantFrom(...COMPONENTS), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...TAGS),
        fc.constantFrom(...DIGESTS),
      )
      .map(([r, cs, t, d]) => `${r}${cs.join('/')}${t}${d}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .string({ unit: fc.constantFrom(...'abAB09._-/:@%?# \t\u001b.'.split('')), maxLength: 40 })
      .map((s) => `${s}@${DIGEST_A}`),
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'ab09._-/:@'.split('')), maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 200, max: 5000 }), fc.constantFrom('a/', 'a', '../'))
      .map(([n, u]) => `r.io/${u.repeat(n)}x@${DIGEST_A}`),
  },
);
