#!/usr/bin/env node
// chainsmith's entry point: dispatches to one module per command (src/cli/<command>.ts).
// Each command module exports `run(argv: string[]): Promise<number>` (the exit code) and `help: string`.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChainsmithError, messageOf, type Reason } from '../errors.js';
import { escapeTerminal } from '../text/terminal.js';
import { CliError } from './errors.js';

interface CommandModule {
  run(argv: string[]): Promise<number>;
  help: string;
}

/** command name → module path and one-line summary, in the order `--help` lists them */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  controller: { module: './controller.js', summary: 'run the signing controller (the default command)' },
  provenance: { module: './provenance.js', summary: 'print the in-toto provenance statement for a run file (offline)' },
  artifacts: {
    module: './artifacts.js',
    summary: 'print the subjects, materials and findings type hinting finds in a run file',
  },
  config: { module: './config.js', summary: 'validate a chains-config ConfigMap (`config check FILE`)' },
  payload: { module: './payload.js', summary: "print a run's stored payload (like `tkn chain payload`)" },
  signature: { module: './signature.js', summary: "print a run's stored signature (like `tkn chain signature`)" },
  verify: { module: './verify.js', summary: "verify an image's signatures and attestations in its registry" },
  'verify-run': { module: './verify-run.js', summary: "verify a run's tekton-storage annotations" },
  audit: { module: './audit.js', summary: 'report which completed runs are signed, failed, skipped or pending' },
  resign: { module: './resign.js', summary: 'clear the signed marks so the controller signs runs again' },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'chainsmith — a Tekton Chains-compatible signing controller',
    '',
    'Usage: chainsmith [COMMAND] [FLAGS]',
    '',
    'Commands:',
    ...lines,
    '',
    'With no command, chainsmith runs the controller.',
    'Run `chainsmith COMMAND --help` for the flags of a command.',
  ].join('\n');
}

async function loadCommand(name: string): Promise<CommandModule | undefined> {
  // own keys only: `chainsmith constructor` is an unknown command, not Object's constructor
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) return undefined;
  try {
    return (await import(entry.module)) as CommandModule;
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
      String(err).includes(entry.module.slice(2, -3))
    ) {
      return undefined;
    }
    throw err;
  }
}

/** Runs the CLI with the given arguments and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  if (first === '--version') {
    process.stdout.write('chainsmith 0.1.0\n');
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'controller' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const mod = await loadCommand(name);
  if (!mod) {
    process.stderr.write(`chainsmith: unknown command "${escapeTerminal(name)}"\n\n${usage()}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(mod.help.trimEnd() + '\n');
    return 0;
  }
  try {
    return await mod.run(args);
  } catch (err) {
    const { line, code } = describeFailure(err);
    process.stderr.write(`chainsmith ${name}: ${line}\n`);
    return code;
  }
}

/** Reasons that mean the input was bad (exit 2) when a command lets a ChainsmithError through. */
const INPUT_REASONS: ReadonlySet<Reason> = new Set<Reason>([
  'InvalidRun',
  'InvalidResult',
  'InvalidConfig',
  'InvalidReference',
  'InvalidDigest',
  'InvalidName',
]);

/**
 * One line and an exit code for anything a command throws: CliError carries its own code; a ChainsmithError about
 * bad input is 2; anything else (a bug, a stack overflow) is 1. Never a stack trace; the line is escaped because
 * messages quote run, file and registry content.
 */
export function describeFailure(err: unknown): { line: string; code: number } {
  const line = escapeTerminal(messageOf(err).split('\n')[0]!.trim() || String(err));
  if (err instanceof CliError) return { line, code: err.exitCode };
  if (err instanceof ChainsmithError) return { line, code: INPUT_REASONS.has(err.reason) ? 2 : 1 };
  return { line: `unexpected error: ${line}`, code: 1 };
}

/**
 * True when this module is the process's main script. npm runs the `bin` through a symlink
 * (node_modules/.bin/chainsmith, a global install, npx), and node passes that path in argv[1] while
 * import.meta.url is the resolved file: compare real paths, or every command would silently do nothing.
 */
export function isMainModule(argv1: string | undefined, moduleUrl: string): boolean {
  if (!argv1) return false;
  let self: string;
  try {
    self = realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
  // node also accepts the script without its extension (`node dist/src/cli/main`)
  for (const candidate of [argv1, `${argv1}.js`, `${argv1}.ts`]) {
    try {
      if (realpathSync(candidate) === self) return true;
    } catch {
      // not this candidate
    }
  }
  return false;
}

/** Last-resort handlers for the CLI process: one line on stderr, exit 1; a reader that went away ends us quietly. */
function installProcessHandlers(): void {
  const fatal = (err: unknown) => {
    // the controller installs its own handlers (structured log, stack); leave those in charge
    if (process.listenerCount('uncaughtException') > 1) return;
    process.stderr.write(`chainsmith: ${describeFailure(err).line}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', (reason) => {
    if (process.listenerCount('unhandledRejection') > 1) return;
    fatal(reason);
  });
  // `chainsmith artifacts run.json | head`: a closed pipe is not a crash
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') return fatal(err);
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1);
  });
}

if (isMainModule(process.argv[1], import.meta.url)) {
  installProcessHandlers();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`chainsmith: ${describeFailure(err).line}\n`);
      process.exitCode = 1;
    },
  );
}
