// The benchmark's own core-only stack (etcd + kube-apiserver + Tekton CRDs + registry), started
// with the project's e2e/stack scripts in a private STACK_DIR so it never touches the shared
// .stack other engineers' tests use. Each arm gets a fresh one: down.sh removes the etcd data
// dir and up.sh creates a new one. The transparency config adds the Rekor add-on alone (its
// fresh MariaDB, Trillian tree and key), the keyless config Rekor and then the Fulcio add-on (a fresh file CA
// trusting this stack's kube-apiserver as its OIDC issuer); down.sh stops them with the rest.
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
  /** The Rekor v1 add-on, when the config asked for it. */
  rekor?: BenchRekor;
  /** The Fulcio add-on, when the config asked for it. */
  fulcio?: BenchFulcio;
  /** The sigstore2 add-on (Rekor v2 and a TSA), when the config asked for it. */
  sigstore2?: BenchSigstore2;
}

/** The stack's Rekor v2 and timestamp authority (e2e/stack/addons/sigstore2-up.sh). */
export interface BenchSigstore2 {
  /** SIGSTORE_SIGNING_CONFIG: names Rekor v2 (preferred), Rekor v1 and the TSA */
  signingConfig: string;
  /** REKOR_V2_READ_URL: the checkpoint and tiles */
  readUrl: string;
  /** pids of rekor-tiles and the TSA, for their CPU */
  pids: Record<string, number>;
}

/** The stack's Fulcio (e2e/stack/addons/fulcio-up.sh): what env.d/fulcio.env says, and where its metrics are. */
export interface BenchFulcio {
  /** FULCIO_URL, e.g. http://127.0.0.1:43879 */
  url: string;
  /** FULCIO_ROOT: the CA chain PEM Fulcio serves */
  root: string;
  /** OIDC_ISSUER: the stack's kube-apiserver, the one issuer Fulcio trusts */
  issuer: string;
  /** Fulcio's Prometheus endpoint (its --metrics-port, picked per stack) */
  metricsUrl: string;
  /** pid of the Fulcio process, for its CPU */
  pid: number;
}

/** The stack's Rekor v1 (e2e/stack/addons/rekor-up.sh): what env.d/rekor.env says, and its request log. */
export interface BenchRekor {
  /** REKOR_URL, e.g. http://127.0.0.1:40125 */
  url: string;
  /** REKOR_PUBLIC_KEY: the log's PEM public key file */
  publicKey: string;
  /** rekor-server's log: one `completed request` JSON line per request (what the bench counts) */
  logFile: string;
  /** pids of rekor-server, the Trillian log server and signer, and MariaDB, for their CPU figures */
  pids: Record<string, number>;
}

function scriptEnv(stackDir: string): NodeJS.ProcessEnv {
  return { ...process.env, STACK_DIR: stackDir, STACK_SKIP_ADDONS: '1' };
}

/** Stops the benchmark stack in `stackDir` (if any) and starts a fresh one; bounded by timeouts. */
export async function freshStack(
  stackDir: string,
  opts: { rekor?: boolean; fulcio?: boolean; sigstore2?: boolean } = {},
): Promise<BenchStack> {
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
    ...(opts.rekor ? { rekor: await startRekor(stackDir, vars) } : {}),
    ...(opts.fulcio ? { fulcio: await startFulcio(stackDir, vars) } : {}),
    // after Rekor v1 and Fulcio: its trusted root and signing config list them too
    ...(opts.sigstore2 ? { sigstore2: await startSigstore2(stackDir, vars) } : {}),
  };
}

/** Runs the sigstore2 add-on (Rekor v2, the TSA, the trust files) into the stack. */
async function startSigstore2(stackDir: string, vars: Record<string, string>): Promise<BenchSigstore2> {
  await runAddon('sigstore2-up.sh', addonEnv(stackDir, vars));
  const s = parseEnvFile(readFileSync(join(stackDir, 'env.d', 'sigstore2.env'), 'utf8'));
  if (s.CHAINSMITH_SIGSTORE2_UNAVAILABLE)
    throw new Error(`Rekor v2 and the TSA are unavailable: ${s.CHAINSMITH_SIGSTORE2_UNAVAILABLE}`);
  if (!s.SIGSTORE_SIGNING_CONFIG || !s.REKOR_V2_READ_URL)
    throw new Error(`${stackDir}/env.d/sigstore2.env has no SIGSTORE_SIGNING_CONFIG`);
  const pids = Object.fromEntries(
    ['rekor-v2', 'tsa'].map((name) => [
      name,
      Number(readFileSync(join(stackDir, 'pids', `${name}.pid`), 'utf8').trim()),
    ]),
  );
  return { signingConfig: s.SIGSTORE_SIGNING_CONFIG, readUrl: s.REKOR_V2_READ_URL, pids };
}

