// The entry point as a process: it runs when reached through a symlink (unit-tested here; the packed tarball is
// in test/packaging.test.ts), and whatever goes wrong the user sees one line, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CliError } from '../../src/cli/errors.js';
import { describeFailure, isMainModule } from '../../src/cli/main.js';
import { ChainsmithError } from '../../src/errors.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chainsmith-main-'));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStdout` may end the read side early (like `| head`). */
function chainsmith(args: string[], opts: { preload?: string; closeStdoutAfter?: number } = {}): Promise<Result> {
  const preload = opts.preload ? ['--import', pathToFileURL(opts.preload).href] : [];
  const node = ['--import', 'tsx', ...preload, MAIN, ...args];
  const child = spawn(process.execPath, node, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (opts.closeStdoutAfter !== undefined && stdout.length >= opts.closeStdoutAfter) child.stdout.destroy();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

test('isMainModule resolves symlinks (npm bin links) and extension-less script paths', () => {
  const url = pathToFileURL(MAIN).href;
  const link = join(dir, 'chainsmith');
  symlinkSync(MAIN, link);
  assert.equal(isMainModule(link, url), true, 'through the node_modules/.bin symlink');
  assert.equal(isMainModule(MAIN, url), true);
  assert.equal(isMainModule(MAIN.replace(/\.ts$/, ''), url), true, '`node src/cli/main` without the extension');
  assert.equal(isMainModule(join(dir, 'other.js'), url), false);
  assert.equal(isMainModule(undefined, url), false);
});

test('describeFailure: one escaped line and the exit code for anything a command throws', () => {
  assert.deepEqual(describeFailure(new CliError('bad flag')), { line: 'bad flag', code: 2 });
  const invalid = new ChainsmithError('InvalidRun', 'run.json: status.steps must be a list');
  assert.deepEqual(describeFailure(invalid), { line: 'run.json: status.steps must be a list', code: 2 });
  assert.equal(describeFailure(new ChainsmithError('RegistryUnavailable', 'registry down')).code, 1);
  const bug = new TypeError('x is not a function\n    at foo (bar.js:1:1)');
  assert.deepEqual(describeFailure(bug), { line: 'unexpected error: x is not a function', code: 1 });
  assert.equal(describeFailure(new RangeError('Maximum call stack size exceeded')).code, 1);
  const hostile = new CliError('name \u001b[2J\u009b31m');
  assert.deepEqual(describeFailure(hostile), { line: 'name \\x1b[2J\\x9b31m', code: 2 });
});

test('an unexpected exception outside the command prints one line and exits 1, no stack trace', async () => {
  const bomb = join(dir, 'bomb.mjs');
  writeFileSync(bomb, "setTimeout(() => { throw new TypeError('boom'); }, 300);\n");
  // `provenance -` waits for stdin, which stays open: the exception happens while the command runs
  const r = await chainsmith(['provenance', '-'], { preload: bomb });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'chainsmith: unexpected error: boom\n');
});

test('a reader that closes the pipe early (`| head`) ends the command quietly, no EPIPE stack trace', async () => {
  const results = Array.from({ length: 20_000 }, (_, i) => ({ name: `r${i}_ARTIFACT_URI`, value: `pkg:t-${i}` }));
  const file = join(dir, 'many.json');
  const run = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'm' }, spec: {}, status: { results } };
  writeFileSync(file, JSON.stringify(run));
  const r = await chainsmith(['artifacts', file], { closeStdoutAfter: 1 });
  assert.ok(r.stdout.startsWith('TaskRun m'), r.stdout.slice(0, 100));
  assert.equal(r.stderr, '', 'nothing on stderr');
  assert.notEqual(r.code, null, 'exited by itself');
});
