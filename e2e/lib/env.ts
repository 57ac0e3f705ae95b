// The test stack's coordinates, from the environment (`. .stack/env`) or, when a test is run
// without sourcing it, straight from the .stack/env file that `npm run stack:up` wrote.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in e2e/lib/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StackEnv {
  /** Admin kubeconfig of the stack's kube-apiserver. */
  kubeconfig: string;
  /** host:port of the plain-http OCI registry, e.g. 127.0.0.1:40123. */
  registry: string;
  /** Path of the cosign v2 CLI. */
  cosign: string;
  /** The stack's state directory (.stack). */
  stackDir: string;
  /** Path of kubectl. */
  kubectl: string;
  /** Every variable .stack/env exports, add-ons' included. */
  vars: Record<string, string>;
}

/** Parses the `export NAME=value` lines up.sh writes (values quoted with bash's printf %q). */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!;
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) value = value.slice(1, -1);
    else if (value.startsWith("$'")) value = value.slice(2, -1).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    else value = value.replace(/\\(.)/g, '$1');
    vars[m[1]!] = value;
  }
  return vars;
}

/** Reads the stack's environment; throws a one-line error telling how to start the stack. */
export function stackEnv(): StackEnv {
  const stackDir = process.env.STACK_DIR ?? join(REPO_ROOT, '.stack');
  const file = join(stackDir, 'env');
  const fromFile = existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {};
  const vars: Record<string, string> = { ...fromFile };
  for (const k of Object.keys(fromFile)) {
    const v = process.env[k];
    if (v !== undefined) vars[k] = v;
  }
  const get = (k: string): string => {
    const v = process.env[k] ?? vars[k];
    if (!v)
      throw new Error(`test stack not up: ${k} is not set and ${file} does not define it (run \`npm run stack:up\`)`);
    return v;
  };
  return {
    kubeconfig: get('KUBECONFIG'),
    registry: get('CHAINSMITH_REGISTRY'),
    cosign: get('COSIGN'),
    stackDir: vars.STACK_DIR ?? stackDir,
    kubectl: get('KUBECTL'),
    vars,
  };
}
