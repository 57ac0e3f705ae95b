// The set-up most controller e2e tests share: a signing-secrets dir, the chains-config ConfigMap in the test's
// system namespace, the controller started with the usual flags, and running a command for its exit code and
// output. One place, so a new controller flag or a config change reaches every test.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIGMAPS, KubeApiError, type KubeClient } from '../../src/kube/client.js';
import { startController, type ControllerProcess } from './controller.js';
import { REPO_ROOT, stackEnv } from './env.js';
import { kube } from './kube.js';
import { completeTaskRun, createTaskRun } from './tekton.js';

/** A fresh signing-secrets dir holding an ECDSA P-256 `x509.pem` and its `cosign.pub`. */
export async function x509SecretsDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'x509.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  return dir;
}

/** Writes `chains-config` in `systemNs` with `data`, replacing an existing one (the controller reloads it). */
export async function writeChainsConfig(
  systemNs: string,
  data: Record<string, string>,
  client: KubeClient = kube(),
): Promise<void> {
  const body = { metadata: { name: 'chains-config', namespace: systemNs }, data };
  try {
    // a PUT without a resourceVersion replaces unconditionally
    await client.replace(CONFIGMAPS, systemNs, 'chains-config', body);
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    await client.create(CONFIGMAPS, systemNs, body);
  }
}

export interface SigningControllerOptions {
  /** Flags after the usual ones (e.g. `--lease-name`). */
  extraArgs?: string[];
  /** Environment on top of SYSTEM_NAMESPACE. */
  env?: Record<string, string>;
  /** Wait until the informers have synced (default true). */
  waitSynced?: boolean;
}

/** The controller's usual flags: watch `ns`, keys from `secretsDir`, metrics on a free port; then `extra`. */
export function controllerArgs(ns: string, secretsDir: string, extra: string[] = []): string[] {
  return ['--namespace', ns, '--signing-secrets-dir', secretsDir, '--metrics-addr', '127.0.0.1:0', ...extra];
}

/**
 * Starts the controller watching `ns`, reading chains-config from `systemNs` and keys from `secretsDir`, with
 * metrics on a free port and no leader election.
 */
export async function startSigningController(
  ns: string,
  systemNs: string,
  secretsDir: string,
  opts: SigningControllerOptions = {},
): Promise<ControllerProcess> {
  const controller = await startController(
    controllerArgs(ns, secretsDir, ['--leader-elect=false', ...(opts.extraArgs ?? [])]),
    { SYSTEM_NAMESPACE: systemNs, ...opts.env },
  );
  if (opts.waitSynced ?? true) await controller.waitForLog(/informers synced/);
  return controller;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` in the repository root; a non-zero exit is a result, not an error. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs the stack's kubectl with its admin kubeconfig (`input` on stdin); a non-zero exit is a result. */
export function kubectl(args: string[], input?: string): Promise<CommandResult> {
  const env = stackEnv();
  return runCommand(env.kubectl, ['--kubeconfig', env.kubeconfig, ...args], { timeoutMs: 60_000, input });
}

/** Runs the chainsmith CLI (`src/cli/main.ts`) against the stack's kubeconfig. */
export function chainsmithCli(args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { KUBECONFIG: stackEnv().kubeconfig, ...env },
  });
}

/** Creates a TaskRun in `ns` and completes it with the IMAGE_URL/IMAGE_DIGEST results of `image`; returns its name. */
export async function completeImageTaskRun(ns: string, image: { repository: string; digest: string }): Promise<string> {
  const tr = await createTaskRun(ns);
  await completeTaskRun(ns, tr.metadata.name!, {
    results: [
      { name: 'IMAGE_URL', type: 'string', value: image.repository },
      { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
    ],
  });
  return tr.metadata.name!;
}
