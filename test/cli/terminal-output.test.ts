// What the offline commands print comes from run files and configs that anyone could have written: escape
// sequences in result names, values, annotations or config values must reach the terminal escaped, never raw
// (a result name can otherwise clear the screen and draw a fake "VERIFIED").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../artifacts/cli-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'chainsmith-escape-'));
const DIGEST = `sha256:${'c'.repeat(64)}`;
// C0 (ESC, BEL), DEL, C1 (CSI U+009B, NEL U+0085), bidi override and isolate, line separator
const EVIL = '\u001b[2J\u001b[1;1HVERIFIED\u0007\u007f\u009b31m\u0085\u202e\u2066\u2028';
// Every character a terminal acts on, except the \n and \t that structure the output.
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

function write(name: string, doc: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}

const run = write('evil.json', {
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name: `build${EVIL}`, namespace: 'ci', annotations: { note: EVIL } },
  spec: { params: [{ name: `p${EVIL}`, value: EVIL }] },
  status: {
    conditions: [{ type: 'Succeeded', status: 'True' }],
    results: [
      { name: `x${EVIL}IMAGE_URL`, value: `registry.example/app${EVIL}` },
      { name: `x${EVIL}IMAGE_DIGEST`, value: DIGEST },
      { name: `${EVIL}ARTIFACT_URI`, value: `pkg:${EVIL}` },
      { name: `${EVIL}ARTIFACT_DIGEST`, value: DIGEST },
      { name: `IMAGE_URl${EVIL}`, value: 'x' },
    ],
  },
});

test('artifacts escapes result names, values, findings and the run name in its tables', async () => {
  const r = await runCli(['artifacts', run]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, RAW);
  const shown = '\\x1b[2J\\x1b[1;1HVERIFIED\\x07\\x7f\\x9b31m\\x85\\u202e\\u2066\\u2028';
  assert.ok(r.stdout.includes(shown), 'shown as escapes');
  assert.match(r.stdout, /TaskRun ci\/build\\x1b/);
});

test('artifacts --json escapes what JSON.stringify leaves raw, and still parses to the same strings', async () => {
  const r = await runCli(['artifacts', '--json', run]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, RAW);
  const [report] = JSON.parse(r.stdout) as Array<{ name: string }>;
  assert.equal(report!.name, `build${EVIL}`, 'the JSON value is unchanged');
});

test('provenance prints C1 and bidi characters escaped; the JSON value is the signed one', async () => {
  for (const format of ['in-toto', 'slsa/v2alpha3']) {
    for (const pretty of [[], ['--pretty']]) {
      const r = await runCli(['provenance', '--format', format, ...pretty, run]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, RAW, `${format} ${pretty.join('')}`);
      const reparsed = JSON.stringify(JSON.parse(r.stdout));
      assert.ok(reparsed.includes(JSON.stringify(EVIL).slice(1, -1)), 'same value after parsing');
    }
  }
});

test('config check escapes values from the file in its summary, its JSON and its warnings', async () => {
  // YAML double-quoted strings spell control characters as \u escapes
  const hex4 = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');
  const yamlEscaped = EVIL.replace(/[\u0000-\u001f\u007f-\u009f\u2028]/g, (c) => `\\u${hex4(c)}`);
  const config = write('evil-config.yaml', `builder.id: "https://ci.example/${yamlEscaped}"\n"typo\\u001b[2J": "x"\n`);
  const text = await runCli(['config', 'check', config]);
  assert.equal(text.code, 0, text.stderr);
  assert.doesNotMatch(text.stdout, RAW);
  assert.doesNotMatch(text.stderr, RAW);
  assert.match(text.stdout, /builder\.id: +https:\/\/ci\.example\/\\x1b\[2J/);
  assert.match(text.stderr, /unknown key "typo\\x1b\[2J"/);
  const json = await runCli(['config', 'check', '--json', config]);
  assert.doesNotMatch(json.stdout, RAW);
});

test('error lines quote run content escaped', async () => {
  const pod = write('pod.json', { apiVersion: 'tekton.dev/v1', kind: `Pod${EVIL}` });
  const r = await runCli(['provenance', pod]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr.trimEnd(), RAW);
  assert.match(r.stderr, /is a Pod\\x1b\[2J/);
});
