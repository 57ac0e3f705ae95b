// What each API request carries to authenticate: a bearer token (static, re-read from a rotating file, or
// from an exec plugin, cached until it expires), basic auth, or a client certificate. Kubeconfig features
// the lean path does not implement are delegated to @kubernetes/client-node, imported only then.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Agent } from 'node:http';
import type { ExecConfig, UserAuth } from './kubeconfig.js';

/** Per-request authentication: headers, plus a client certificate when the plugin supplies one. */
export interface RequestAuth {
  headers: Record<string, string>;
  cert?: Buffer;
  key?: Buffer;
  /** an agent of client-node's own (a `proxy-url` proxy agent) that requests must go through */
  agent?: Agent;
}

/** Supplies each request's authentication; `invalidate()` after a 401 forces fresh credentials. */
export interface RequestAuthenticator {
  authenticate(): Promise<RequestAuth>;
  invalidate(): void;
}

/** A projected ServiceAccount token rotates about hourly; re-reading it every minute is what client-go does. */
const TOKEN_FILE_TTL_MS = 60_000;
const EXEC_TIMEOUT_MS = 60_000;

/** The authenticator for a kubeconfig user. */
export function authenticatorFor(auth: UserAuth, now: () => number = Date.now): RequestAuthenticator {
  switch (auth.kind) {
    case 'none':
      return fixed({ headers: {} });
    case 'token':
      return fixed({ headers: { authorization: `Bearer ${auth.token}` } });
    case 'basic':
      return fixed({ headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } });
    case 'token-file':
      return new Cached(async () => {
        const token = (await readFile(auth.path, 'utf8')).trim();
        return { value: { headers: { authorization: `Bearer ${token}` } }, expiresAt: now() + TOKEN_FILE_TTL_MS };
      }, now);
    case 'exec':
      return new Cached(() => runExecPlugin(auth.exec), now);
    case 'client-node':
      return new ClientNodeAuthenticator(auth.file!);
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
export async function runExecPlugin(exec: ExecConfig): Promise<{ value: RequestAuth; expiresAt: number }> {
  // kubectl resolves a command with a path separator against the kubeconfig's directory, a bare name via PATH
  const command = exec.command.includes('/') && !isAbsolute(exec.command) ? join(exec.baseDir, exec.command) : exec.command;
  const env = { ...process.env, ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])) };
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(command, exec.args, { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      // the plugin's stderr may explain the failure; its stdout may hold a token and is never quoted
      if (err) reject(new Error(`the kubeconfig exec plugin ${exec.command} failed: ${err.message.split('\n')[0]}${errOut ? `: ${String(errOut).trim().slice(0, 500)}` : ''}`));
      else resolve(String(out));
    });
  });
  let cred: { status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } };
  try {
    cred = JSON.parse(stdout) as typeof cred;
  } catch {
    throw new Error(`the kubeconfig exec plugin ${exec.command} did not print an ExecCredential (JSON)`);
  }
  const s = cred.status ?? {};
  const value: RequestAuth = { headers: s.token ? { authorization: `Bearer ${s.token}` } : {} };
  if (s.clientCertificateData && s.clientKeyData) {
    value.cert = Buffer.from(s.clientCertificateData);
    value.key = Buffer.from(s.clientKeyData);
  }
  if (!s.token && !value.cert) throw new Error(`the kubeconfig exec plugin ${exec.command} returned neither a token nor a client certificate`);
  const expiry = s.expirationTimestamp ? Date.parse(s.expirationTimestamp) : NaN;
  // no expiry: valid until the server answers 401 (invalidate), as kubectl treats it
  return { value, expiresAt: Number.isFinite(expiry) ? expiry - 10_000 : Number.MAX_SAFE_INTEGER };
}

/** `auth-provider` and `proxy-url` kubeconfigs: client-node applies the credentials. */
class ClientNodeAuthenticator implements RequestAuthenticator {
  // client-node's KubeConfig, typed loosely so that its module is not imported unless this path is taken
  private kc: Promise<{ applyToHTTPSOptions(o: object): Promise<void> }> | undefined;
  private agent: Agent | undefined;

  constructor(private readonly file: string) {}

  async authenticate(): Promise<RequestAuth> {
    this.kc ??= import('@kubernetes/client-node').then((m) => {
      const kc = new m.KubeConfig();
      kc.loadFromFile(this.file);
      return kc;
    });
    const opts: { headers?: Record<string, string>; auth?: string; agent?: Agent; cert?: Buffer; key?: Buffer } = { headers: {} };
    await (await this.kc).applyToHTTPSOptions(opts);
    const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    // client-node makes a new agent per call; keep the first so connections are reused
    this.agent ??= opts.agent;
    return { headers, ...(this.agent ? { agent: this.agent } : {}) };
  }

  invalidate(): void {}
}
