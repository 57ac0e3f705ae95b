// The fuzz suite's long mode: `npm run fuzz -- --seconds 600 --seed 7` runs test/fuzz/*.test.ts with a bigger
// budget (one file at a time, so each gets the machine) and prints the figures of every target as a Markdown
// table for docs/reliability.md. `npm test` runs the same files with the default budget of about 60 s.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TargetFigures } from './harness.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.FUZZ_SECONDS ?? '600' },
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? String(Date.now() % 1_000_000) },
    runs: { type: 'string', default: process.env.FUZZ_RUNS ?? '1000000' },
    huge: { type: 'string', default: process.env.FUZZ_HUGE ?? String(4 << 20) },
  },
});

const root = fileURLToPath(new URL('../../', import.meta.url));
const files = readdirSync(join(root, 'test/fuzz'))
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => join('test/fuzz', f));
const figuresDir = mkdtempSync(join(tmpdir(), 'chainsmith-fuzz-run-'));
const started = Date.now();
process.stdout.write(`fuzzing ${files.length} files for about ${values.seconds} s, seed ${values.seed}\n`);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    FUZZ_SECONDS: values.seconds,
    FUZZ_SEED: values.seed,
    FUZZ_RUNS: values.runs,
    FUZZ_HUGE: values.huge,
    FUZZ_FIGURES_DIR: figuresDir,
  },
});

interface FileFigures {
  file: string;
  maxRssMb: number;
  targets: TargetFigures[];
}

const all: FileFigures[] = readdirSync(figuresDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(figuresDir, f), 'utf8')) as FileFigures);
rmSync(figuresDir, { recursive: true, force: true });
const rows = all.flatMap((f) =>
  f.targets.map(
    (t) =>
      `| ${t.target} | ${t.inputs} | ${(t.ms / 1000).toFixed(1)} s | ${t.slowestInputMs} ms | ${f.maxRssMb} MiB ` +
      `| ${t.failed ? 'FAILED' : 'ok'} |`,
  ),
);
const total = all.reduce((n, f) => n + f.targets.reduce((m, t) => m + t.inputs, 0), 0);
process.stdout.write(
  [
    '',
    `Fuzz figures: seed ${values.seed}, ${Math.round((Date.now() - started) / 1000)} s, ${total} inputs in all`,
    '',
    '| target | inputs | time | slowest input | peak RSS (file) | result |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
process.exitCode = result.status ?? 1;
