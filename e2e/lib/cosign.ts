// The stack's cosign CLI (or any tool) run for its exit code and output, and a closed loopback port for "server
// down" cases.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, stackEnv } from './env.js';

const run = promisify(execFile);

/** An exit code and stdout+stderr together. */
export interface ToolOutcome {
  code: number;
  out: string;
}

/**
 * Runs `cmd args` in the repository root with `extraEnv`; resolves with its exit code and stdout+stderr (a non-zero
 * exit is a result; a spawn failure or a timeout throws, so it can never pass for an expected failure).
 */
export async function runTool(
  cmd: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<ToolOutcome> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...extraEnv },
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Runs the stack's cosign with `extraEnv` (see runTool). */
export function cosign(args: string[], extraEnv: Record<string, string> = {}): Promise<ToolOutcome> {
  return runTool(stackEnv().cosign, args, extraEnv);
}

/**
 * `cosign verify-attestation --new-bundle-format --type slsaprovenance` of `ref` with the key in `keyDir`
 * (cosign.pub), offline: keyed verification still wants a trusted root with the new bundle format, and an empty one
 * will do.
 */
export async function cosignVerifyBundleAttestation(ref: string, keyDir: string): Promise<ToolOutcome> {
  const trustedRoot = await emptyTrustedRoot();
  // prettier-ignore
  return cosign([
    'verify-attestation', '--new-bundle-format', '--trusted-root', trustedRoot, '--key', join(keyDir, 'cosign.pub'),
    '--insecure-ignore-tlog', '--allow-http-registry', '--type', 'slsaprovenance', ref,
  ]);
}

/** A Sigstore trusted root listing nothing: with `--key`, cosign wants one for bundles but takes nothing from it. */
export const EMPTY_TRUSTED_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
});

/** Writes EMPTY_TRUSTED_ROOT to `file` (default: a new temporary `trusted_root.json`) and returns its path. */
export async function emptyTrustedRoot(file?: string): Promise<string> {
  const path = file ?? join(await mkdtemp(join(tmpdir(), 'chainsmith-trusted-root-')), 'trusted_root.json');
  await writeFile(path, EMPTY_TRUSTED_ROOT);
  return path;
}

/** A loopback port that nothing listens on (taken from the OS, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
