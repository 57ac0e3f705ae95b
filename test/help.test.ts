// `chainsmith --help` and every command's `--help`, run as a user runs them (a child process).
// Commands are discovered on disk (src/cli/*.ts exporting `run` and `help`), so a command added
// later is covered without editing this test, and one missing from the top-level help fails it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cliDir = join(root, 'src/cli');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source the way `npm run`/`npx chainsmith` would, minus the compile step. */
function chainsmith(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(cliDir, 'main.ts'), ...args],
      { cwd: root, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Command modules on disk: files in src/cli that export both `run` and `help`. */
function commandsOnDisk(): { name: string; source: string }[] {
  return readdirSync(cliDir)
    .filter((f) => f.endsWith('.ts') && f !== 'main.ts')
    .map((f) => ({ name: f.slice(0, -3), source: readFileSync(join(cliDir, f), 'utf8') }))
    .filter(
      (c) =>
        /export\s+(async\s+)?function\s+run\b|export\s+const\s+run\b/.test(c.source) &&
        /export\s+const\s+help\b/.test(c.source),
    );
}

/**
 * The long flags a command parses, read from its parseArgs option literals
 * (`'flag-name': { type: 'string' … }` or `flag: { type: 'boolean' … }`), with their defaults.
 */
function declaredFlags(source: string): { flag: string; default?: string }[] {
  const flags: { flag: string; default?: string }[] = [];
  const re = /['"]?([a-z][a-z0-9-]*)['"]?\s*:\s*\{\s*type\s*:\s*['"](?:string|boolean)['"]([^}]*)\}/g;
  for (const m of source.matchAll(re)) {
    const def = /default\s*:\s*['"]([^'"]+)['"]/.exec(m[2]!)?.[1];
    flags.push({ flag: `--${m[1]}`, ...(def !== undefined ? { default: def } : {}) });
  }
  return flags;
}

test('`chainsmith --help` lists every command that exists on disk and exits 0', async () => {
  const r = await chainsmith('--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: chainsmith/);
  assert.match(r.stdout, /^\s+controller\s+\S/m, 'the default command is listed');
  for (const { name } of commandsOnDisk()) {
    assert.match(r.stdout, new RegExp(`^\\s+${name}\\s+\\S`, 'm'), `--help lists "${name}" with a summary`);
  }
});

test('`chainsmith help` and `-h` print the same overview', async () => {
  const [a, b, c] = await Promise.all([chainsmith('--help'), chainsmith('help'), chainsmith('-h')]);
  assert.equal(b.code, 0);
  assert.equal(c.code, 0);
  assert.equal(b.stdout, a.stdout);
  assert.equal(c.stdout, a.stdout);
});

test('an unknown command is a one-line error with the overview and exit 2', async () => {
  const r = await chainsmith('sign-everything');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^chainsmith: unknown command "sign-everything"/);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, 'no stack trace');
});

test("every command's --help exits 0 and documents each flag it parses", async (t) => {
  const commands = commandsOnDisk();
  const results = await Promise.all(commands.map(async (c) => ({ ...c, result: await chainsmith(c.name, '--help') })));
  for (const { name, source, result } of results) {
    await t.test(name, () => {
      assert.equal(result.code, 0, `${name} --help: ${result.stderr}`);
      const help = result.stdout;
      assert.ok(help.trim().split('\n').length >= 2, `${name} --help explains the command, not just one line`);
      assert.match(help, new RegExp(`chainsmith ${name}\\b`), `${name} --help shows its usage line`);
      for (const { flag, default: def } of declaredFlags(source)) {
        if (flag === '--help') continue;
        assert.ok(help.includes(flag), `${name} --help mentions ${flag}`);
        if (def !== undefined) assert.ok(help.includes(def), `${name} --help gives the default of ${flag} (${def})`);
      }
    });
  }
});

test('`npm run demo -- --help` explains the demo and its prerequisites; an unknown option exits 2', async () => {
  const demo = (...args: string[]) =>
    new Promise<Result>((resolve) => {
      execFile('bash', [join(root, 'e2e/demo.sh'), ...args], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  const help = await demo('--help');
  assert.equal(help.code, 0, help.stderr);
  for (const text of ['Usage: npm run demo', '--keep', 'Node.js 20.19', 'Go 1.26', 'apt'])
    assert.ok(help.stdout.includes(text), `demo help mentions ${text}`);
  const bad = await demo('--frobnicate');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option --frobnicate/);
});

test("the README's command table lists every command on disk", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Command line'), readme.indexOf('## Development'));
  for (const { name } of commandsOnDisk()) {
    assert.match(
      table,
      new RegExp('\\| `chainsmith ' + name + '[ `]'),
      `README.md "Command line" lists chainsmith ${name}`,
    );
  }
});
