// What each API request carries to authenticate: a bearer token (static, re-read from a rotating file, or
// from an exec plugin, cached until it expires), basic auth, or a client certificate. Exec plugins are the
// only commands a kubeconfig can make chainsmith run (never an auth-provider's `cmd-path`), and each run is
// bounded in time and output.
import { execFile, type ExecFileException } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { escapeTerminal } from '../text/terminal.js';
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedFile } from './files.js';
import type { ExecConfig, UserAuth } from './kubeconfig.js';

/** Per-request authentication: headers, plus a client certificate when the plugin supplies one. */
export interface RequestAuth {
  headers: Record<string, string>;
  cert?: Buffer;
  key?: Buffer;
}

/** Supplies each request's authentication; `invalidate()` after a 401 forces fresh credentials. */
export interface RequestAuthenticator {
  authenticate(): Promise<RequestAuth>;
  invalidate(): void;
}

/** A projected ServiceAccount token rotates about hourly; re-reading it every minute is what client-go does. */
const TOKEN_FILE_TTL_MS = 60_000;
/** How long an exec credential plugin may run before it is killed and the request fails. */
export const EXEC_PLUGIN_TIMEOUT_MS = 60_000;
/** Most output (stdout, and separately stderr) an exec credential plugin may print; beyond it the run fails. */
export const MAX_EXEC_PLUGIN_OUTPUT_BYTES = 1024 * 1024;
/** How much of a failing plugin's stderr is quoted (escaped) in the error. */
export const EXEC_STDERR_QUOTED_CHARS = 300;

/** The authenticator for a kubeconfig user. */
export function authenticatorFor(auth: UserAuth, now: () => number = Date.now): RequestAuthenticator {
  switch (auth.kind) {
    case 'none':
      return fixed({ headers: {} });
    case 'token':
      return fixed({ headers: { authorization: `Bearer ${auth.token}` } });
    case 'basic':
      return fixed({
        headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` },
      });
    case 'token-file':
      return new Cached(async () => {
        const file = await readBoundedFile(auth.path, MAX_CREDENTIAL_FILE_BYTES, 'the token file');
        const token = file.toString('utf8').trim();
        return { value: { headers: { authorization: `Bearer ${token}` } }, expiresAt: now() + TOKEN_FILE_TTL_MS };
      }, now);
    case 'exec':
      return new Cached(() => runExecPlugin(auth.exec), now);
  }
}

function fixed(value: RequestAuth): RequestAuthenticator {
  return { authenticate: async () => value, invalidate: () => undefined };
}

/** Caches a credential until its expiry; concurrent callers share one refresh. */
class Cached implements RequestAuthenticator {
  private value: RequestAuth | undefined;
  private expiresAt = 0;
  private pending: Promise<RequestAuth> | undefined;

  constructor(
    private readonly fetch: () => Promise<{ value: RequestAuth; expiresAt: number }>,
    private readonly now: () => number,
  ) {}

  async authenticate(): Promise<RequestAuth> {
    if (this.value && this.now() < this.expiresAt) return this.value;
    this.pending ??= this.fetch()
      .then((r) => {
        this.value = r.value;
        this.expiresAt = r.expiresAt;
        return r.value;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(): void {
    this.expiresAt = 0;
  }
}

/** Runs an exec credential plugin (client.authentication.k8s.io v1/v1beta1) and reads its ExecCredential. */
export async function runExecPlugin(
  exec: ExecConfig,
  timeoutMs = EXEC_PLUGIN_TIMEOUT_MS,
): Promise<{ value: RequestAuth; expiresAt: number }> {
  // kubectl resolves a command with a path separator against the kubeconfig's directory, a bare name via PATH
  const command =
    exec.command.includes('/') && !isAbsolute(exec.command) ? join(exec.baseDir, exec.command) : exec.command;
  const env = { ...process.env, ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])) };
  const spec = { interactive: false, ...(exec.cluster ? { cluster: exec.cluster } : {}) };
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
  const name = escapeTerminal(exec.command);
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      command,
      exec.args,
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_EXEC_PLUGIN_OUTPUT_BYTES },
      (err, out, errOut) => {
        // the plugin's stderr may explain the failure; its stdout may hold a token and is never quoted, nor are
        // its arguments (Node's own message repeats the command line)
        const why = err ? `${execFailure(err, timeoutMs)}${stderrNote(errOut)}` : '';
        if (err) reject(new Error(`the kubeconfig exec plugin ${name} ${why}`));
        else resolve(String(out));
      },
    );
    // never interactive: a plugin that asks for input reads end-of-file instead of waiting for the timeout
    child.stdin?.end();
  });
  let cred: unknown;
  try {
    cred = JSON.parse(stdout);
  } catch {
    throw new Error(`the kubeconfig exec plugin ${name} did not print an ExecCredential (JSON)`);
  }
  const status = (cred && typeof cred === 'object' ? (cred as { status?: unknown }).status : undefined) ?? {};
  const s = status as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = s[k];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const token = str('token');
  const value: RequestAuth = { headers: token ? { authorization: `Bearer ${token}` } : {} };
  const certData = str('clientCertificateData');
  const keyData = str('clientKeyData');
  if (certData && keyData) {
    value.cert = Buffer.from(certData);
    value.key = Buffer.from(keyData);
  }
  if (!token && !value.cert) {
    throw new Error(`the kubeconfig exec plugin ${name} returned neither a token nor a client certificate`);
  }
  const expiry = str('expirationTimestamp') ? Date.parse(str('expirationTimestamp')!) : NaN;
  // no expiry: valid until the server answers 401 (invalidate), as kubectl treats it
  return { value, expiresAt: Number.isFinite(expiry) ? expiry - 10_000 : Number.MAX_SAFE_INTEGER };
}

function execFailure(err: ExecFileException, timeoutMs: number): string {
  if (err.code === 'ENOENT') return 'was not found (is it installed and on PATH?)';
  if (err.code === 'EACCES') return 'is not executable';
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    return `printed more than ${MAX_EXEC_PLUGIN_OUTPUT_BYTES} bytes`;
  }
  if (err.killed || err.signal) return `did not finish within ${timeoutMs / 1000} s (killed)`;
  if (typeof err.code === 'number') return `failed with exit code ${err.code}`;
  return 'failed';
}

function stderrNote(errOut: string | Buffer): string {
  const text = escapeTerminal(String(errOut).trim());
  if (text === '') return '';
  return `: ${text.length > EXEC_STDERR_QUOTED_CHARS ? `${text.slice(0, EXEC_STDERR_QUOTED_CHARS)}…` : text}`;
}
