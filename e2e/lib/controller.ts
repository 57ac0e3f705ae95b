// Runs chainsmith's controller as a child process against the stack, the way an operator would
// start it, and keeps its output for assertions and for failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { stackEnv, REPO_ROOT } from './env.js';

export interface ControllerProcess {
  pid: number;
  /** Every stdout/stderr line so far, in arrival order. */
  lines: string[];
  /** All output so far as one string. */
  logs(): string;
  /** The output lines that parse as JSON objects (winston's JSON log lines). */
  jsonLogs(): Array<Record<string, unknown>>;
  /** Resolves with the first line matching `pattern`; rejects after `timeoutMs` or if the process exits. */
  waitForLog(pattern: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed by a signal). */
  stop(graceMs?: number): Promise<number | null>;
}

const running = new Set<ChildProcess>();
// A failing test must not leave controllers running against the shared stack.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `node --import tsx src/cli/main.ts controller ...args` with the stack's KUBECONFIG
 * (plus `env`), capturing its output. Pass `--namespace <ns>` and a SYSTEM_NAMESPACE of the test's own.
 */
export async function startController(args: string[], env: Record<string, string> = {}): Promise<ControllerProcess> {
  const stack = stackEnv();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'controller', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...stack.vars, KUBECONFIG: stack.kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        for (const l of listeners) l(line);
      }
    });
    stream.on('end', () => {
      if (partial) lines.push(partial);
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });

  const proc: ControllerProcess = {
    pid: child.pid!,
    lines,
    logs: () => lines.join('\n'),
    jsonLogs: () =>
      lines.flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    waitForLog: (pattern, timeoutMs = 30_000) => {
      const test = typeof pattern === 'function' ? pattern : (l: string) => pattern.test(l);
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const finish = (err: Error | undefined, line?: string) => {
          clearTimeout(timer);
          listeners.delete(onLine);
          if (err) reject(err);
          else resolve(line!);
        };
        const onLine = (line: string) => {
          if (test(line)) finish(undefined, line);
        };
        const tail = () => lines.slice(-20).join('\n');
        const timer = setTimeout(
          () =>
            finish(
              new Error(
                `timed out after ${timeoutMs} ms waiting for a controller log line matching ${String(pattern)}; last output:\n${tail()}`,
              ),
            ),
          timeoutMs,
        );
        listeners.add(onLine);
        void exited.then(({ code, signal }) =>
          finish(
            new Error(
              `controller exited (code ${code}, signal ${signal}) before logging ${String(pattern)}; last output:\n${tail()}`,
            ),
          ),
        );
      });
    },
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return (await exited).code;
    },
  };
  return proc;
}
