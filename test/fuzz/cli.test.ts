// The CLI as users meet it: `provenance`, `artifacts` and `config check` on hostile files. In-process (many
// inputs, through main()) and as real processes (a few: spawns are slow), asserting exit codes, at most one line
// on stderr for an error, no stack trace, no raw terminal control characters, and bounded time and memory —
// including the inputs of issue 15: a FIFO, /dev/zero, a 100 MB result, deep nesting, tens of thousands of keys.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { runCli } from '../artifacts/cli-capture.js';
import { hostileYamlText, mutate, mutationArb, nestedText, runText, serialise, type Json } from './arbitraries.js';
import { budgetMs, checkCliOutput, FUZZ, fuzz, reportFigures } from './harness.js';

// In-process inputs get this share of FUZZ_SECONDS; the dozen spawned processes take about 12 s more.
const SHARE = 0.15;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const RSS_REPORT = fileURLToPath(new URL('./rss-report.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chainsmith-fuzz-cli-'));
const spawned: Array<{ what: string; ms: number; maxRssMb: number; code: number | null }> = [];

after(() => {
  rmSync(dir, { recursive: true, force: true });
  const lines = spawned.map(
    (s) => `  spawned: ${s.what.padEnd(48)} exit ${s.code}  ${String(s.ms).padStart(6)} ms  maxRSS ${s.maxRssMb} MiB`,
  );
  process.stdout.write(`${reportFigures('cli')}\n${lines.join('\n')}\n`);
});

const COMMANDS: Array<{ argv: (file: string) => string[]; json: boolean }> = [
  { argv: (f) => ['provenance', f], json: true },
  { argv: (f) => ['provenance', '--format', 'slsa/v2alpha4', '--deep-inspection', f], json: true },
  { argv: (f) => ['artifacts', f], json: false },
  { argv: (f) => ['artifacts', '--json', '--format', 'slsa/v2alpha4', f], json: true },
];

test('provenance and artifacts in-process: any run file exits 0 or 2, one clean line on error', async () => {
  const arb = fc.tuple(runText, fc.nat({ max: COMMANDS.length - 1 }));
  let n = 0;
  await fuzz(
    'cli in-process: provenance/artifacts',
    arb,
    async ([text, which]) => {
      const file = join(dir, `run-${n++ % 4}.yaml`);
      writeFileSync(file, text);
      const cmd = COMMANDS[which]!;
      const argv = cmd.argv(file);
      let out;
      try {
        out = await runCli(argv);
      } catch (err) {
        const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        // the installed CLI would print that raw error and exit 1
        throw new Error(`chainsmith ${argv[0]} threw instead of exiting: ${what}`);
      }
      if (out.code !== 0 && out.code !== 2) throw new Error(`${argv[0]} exited ${out.code} (documented: 0, 2)`);
      // provenance prints the statement as JSON (escaped by JSON.stringify); artifacts prints tables for people.
      checkCliOutput(out, cmd.json && out.code === 0);
    },
    { budgetMs: budgetMs(SHARE * 0.7, 1) },
  );
});

const CONFIG: Json = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'chains-config' },
  data: { 'artifacts.taskrun.format': 'slsa/v1', 'builder.id': 'https://example.com/b' },
};

