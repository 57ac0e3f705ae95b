// Tekton Chains v0.28.1's own formatters, run on our fixtures by scripts/chains-goldens.sh, wrote the payloads in
// test/fixtures/formats/chains-v0.28.1/. chainsmith must sign the same bytes for the same run and chains-config.
// A failure names the first field that differs, inside the base64 `content` of an embedded object too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BuildType } from '../../src/config/types.js';
import { payloadFormat } from '../../src/formats/index.js';
import type { FormatInput } from '../../src/formats/types.js';
import { parseImageReference } from '../../src/reference/reference.js';
import { parseRunDocuments } from '../../src/tekton/read.js';
import type { PipelineRun, Run, TaskRun } from '../../src/tekton/types.js';
import { config } from './helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const GOLDENS = fileURLToPath(new URL('../fixtures/formats/chains-v0.28.1/', import.meta.url));

/** One entry of cases.json (the harness reads the same file). */
interface GoldenCase {
  name: string;
  description: string;
  format: 'in-toto' | 'slsa/v1' | 'slsa/v2alpha3' | 'slsa/v2alpha4' | 'simplesigning';
  taskRun?: string;
  pipelineRun?: string;
  children?: string[];
  image?: string;
  builderId?: string;
  deepInspection?: boolean;
  buildType?: BuildType;
}

const { cases } = JSON.parse(readFileSync(GOLDENS + 'cases.json', 'utf8')) as { cases: GoldenCase[] };

function readRun<T extends Run>(path: string, kind: T['kind']): T {
  const [run] = parseRunDocuments(readFileSync(REPO + path, 'utf8'));
  assert.equal(run?.kind, kind, `${path} is not a ${kind}`);
  return run as T;
}

function inputOf(c: GoldenCase): FormatInput {
  if (c.image !== undefined) {
    const ref = parseImageReference(c.image);
    assert.ok(ref, `${c.image} is not an image digest reference`);
    return { kind: 'Image', image: { repository: ref.repository, digest: ref.digest, source: 'IMAGES' } };
  }
  if (c.taskRun !== undefined) return { kind: 'TaskRun', run: readRun<TaskRun>(c.taskRun, 'TaskRun') };
  assert.ok(c.pipelineRun, `case ${c.name} names no run`);
  const run = readRun<PipelineRun>(c.pipelineRun, 'PipelineRun');
  return { kind: 'PipelineRun', run: { run, children: (c.children ?? []).map((p) => readRun<TaskRun>(p, 'TaskRun')) } };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The first place two JSON documents differ, key order included (`undefined` when they are equal). */
function firstDifference(got: Json, want: Json, path = ''): string | undefined {
  const show = (v: Json | undefined): string => (v === undefined ? 'nothing' : JSON.stringify(v));
  if (Array.isArray(got) && Array.isArray(want)) {
    for (let i = 0; i < Math.max(got.length, want.length); i++) {
      const d = i < got.length && i < want.length ? firstDifference(got[i]!, want[i]!, `${path}[${i}]`) : undefined;
      if (d) return d;
      if (i >= got.length || i >= want.length)
        return `${path}[${i}]: chainsmith has ${show(got[i])}, Chains has ${show(want[i])}`;
    }
    return undefined;
  }
  const isObject = (v: Json): v is { [key: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(got) && isObject(want)) {
    const gk = Object.keys(got);
    const wk = Object.keys(want);
    for (const k of wk) if (!(k in got)) return `${path}.${k}: chainsmith has nothing, Chains has ${show(want[k])}`;
    for (const k of gk) if (!(k in want)) return `${path}.${k}: chainsmith has ${show(got[k])}, Chains has nothing`;
    if (gk.join('\0') !== wk.join('\0')) return `${path}: keys in order ${gk.join(',')}; Chains writes ${wk.join(',')}`;
    for (const k of wk) {
      const d = firstDifference(got[k]!, want[k]!, `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return JSON.stringify(got) === JSON.stringify(want)
    ? undefined
    : `${path}: chainsmith has ${show(got)}, Chains has ${show(want)}`;
}

/** Where two texts first differ, with some context, for differences JSON parsing hides (escapes, number forms). */
function firstByteDifference(got: string, want: string): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  return `at offset ${i}: chainsmith …${got.slice(Math.max(0, i - 40), i + 40)}…, Chains …${want.slice(Math.max(0, i - 40), i + 40)}…`;
}

/** Every base64 `content` of a SLSA v1.0 predicate (embedded child TaskRuns, byproducts), by where it is. */
function contents(statement: Json): Map<string, string> {
  const out = new Map<string, string>();
  const predicate = (
    statement as {
      predicate?: { buildDefinition?: { resolvedDependencies?: Json[] }; runDetails?: { byproducts?: Json[] } };
    }
  ).predicate;
  const lists: Array<[string, Json[] | undefined]> = [
    ['resolvedDependencies', predicate?.buildDefinition?.resolvedDependencies],
    ['byproducts', predicate?.runDetails?.byproducts],
  ];
  for (const [where, list] of lists) {
    (list ?? []).forEach((rd, i) => {
      const d = rd as { name?: string; content?: string };
      if (d.content !== undefined)
        out.set(`${where}[${i}] (${d.name ?? ''})`, Buffer.from(d.content, 'base64').toString('utf8'));
    });
  }
  return out;
}

/** Asserts the embedded objects first (a clearer message), then the whole payload, byte for byte. */
function assertSameBytes(got: Buffer, want: Buffer): void {
  if (got.equals(want)) return;
  const gotText = got.toString('utf8');
  const wantText = want.toString('utf8');
  const gotJson = JSON.parse(gotText) as Json;
  const wantJson = JSON.parse(wantText) as Json;
  const gotContents = contents(gotJson);
  for (const [where, wantContent] of contents(wantJson)) {
    const gotContent = gotContents.get(where);
    if (gotContent === undefined || gotContent === wantContent) continue;
    let why: string;
    try {
      why =
        firstDifference(JSON.parse(gotContent) as Json, JSON.parse(wantContent) as Json) ??
        firstByteDifference(gotContent, wantContent);
    } catch {
      why = firstByteDifference(gotContent, wantContent);
    }
    assert.fail(`content of ${where} differs from Chains': ${why}`);
  }
  assert.fail(
    `payload differs from Chains': ${firstDifference(gotJson, wantJson) ?? firstByteDifference(gotText, wantText)}`,
  );
}

test('every golden case has a golden file and the cases cover every format', () => {
  const formats = new Set(cases.map((c) => c.format));
  for (const f of ['in-toto', 'slsa/v1', 'slsa/v2alpha3', 'slsa/v2alpha4', 'simplesigning'])
    assert.ok(formats.has(f as GoldenCase['format']), f);
  for (const c of cases) assert.ok(readFileSync(GOLDENS + `${c.name}.json`).length > 0, c.name);
  const named = new Set(cases.map((c) => `${c.name}.json`));
  for (const f of readdirSync(GOLDENS))
    if (f.endsWith('.json') && f !== 'cases.json') assert.ok(named.has(f), `${f} belongs to no case`);
});

for (const c of cases) {
  test(`Chains v0.28.1 golden ${c.name}: ${c.description}`, () => {
    const cfg = config({
      builderId: c.builderId ?? '',
      deepInspection: c.deepInspection ?? false,
      ...(c.buildType ? { buildType: c.buildType } : {}),
    });
    const payload = payloadFormat(c.format).createPayload(inputOf(c), cfg);
    assertSameBytes(payload.bytes, readFileSync(GOLDENS + `${c.name}.json`));
  });
}
