// The fuzz suite's runner: a fixed seed and a time budget so `npm test` stays bounded (about 60 s for the whole
// suite on two cores), longer runs through FUZZ_SECONDS / FUZZ_RUNS, a watchdog thread that catches a parser that
// never returns (a synchronous loop cannot be interrupted from the thread it blocks), and the figures
// (inputs tried, time, peak memory) printed at the end and written as JSON for docs/reliability.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { ChainsmithError } from '../../src/errors.js';
import { CliError } from '../../src/cli/errors.js';

/** Knobs, all from the environment so `npm test` needs none of them. */
export const FUZZ = {
  /** fast-check seed; a failure prints it with the counterexample path for FUZZ_PATH */
  seed: envInt('FUZZ_SEED', 20261203),
  /** total seconds for the whole suite (every fuzz file takes its share) */
  seconds: envInt('FUZZ_SECONDS', 60),
  /** runs per target before the time limit; the time limit usually ends a CI run first */
  runs: envInt('FUZZ_RUNS', 400),
  /** one input may take this long before it counts as a hang (generous: two busy cores, GC pauses) */
  inputMs: envInt('FUZZ_INPUT_MS', 3000),
  /** one input may not grow the process's resident memory by more than this */
  maxGrowthMb: envInt('FUZZ_MAX_GROWTH_MB', 512),
  /** the process's resident memory may not exceed this after any input */
  maxRssMb: envInt('FUZZ_MAX_RSS_MB', 3072),
  /** hostile strings reach this size (1 MiB in CI; FUZZ_HUGE raises it) */
  huge: envInt('FUZZ_HUGE', 1 << 20),
  /** only the target of this name (with FUZZ_PATH, replays one counterexample) */
  only: process.env.FUZZ_TARGET,
  path: process.env.FUZZ_PATH,
  /** where each file writes its figures (run.ts merges them) */
  figuresDir: process.env.FUZZ_FIGURES_DIR ?? join(tmpdir(), 'chainsmith-fuzz-figures'),
};

/** A synchronous call blocked for this long is a hang: the watchdog reports it and ends the process. */
const WATCHDOG_MS = Math.max(20_000, FUZZ.inputMs * 5);

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Figures of one target. */
export interface TargetFigures {
  target: string;
  inputs: number;
  ms: number;
  slowestInputMs: number;
  failed: boolean;
}

const MIB = 1024 * 1024;
const figures: TargetFigures[] = [];
let peakRss = 0;

function noteRss(): number {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  return rss;
}

// Shared with the watchdog: [0] heartbeat counter, [1] target index, [2] input index, [3] 1 while an input runs.
const shared = new Int32Array(new SharedArrayBuffer(16));
const targetNames: string[] = [];
let watchdog: Worker | undefined;

