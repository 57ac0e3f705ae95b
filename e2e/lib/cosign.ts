// The stack's cosign CLI, run for its exit code and output, and a closed loopback port for "server down" cases.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { stackEnv } from './env.js';

const run = promisify(execFile);

/** Runs the stack's cosign with `extraEnv`; resolves with its exit code and stdout+stderr (a non-zero exit is a result, a spawn failure throws). */
export async function cosign(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(stackEnv().cosign, args, {
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

/** A loopback port that nothing listens on (taken from the OS, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