/** The environment up.sh gives an add-on (run_addon), plus OIDC_ISSUER, which up.sh exports to them. */
function addonEnv(stackDir: string, vars: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    STACK_DIR: stackDir,
    KUBECONFIG: vars.KUBECONFIG!,
    KUBECTL: vars.KUBECTL!,
    CHAINSMITH_REGISTRY: vars.CHAINSMITH_REGISTRY!,
    ...(vars.CHAINSMITH_CACHE ? { CHAINSMITH_CACHE: vars.CHAINSMITH_CACHE } : {}),
    ...(vars.OIDC_ISSUER ? { OIDC_ISSUER: vars.OIDC_ISSUER } : {}),
  };
}

/** Runs one add-on script; its failure names the script and the last lines of its output. */
async function runAddon(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'e2e/stack/addons', script)], {
    env,
    timeout: 900_000,
    maxBuffer: 1 << 24,
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`${script} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-2).join(' ')}`);
  });
}

/**
 * Runs the Rekor add-on into the core stack (up.sh runs no add-on for the bench: STACK_SKIP_ADDONS), as up.sh would
 * run it, and reads its env file. The binaries are cached in ~/.cache/chainsmith/bin, so it takes seconds.
 */
async function startRekor(stackDir: string, vars: Record<string, string>): Promise<BenchRekor> {
  await runAddon('rekor-up.sh', addonEnv(stackDir, vars));
  const rekor = parseEnvFile(readFileSync(join(stackDir, 'env.d', 'rekor.env'), 'utf8'));
  if (rekor.CHAINSMITH_REKOR_UNAVAILABLE)
    throw new Error(`Rekor is unavailable: ${rekor.CHAINSMITH_REKOR_UNAVAILABLE}`);
  if (!rekor.REKOR_URL || !rekor.REKOR_PUBLIC_KEY) throw new Error(`${stackDir}/env.d/rekor.env has no REKOR_URL`);
  const pids = Object.fromEntries(
    ['rekor-server', 'trillian-log-server', 'trillian-log-signer', 'mariadb'].map((name) => [
      name,
      Number(readFileSync(join(stackDir, 'pids', `${name}.pid`), 'utf8').trim()),
    ]),
  );
  return {
    url: rekor.REKOR_URL,
    publicKey: rekor.REKOR_PUBLIC_KEY,
    logFile: join(stackDir, 'logs', 'rekor-server.log'),
    pids,
  };
}

/**
 * Runs the Fulcio add-on into the core stack the same way (its binary cached in ~/.cache/chainsmith/bin): a file CA
 * of its own and the stack's kube-apiserver (OIDC_ISSUER, anonymous discovery: up.sh) as its one `kubernetes` issuer.
 */
async function startFulcio(stackDir: string, vars: Record<string, string>): Promise<BenchFulcio> {
  if (!vars.OIDC_ISSUER) throw new Error(`${stackDir}/env has no OIDC_ISSUER: the core stack is not an OIDC issuer`);
  await runAddon('fulcio-up.sh', addonEnv(stackDir, vars));
  const fulcio = parseEnvFile(readFileSync(join(stackDir, 'env.d', 'fulcio.env'), 'utf8'));
  if (fulcio.CHAINSMITH_FULCIO_UNAVAILABLE)
    throw new Error(`Fulcio is unavailable: ${fulcio.CHAINSMITH_FULCIO_UNAVAILABLE}`);
  if (!fulcio.FULCIO_URL || !fulcio.FULCIO_ROOT) throw new Error(`${stackDir}/env.d/fulcio.env has no FULCIO_URL`);
  const pid = Number(readFileSync(join(stackDir, 'pids', 'fulcio.pid'), 'utf8').trim());
  // fulcio-up.sh picks the metrics port but does not export it: read it from the process's own command line
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const port = args.find((a) => a.startsWith('--metrics-port='))?.slice('--metrics-port='.length);
  if (!port) throw new Error(`Fulcio (pid ${pid}) runs without --metrics-port: cannot count its requests`);
  return {
    url: fulcio.FULCIO_URL,
    root: fulcio.FULCIO_ROOT,
    issuer: vars.OIDC_ISSUER,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    pid,
  };
}

/** Stops the benchmark stack and deletes its data (safe when none is running). */
export async function downStack(stackDir: string): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'e2e/stack/down.sh')], { env: scriptEnv(stackDir), timeout: 120_000 }).catch(
    () => undefined,
  );
}
