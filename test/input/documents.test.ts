// Parsing limits on untrusted JSON/YAML (runs and chains-config): deep nesting, huge mappings, many documents and
// alias bombs are refused quickly with one line naming the limit, instead of overflowing the stack or taking minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainsmithError } from '../../src/errors.js';
import { configDataFromText } from '../../src/config/parse.js';
import { parseRunDocuments } from '../../src/tekton/read.js';
import { runCli } from '../artifacts/cli-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'chainsmith-docs-'));
const DONE = { conditions: [{ type: 'Succeeded', status: 'True' }] };

function invalid(reason: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ChainsmithError, `a ChainsmithError, got ${String(e)}`);
    assert.equal(e.reason, reason);
    assert.ok(!e.message.includes('\n'), e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** exit 2 and one line naming the file, for every command that reads run files, in every format */
async function refusedEverywhere(file: string, why: RegExp): Promise<void> {
  for (const format of ['in-toto', 'slsa/v1', 'slsa/v2alpha3', 'slsa/v2alpha4']) {
    for (const command of ['provenance', 'artifacts']) {
      const r = await runCli([command, '--format', format, file]);
      assert.equal(r.code, 2, `${command} --format ${format}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.startsWith(`chainsmith ${command}: ${file}: `), r.stderr);
      assert.match(r.stderr, why);
    }
  }
}

test('a run nested 100,000 levels deep (JSON) is refused, not a stack overflow in the payload', async () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const head = '{"apiVersion":"tekton.dev/v1","kind":"TaskRun","metadata":{"name":"d"}';
  const file = write('deep.json', `${head},"spec":{"podTemplate":${deep}},"status":${JSON.stringify(DONE)}}`);
  await refusedEverywhere(file, /nested deeper than 256 levels/);
});

test('deeply nested YAML (flow and block style) is refused before the YAML composer recurses', async () => {
  const flow = 'kind: TaskRun\nspec:\n  x: ' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n';
  const where = /invalid YAML at line 3, column \d+: nested deeper than 256 levels/;
  assert.throws(() => parseRunDocuments(flow), invalid('InvalidRun', where));
  let block = 'kind: TaskRun\nspec:\n';
  for (let i = 1; i <= 2000; i++) block += ' '.repeat(i * 2) + 'a:\n';
  assert.throws(() => parseRunDocuments(block), invalid('InvalidRun', /nested deeper than 256 levels/));
  const shallower = 'kind: TaskRun\nspec:\n  x: ' + '['.repeat(10_000) + ']'.repeat(10_000) + '\n';
  await refusedEverywhere(write('deep.yaml', shallower), /nested deeper than 256 levels/);
  const config = 'data:\n  x: ' + '{a: '.repeat(5000) + '1' + '}'.repeat(5000);
  assert.throws(() => configDataFromText(config), invalid('InvalidConfig', /nested deeper/));
});

test('a mapping with 50,000 keys is refused at once instead of minutes of duplicate-key checks', () => {
  const labels = Array.from({ length: 50_000 }, (_, i) => `    k${i}: v`).join('\n');
  const started = performance.now();
  const text = `kind: TaskRun\nmetadata:\n  labels:\n${labels}\n`;
  assert.throws(() => parseRunDocuments(text), invalid('InvalidRun', /50000 entries, more than 10000/));
  assert.ok(performance.now() - started < 5000, 'refused quickly');
});

test('many keys across mappings parse in linear time, and duplicate keys are still refused', () => {
  // 20 mappings × 5,000 keys: the package's own duplicate check compares every key with all earlier ones.
  // A generous bound: this documents the linear mode; the 50,000-key case above is the regression test.
  const keys = Array.from({ length: 5000 }, (_, i) => `    k${i}: v`).join('\n');
  const maps = Array.from({ length: 20 }, (_, m) => `  m${m}:\n${keys}`).join('\n');
  const started = performance.now();
  const [run] = parseRunDocuments(`kind: TaskRun\nmetadata: {name: many}\nspec:\n${maps}\n`);
  const ms = performance.now() - started;
  assert.equal(Object.keys((run!.spec as Record<string, Record<string, string>>).m19!).length, 5000);
  assert.ok(ms < 15_000, `took ${Math.round(ms)} ms`);
  const twice = 'kind: TaskRun\nmetadata:\n  name: a\n  name: b\n';
  assert.throws(() => parseRunDocuments(twice), invalid('InvalidRun', /line 4, column 3: Map keys must be unique/));
  const configTwice = 'builder.id: a\nbuilder.id: b\n';
  assert.throws(() => configDataFromText(configTwice), invalid('InvalidConfig', /Map keys must be unique/));
});

test('more than 10,000 documents, List items or config keys are refused', () => {
  const stream = '---\nkind: TaskRun\n'.repeat(10_001);
  assert.throws(() => parseRunDocuments(stream), invalid('InvalidRun', /10001 documents, more than 10000/));
  const list = { kind: 'List', items: Array.from({ length: 10_001 }, () => ({ kind: 'TaskRun' })) };
  assert.throws(() => parseRunDocuments(JSON.stringify(list)), invalid('InvalidRun', /List of 10001 items, more than/));
  const data = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`unknown.key${i}`, 'x']));
  assert.throws(() => configDataFromText(JSON.stringify(data)), invalid('InvalidConfig', /1001 keys, more than 1000/));
});

test('a YAML alias bomb is refused', () => {
  let yaml = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i < 9; i++)
    yaml += `a${i}: &a${i} [${Array(10)
      .fill(`*a${i - 1}`)
      .join(', ')}]\n`;
  const bomb = `kind: TaskRun\nspec:\n  ${yaml.split('\n').join('\n  ')}`;
  assert.throws(() => parseRunDocuments(bomb), invalid('InvalidRun', /alias|values/));
});
