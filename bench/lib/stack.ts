// The benchmark's own core-only stack (etcd + kube-apiserver + Tekton CRDs + registry), started
// with the project's e2e/stack scripts in a private STACK_DIR so it never touches the shared
// .stack other engineers' tests use. Each arm gets a fresh one: down.sh removes the etcd data
// dir and up.sh creates a new one.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseEnvFile } from '../../e2e/lib/env.js';

const run = promisify(execFile);
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface BenchStack {
  stackDir: string;
  kubeconfig: string;
  /** host:port of the plain-http registry. */
  registry: string;
  /** Path of kubectl (reads the API server's /metrics). */
  kubectl: string;
  /** pid of the kube-apiserver and etcd, for their CPU figures. */
  apiserverPid: number;
  etcdPid: number;
}

function scriptEnv(stackDir: string): NodeJS.ProcessEnv {
  return { ...process.env, STACK_DIR: stackDir, STACK_SKIP_ADDONS: '1' };
}

/** Stops the benchmark stack in `stackDir` (if any) and starts a fresh one; bounded by timeouts. */
export async function freshStack(stackDir: string): Promise<BenchStack> {
  await downStack(stackDir);
  await run('bash', [join(REPO_ROOT, 'e2e/stack/up.sh')], {
    env: scriptEnv(stackDir),
    timeout: 900_000,
    maxBuffer: 1 << 24,
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`stack up failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-2).join(' ')}`);
  });
  const vars = parseEnvFile(readFileSync(join(stackDir, 'env'), 'utf8'));
  const kubeconfig = vars.KUBECONFIG!;
  const pid = (name: string): number => Number(readFileSync(join(stackDir, 'pids', `${name}.pid`), 'utf8').trim());
  return {
    stackDir,
    kubeconfig,
    registry: vars.CHAINSMITH_REGISTRY!,
    kubectl: vars.KUBECTL!,
    apiserverPid: pid('kube-apiserver'),
    etcdPid: pid('etcd'),
  };
}

/** Stops the benchmark stack and deletes its data (safe when none is running). */
export async function downStack(stackDir: string): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'e2e/stack/down.sh')], { env: scriptEnv(stackDir), timeout: 120_000 }).catch(
    () => undefined,
  );
}
