// Deep flow nesting in YAML is refused by a linear pre-scan, before the `yaml` parser spends seconds per megabyte
// on it (fuzz findings F3 and F4 of issue 15): run files, chains-config and kubeconfigs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countYamlNodes, flowNestingOffset, MAX_NESTING_DEPTH, parseYamlDocuments } from '../../src/input/documents.js';
import { configDataFromText } from '../../src/config/parse.js';
import { loadClusterConnection } from '../../src/kube/kubeconfig.js';

const deep = (d: number): string => '{"a":'.repeat(d) + '"x"' + '}'.repeat(d);
// ~3.6 MB of flow collections 3,000 deep: the yaml parser alone took ~4 s on it
const hostile = '[' + Array.from({ length: 200 }, () => deep(3000)).join(',') + ']';

test('a YAML run file nested 3,000 flow levels deep is refused at once, naming line and column', () => {
  const started = process.hrtime.bigint();
  assert.throws(
    () => parseYamlDocuments(`kind: TaskRun\nx: ${hostile}\n`, { reason: 'InvalidRun' }),
    (err: Error) => /invalid YAML at line 2, column \d+: nested deeper than 256 levels/.test(err.message),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 1500, `refusing took ${ms} ms`);
});

test('a chains-config of deep flow nesting is refused as InvalidConfig', () => {
  assert.throws(() => configDataFromText(hostile, 'cfg.yaml'), /cfg\.yaml: invalid YAML at line 1.*nested deeper/);
});

test('a kubeconfig of deep flow nesting is refused without echoing its text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flow-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, `apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: SECRET-TOKEN}}, ${hostile}]\n`);
  assert.throws(
    () => loadClusterConnection(file),
    (err: Error) => /nested deeper than 256 levels at line 3/.test(err.message) && !err.message.includes('SECRET'),
  );
});

test('brackets in quoted scalars, comments and block plain scalars are not counted', () => {
  const many = '['.repeat(MAX_NESTING_DEPTH + 10);
  const ok = [
    `a: "${many}"`,
    `b: '${many}'`,
    `c: x${many}`,
    `# ${many}`,
    `d: |\n  echo ${many}`,
    `e: ['${many}', "${many}"]`,
  ].join('\n');
  assert.equal(flowNestingOffset(ok, MAX_NESTING_DEPTH), undefined);
  assert.deepEqual(parseYamlDocuments(`f: ${'['.repeat(20)}1${']'.repeat(20)}\n`, { reason: 'InvalidRun' }).length, 1);
});

test('a stray quote cannot hide nesting beyond its own line', () => {
  const text = `a: |\n  "unclosed\nb: ${'['.repeat(MAX_NESTING_DEPTH + 1)}${']'.repeat(MAX_NESTING_DEPTH + 1)}\n`;
  assert.notEqual(flowNestingOffset(text, MAX_NESTING_DEPTH), undefined);
});

test('a YAML stream of more than 500,000 values is refused by the streaming lexer, before the parser builds a tree', () => {
  // ~4.5 MiB, 600,000 one-character scalars: the parser's token tree for it would take ~400 MiB
  const text = 'kind: TaskRun\nx:\n' + '- a\n'.repeat(600_000);
  const before = process.memoryUsage.rss();
  assert.throws(
    () => parseYamlDocuments(text, { reason: 'InvalidRun' }),
    /the stream holds more than 500000 values \(the YAML limit; give large inputs as JSON\)/,
  );
  const grewMiB = (process.memoryUsage.rss() - before) / 1048576;
  assert.ok(grewMiB < 150, `refusing it grew resident memory by ${grewMiB.toFixed(0)} MiB`);
  assert.equal(countYamlNodes('a: [b, {c: d}]\n'), 6); // 4 scalars, 2 flow collections
});
