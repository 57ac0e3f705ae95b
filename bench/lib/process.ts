// Child processes the harness starts (controllers, the ceiling client): output to a log file,
// stopped by pid, and always killed when the harness exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface Managed {
  pid: number;
  logFile: string;
  /** True while the process runs. */
  alive(): boolean;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts `cmd args` with `env` added, stdout+stderr appended to `logFile`. */
export async function startManaged(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
  cwd?: string,
): Promise<Managed> {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  running.add(child);
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      running.delete(child);
      r();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return {
    pid: child.pid!,
    logFile,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      await new Promise<void>((r) => log.end(r));
    },
  };
}
