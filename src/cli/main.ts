#!/usr/bin/env node
// chainsmith's entry point: dispatches to one module per command (src/cli/<command>.ts).
// Each command module exports `run(argv: string[]): Promise<number>` (the exit code) and `help: string`.
import { CliError } from './errors.js';

interface CommandModule {
  run(argv: string[]): Promise<number>;
  help: string;
}

/** command name → module path and one-line summary, in the order `--help` lists them */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  controller: { module: './controller.js', summary: 'run the signing controller (the default command)' },
  provenance: { module: './provenance.js', summary: 'print the in-toto provenance statement for a run file (offline)' },
  artifacts: { module: './artifacts.js', summary: 'print the subjects, materials and findings type hinting finds in a run file' },
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
  const entry = COMMANDS[name];
  if (!entry) return undefined;
  try {
    return (await import(entry.module)) as CommandModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(entry.module.slice(2, -3))) {
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
    process.stderr.write(`chainsmith: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(mod.help.trimEnd() + '\n');
    return 0;
  }
  try {
    return await mod.run(args);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`chainsmith ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '');
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`chainsmith: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
