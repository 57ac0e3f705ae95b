// chainsmith's controller at its defaults, from the compiled build (`npm run build`), the way an
// operator runs it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { freePort } from '../lib/ports.js';
import { startManaged, type Managed } from '../lib/process.js';
import { SIGNING_SECRETS_DIR, SYSTEM_NAMESPACE } from '../lib/setup.js';
import { REPO_ROOT } from '../lib/stack.js';
import type { Arm, ArmContext } from './types.js';

/** The compiled entry point; BENCH_CHAINSMITH_MAIN points at a patched copy for profiling experiments only. */
export const CHAINSMITH_MAIN = process.env.BENCH_CHAINSMITH_MAIN ?? join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/**
 * The Node.js flags the shipped Deployment gives the controller (its `NODE_OPTIONS`), so the bench measures the
 * process an operator runs, not a bare `node`.
 */
export function deploymentNodeOptions(file = join(REPO_ROOT, 'manifests', 'deployment.yaml')): string {
  type Container = { name?: string; env?: Array<{ name?: string; value?: string }> };
  const doc = parseYaml(readFileSync(file, 'utf8')) as {
    spec?: { template?: { spec?: { containers?: Container[] } } };
  };
  const env = doc.spec?.template?.spec?.containers?.[0]?.env ?? [];
  const value = env.find((e) => e.name === 'NODE_OPTIONS')?.value;
  if (value === undefined) throw new Error(`${file} sets no NODE_OPTIONS for the controller container`);
  return value;
}

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export const chainsmith: Arm = {
  name: 'chainsmith',
  describe: `chainsmith ${version} (defaults: 16 workers, 48 more while transparency is on, QPS 150 / burst 300), node ${process.version} with the Deployment's NODE_OPTIONS="${deploymentNodeOptions()}"`,
  version,
  signs: true,
  start: startChainsmith,
};

/**
 * The keyless config's option arm: chainsmith at its defaults with `chainsmith.keyless.reuse-certificate: "true"`,
 * one ephemeral key and Fulcio certificate signing everything of ~8 minutes instead of one per signed object.
 */
export const chainsmithReuse: Arm = {
  name: 'chainsmith-reuse',
  describe: `chainsmith ${version}, as the chainsmith arm, with chains-config \`chainsmith.keyless.reuse-certificate: "true"\` (keyless config only)`,
  version,
  signs: true,
  chainsConfig: { 'chainsmith.keyless.reuse-certificate': 'true' },
  start: startChainsmith,
};

async function startChainsmith(ctx: ArmContext): Promise<Managed> {
  if (!existsSync(CHAINSMITH_MAIN)) throw new Error(`${CHAINSMITH_MAIN} is missing: run npm run build`);
  const args = [
    ...(ctx.nodeFlags ?? []),
    CHAINSMITH_MAIN,
    'controller',
    '--kubeconfig',
    ctx.stack.kubeconfig,
    '--signing-secrets-dir',
    SIGNING_SECRETS_DIR,
    '--metrics-addr',
    `127.0.0.1:${ctx.metricsPort ?? (await freePort())}`,
    ...(ctx.extraArgs ?? []),
    // profiling experiments only (e.g. BENCH_CHAINSMITH_ARGS="--workers 64"); empty for the results table
    ...(process.env.BENCH_CHAINSMITH_ARGS?.split(/\s+/).filter(Boolean) ?? []),
  ];
  return startManaged(
    process.execPath,
    args,
    { SYSTEM_NAMESPACE, NODE_OPTIONS: deploymentNodeOptions() },
    ctx.logFile,
    REPO_ROOT,
  );
}