function startWatchdog(): void {
  if (watchdog) return;
  // Plain JavaScript, no tsx: the thread only reads the shared counters and, on a hang, writes and kills.
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    const fs = require('node:fs');
    const s = workerData.shared;
    const names = workerData.names;
    parentPort.on('message', (n) => names.push(n));
    let last = -1, since = Date.now();
    setInterval(() => {
      const beat = Atomics.load(s, 0);
      if (beat !== last || Atomics.load(s, 3) === 0) { last = beat; since = Date.now(); return; }
      if (Date.now() - since < workerData.limit) return;
      const name = names[Atomics.load(s, 1)] || '?';
      const msg = '\\nFUZZ HANG: target ' + name + ' input #' + Atomics.load(s, 2) + ' blocked for ' +
        (Date.now() - since) + ' ms; replay: FUZZ_TARGET=' + JSON.stringify(name) + ' FUZZ_SEED=' + workerData.seed +
        ' FUZZ_PATH=' + Atomics.load(s, 2) + '\\n';
      fs.writeSync(2, msg);
      process.kill(process.pid, 'SIGKILL');
    }, 500).unref();
  `;
  watchdog = new Worker(source, {
    eval: true,
    execArgv: [],
    workerData: { shared, names: [...targetNames], limit: WATCHDOG_MS, seed: FUZZ.seed },
  });
  watchdog.unref();
}

/** Registers target names up front (the watchdog gets a copy of the list when it starts). */
export function declareTargets(names: string[]): void {
  for (const n of names) {
    if (targetNames.includes(n)) continue;
    targetNames.push(n);
    watchdog?.postMessage(n);
  }
}

/**
 * Throws unless `err` is an error chainsmith documents: ChainsmithError / CliError or, where the API documents
 * plain errors with a message (the kubeconfig loader), `Error` itself or one of `errorNames` — never a runtime
 * TypeError / RangeError or a library's own error class — with a one-line message. `controlFree` also requires
 * the message to hold no terminal control characters (for modules that escape where they build messages).
 */
export function assertDocumentedError(
  err: unknown,
  where: string,
  opts: { errorNames?: string[]; controlFree?: boolean } = {},
): void {
  const plain =
    opts.errorNames !== undefined &&
    err instanceof Error &&
    (Object.getPrototypeOf(err) === Error.prototype || opts.errorNames.includes(err.name));
  if (!(err instanceof ChainsmithError) && !(err instanceof CliError) && !plain) {
    const kind = err instanceof Error ? `${err.name}: ${err.message}` : `non-Error ${typeof err}: ${String(err)}`;
    throw new Error(`${where} threw an undocumented error (${kind.slice(0, 300)})`, { cause: err });
  }
  const m = (err as Error).message;
  if (/[\r\n]/.test(m)) throw new Error(`${where}: error message is not one line: ${JSON.stringify(m.slice(0, 300))}`);
  if (opts.controlFree && hasRawControl(m)) {
    throw new Error(`${where}: error message holds raw control characters: ${JSON.stringify(m.slice(0, 300))}`);
  }
}

// C0 except \n and \t, DEL, C1 (ESC / CSI), bidi overrides: what escapeTerminal removes from printed text.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** True when text would let an untrusted string drive a terminal. */
export function hasRawControl(text: string): boolean {
  return RAW_CONTROL.test(text);
}

/** The budget of one target: its share of this file's share of FUZZ_SECONDS. */
export function budgetMs(fileShare: number, targetsInFile: number): number {
  return Math.max(500, Math.floor((FUZZ.seconds * 1000 * fileShare) / targetsInFile));
}

/** Runs one property under the seed and budget, with per-input time and memory bounds. */
export async function fuzz<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  check: (value: T) => void | Promise<void>,
  opts: { budgetMs: number; runs?: number },
): Promise<TargetFigures | undefined> {
  if (FUZZ.only !== undefined && FUZZ.only !== name) return undefined;
  startWatchdog();
  declareTargets([name]);
  const index = targetNames.indexOf(name);
  const replay = FUZZ.path !== undefined;
  let inputs = 0;
  let slowest = 0;
  const started = performance.now();
  // The budget is checked before each input, so an input is never abandoned half-way (fast-check's own interrupt
  // races the predicate, which would leave a CLI run or a request going on behind the next test). Inputs after the
  // budget are generated but not run; fast-check's interrupt, a little later, ends that generation.
  const deadline = started + opts.budgetMs;
  const asyncLimitMs = FUZZ.inputMs * 4;
  const property = fc.asyncProperty(arb, async (value) => {
    if (!replay && performance.now() > deadline) return;
    inputs++;
    Atomics.store(shared, 1, index);
    Atomics.store(shared, 2, inputs - 1);
    Atomics.add(shared, 0, 1);
    Atomics.store(shared, 3, 1);
    const rssBefore = process.memoryUsage.rss();
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      // An input that waits (a request, a stream) past this limit is a hang with a counterexample; one that blocks
      // the thread is the watchdog's.
      await Promise.race([
        check(value),
        new Promise((_, reject) => {
          const hang = new Error(`one input did not finish within ${asyncLimitMs} ms (a hang)`);
          timer = setTimeout(() => reject(hang), asyncLimitMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      Atomics.store(shared, 3, 0);
    }
    let dt = performance.now() - t0;
    if (dt > FUZZ.inputMs) {
      // npm test runs two files at once on two cores: one stall (a GC of earlier inputs' garbage, the other file)
      // is not the input's cost. An input is slow only if it is slow again on its own.
      const first = dt;
      const t1 = performance.now();
      await check(value);
      dt = performance.now() - t1;
      if (dt > FUZZ.inputMs) {
        throw new Error(`one input took ${Math.round(first)} ms, then ${Math.round(dt)} ms (limit ${FUZZ.inputMs} ms)`);
      }
    }
    if (dt > slowest) slowest = dt;
    const rss = noteRss();
    const growth = rss - rssBefore;
    if (growth > FUZZ.maxGrowthMb * MIB) {
      throw new Error(`one input grew resident memory by ${Math.round(growth / MIB)} MiB (limit ${FUZZ.maxGrowthMb})`);
    }
    if (rss > FUZZ.maxRssMb * MIB) {
      throw new Error(`resident memory reached ${Math.round(rss / MIB)} MiB (limit ${FUZZ.maxRssMb})`);
    }
  });
  const details = await fc.check(property, {
    seed: FUZZ.seed,
    numRuns: replay ? 1 : FUZZ.runs * (opts.runs ?? 1),
    ...(replay
      ? { path: FUZZ.path }
      : { interruptAfterTimeLimit: opts.budgetMs + FUZZ.inputMs * 2, markInterruptAsFailure: false }),
  });
  Atomics.store(shared, 3, 0);
  const f: TargetFigures = {
    target: name,
    inputs,
    ms: Math.round(performance.now() - started),
    slowestInputMs: Math.round(slowest),
    failed: details.failed,
  };
  figures.push(f);
  if (details.failed) {
    const err = details.errorInstance;
    const shown = fc.stringify(details.counterexample);
    throw new Error(
      `${name}: ${err instanceof Error ? err.message : String(err)}\n` +
        `  counterexample (${shown.length} chars): ${shown.length > 1500 ? `${shown.slice(0, 1500)}…` : shown}\n` +
        `  replay: FUZZ_TARGET=${JSON.stringify(name)} FUZZ_SEED=${details.seed} ` +
        `FUZZ_PATH=${JSON.stringify(details.counterexamplePath)}`,
      { cause: err },
    );
  }
  return f;
}

/** Prints this file's figures and writes them as JSON for run.ts / docs/reliability.md. */
export function reportFigures(file: string): string {
  noteRss();
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const lines = [
    `fuzz figures (${file}, seed ${FUZZ.seed}, budget ${FUZZ.seconds} s for the suite):`,
    ...figures.map(
      (f) =>
        `  ${f.target.padEnd(34)} ${String(f.inputs).padStart(7)} inputs  ${String(f.ms).padStart(6)} ms` +
        `  slowest ${f.slowestInputMs} ms${f.failed ? '  FAILED' : ''}`,
    ),
    `  peak RSS ${maxRssMb} MiB (resourceUsage().maxRSS), ${Math.round(peakRss / 1048576)} MiB sampled after inputs`,
  ];
  try {
    mkdirSync(FUZZ.figuresDir, { recursive: true });
    const json = { file, seed: FUZZ.seed, seconds: FUZZ.seconds, maxRssMb, targets: figures };
    writeFileSync(join(FUZZ.figuresDir, `${file}.json`), JSON.stringify(json, null, 2));
  } catch {
    // figures are informational; a read-only tmp must not fail the suite
  }
  return lines.join('\n');
}

/** What a user sees: no stack trace, no raw control characters, at most one stderr line for an error. */
export function checkCliOutput(out: { code: number; stdout: string; stderr: string }, json = false): void {
  const both = out.stdout + out.stderr;
  if (/^\s+at .+:\d+/m.test(both)) throw new Error(`a stack trace was printed: ${JSON.stringify(both.slice(0, 400))}`);
  // JSON output is for tools: JSON.stringify escapes C0 controls, and C1/bidi characters are legal JSON text there.
  const raw = json ? /[\u0000-\u0008\u000b-\u001f]/.test(out.stdout) || hasRawControl(out.stderr) : hasRawControl(both);
  if (raw) throw new Error(`raw control characters were printed: ${JSON.stringify(both.slice(0, 400))}`);
  const errLines = out.stderr.split('\n').filter((l) => l !== '');
  if (out.code !== 0 && errLines.length > 1) {
    const shown = JSON.stringify(out.stderr.slice(0, 400));
    throw new Error(`exit ${out.code} with ${errLines.length} stderr lines: ${shown}`);
  }
}