test('config check in-process: any file exits 0 or 2 with one clean line on error', async () => {
  const arb = fc.oneof(
    fc
      .tuple(fc.array(mutationArb, { maxLength: 4 }), fc.constantFrom('json', 'yaml'))
      .map(([m, how]) => serialise(mutate(CONFIG, m), how)),
    hostileYamlText,
  );
  let n = 0;
  await fuzz(
    'cli in-process: config check',
    arb,
    async (text) => {
      const file = join(dir, `config-${n++ % 4}.yaml`);
      writeFileSync(file, text);
      const out = await runCli(['config', 'check', file]);
      if (out.code !== 0 && out.code !== 2) throw new Error(`config check exited ${out.code}`);
      // On success, stderr holds one warning per unknown key: the one-line rule is for errors.
      checkCliOutput(out.code === 0 ? { ...out, stderr: '' } : out);
      if (out.code === 0) checkCliOutput({ code: 0, stdout: out.stderr, stderr: '' });
    },
    { budgetMs: budgetMs(SHARE * 0.3, 1) },
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Real processes

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  maxRssMb: number;
  killed: boolean;
}

/** Runs `node --import tsx src/cli/main.ts ...argv`, killing it after `limitMs`. */
async function spawnCli(what: string, argv: string[], limitMs: number): Promise<Spawned> {
  const rssFile = join(dir, `rss-${spawned.length}`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', RSS_REPORT, MAIN, ...argv], {
    cwd: ROOT,
    env: { ...process.env, FUZZ_RSS_FILE: rssFile, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  // Only the first MiB of output is kept: enough to judge it, and a runaway output cannot exhaust the test.
  child.stdout.on('data', (c: Buffer) => (stdout.length < 1 << 20 ? (stdout += c.toString('utf8')) : undefined));
  child.stderr.on('data', (c: Buffer) => (stderr.length < 1 << 20 ? (stderr += c.toString('utf8')) : undefined));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, limitMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const ms = Math.round(performance.now() - started);
  const maxRssMb = existsSync(rssFile) ? Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024) : -1;
  spawned.push({ what, ms, maxRssMb, code });
  return { code, stdout, stderr, ms, maxRssMb, killed };
}

/** The process-level properties: finished in time, exit 0/1/2, clean output, memory bounded. */
function checkSpawned(what: string, r: Spawned, opts: { codes?: number[]; maxRssMb?: number; json?: boolean }): void {
  assert.ok(!r.killed, `${what}: still running after ${r.ms} ms (killed)`);
  const codes = opts.codes ?? [0, 1, 2];
  const stderr = JSON.stringify(r.stderr.slice(0, 300));
  const expected = codes.join('/');
  const ok = r.code !== null && codes.includes(r.code);
  assert.ok(ok, `${what}: exit ${r.code} (expected ${expected}); stderr ${stderr}`);
  checkCliOutput({ code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr }, opts.json ?? false);
  const cap = opts.maxRssMb ?? 512;
  assert.ok(r.maxRssMb <= cap, `${what}: peak resident memory ${r.maxRssMb} MiB (limit ${cap} MiB)`);
}

function write(name: string, text: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const taskRun = (status: Json): string =>
  JSON.stringify({ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'fuzz', uid: 'u-1' }, status });
const done = {
  conditions: [{ type: 'Succeeded', status: 'True' }],
  startTime: '2026-01-01T00:00:00Z',
  completionTime: '2026-01-01T00:01:00Z',
};

interface Case {
  what: string;
  argv: string[];
  codes: number[];
  limitMs?: number;
  json?: boolean;
}

/** The inputs issue 15 names, each through a real process. */
function issueCases(): Case[] {
  const cases: Case[] = [];
  const add = (what: string, argv: string[], codes: number[], more: Partial<Case> = {}): void => {
    cases.push({ what, argv, codes, ...more });
  };
  const oldRun = { apiVersion: 'tekton.dev/v1beta1', kind: 'TaskRun', metadata: { name: 'old' } };
  Object.assign(oldRun, { status: { taskResults: 'x' } });
  add('provenance: v1beta1 taskResults not a list', ['provenance', write('v1beta1.json', JSON.stringify(oldRun))], [2]);
  const esc = taskRun({
    ...done,
    results: [
      { name: '\u001b[2J\u001b[HVERIFIED_IMAGE_URL', value: '\u001b]0;pwned\u0007registry.example.com/app' },
      { name: 'IMAGE_URL', value: 'registry.example.com/\u001b[31mapp' },
    ],
  });
  add('artifacts: escape sequences in results', ['artifacts', write('esc.json', esc)], [0, 2]);
  const deep = taskRun(done).replace('"status":', `"spec":{"x":${nestedText(100_000, 'array')}},"status":`);
  add('provenance: 100,000 levels of nesting', ['provenance', write('deep.json', deep)], [0, 2], { json: true });
  const keys = Array.from({ length: 60_000 }, (_, i) => `  k${i}: v`).join('\n');
  const keysFile = write('keys.yaml', `kind: ConfigMap\napiVersion: v1\ndata:\n${keys}\n`);
  add('config check: 60,000 keys', ['config', 'check', keysFile], [0, 2], { limitMs: 15_000 });
  const imageID = `registry.example.com/s@sha256:${'a'.repeat(64)}`;
  const steps = Array.from({ length: 20_000 }, (_, i) => ({ name: `s${i}`, container: `step-s${i}`, imageID }));
  const stepsFile = write('steps.json', taskRun({ ...done, steps }));
  add('provenance: 20,000 steps', ['provenance', stepsFile], [0, 2], { limitMs: 15_000, json: true });
  const fifo = join(dir, 'fifo');
  if (spawnSync('mkfifo', [fifo]).status === 0) {
    add('provenance: a FIFO as RUN_FILE', ['provenance', fifo], [2], { limitMs: 10_000 });
  }
  if (existsSync('/dev/zero')) {
    add('artifacts: /dev/zero as RUN_FILE', ['artifacts', '/dev/zero'], [2], { limitMs: 15_000 });
  }
  const value = `registry.example.com/app${'A'.repeat(100 * 1024 * 1024)}`;
  const big = write('big.json', taskRun({ ...done, results: [{ name: 'IMAGE_URL', value }] }));
  add('provenance: a 100 MB result value', ['provenance', big], [0, 2], { limitMs: 30_000, json: true });
  // A few fuzzed run files, fixed by the seed, through the real process as well.
  const commands = fc.constantFrom('provenance', 'artifacts');
  const sample = fc.sample(fc.tuple(runText, commands), { seed: FUZZ.seed, numRuns: 4 });
  sample.forEach(([text, cmd], i) => {
    const file = write(`sample-${i}.yaml`, text);
    add(`${cmd}: fuzzed run file #${i}`, [cmd, file], [0, 2], { json: cmd === 'provenance' });
  });
  return cases;
}

test('spawned CLI: the hostile inputs of issue 15 exit 2 or 0, one clean line, bounded time and memory', async () => {
  const failures: string[] = [];
  for (const c of issueCases()) {
    const r = await spawnCli(c.what, c.argv, c.limitMs ?? 20_000);
    try {
      checkSpawned(c.what, r, { codes: c.codes, json: (c.json ?? false) && r.code === 0 });
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  assert.deepEqual(failures, [], `spawned CLI properties failed:\n  ${failures.join('\n  ')}`);
});
