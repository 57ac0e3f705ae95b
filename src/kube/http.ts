// HTTP to the API server: JSON requests and watch streams over one pool of keep-alive TLS connections
// (a handshake per request was most of the controller's CPU under a burst: bench/findings.md).
import http from 'node:http';
import https from 'node:https';
import { escapeTerminal } from '../text/terminal.js';
import type { ClusterConnection, Impersonation } from './kubeconfig.js';
import { authenticatorFor, type RequestAuth, type RequestAuthenticator } from './credentials.js';
import { InvalidKubeNameError } from './names.js';
import { tunnelAgent } from './proxy.js';

/** A non-2xx answer (status 0: no answer at all). `body` is the server's Status object when it sent one. */
export class KubeHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** the server's own message (its Status object), or the cause when there was no answer */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeHttpError';
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

/** Gets each event of a watch: its type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) and its object. */
export type OnWatchEvent<T> = (type: string, obj: T) => void;
/** Called exactly once when a watch ends (null) or fails (with `statusCode` when the server answered). */
export type OnWatchEnd = (err: unknown) => void;

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  /** defaults to application/json */
  contentType?: string;
}

/** Deadline of one non-watch request, from sending it to the last byte of the answer. */
export const KUBE_REQUEST_TIMEOUT_MS = 60_000;
/** Largest answer read (a list page of 500 runs with stored payloads is tens of MiB; this is far above). */
export const MAX_KUBE_RESPONSE_BYTES = 256 * 1024 * 1024;
/** Largest single watch event (one object; the API server itself refuses objects over ~1.5 MiB in etcd). */
export const MAX_WATCH_EVENT_BYTES = 16 * 1024 * 1024;
/** Longest piece of a server's error message quoted in an error (characters, after escaping). */
export const MAX_QUOTED_SERVER_MESSAGE = 1000;
const USER_AGENT = 'chainsmith';

/** The limits above, per client (tests shorten them). */
export interface KubeHttpLimits {
  requestTimeoutMs: number;
  maxResponseBytes: number;
  maxWatchEventBytes: number;
}

const DEFAULT_LIMITS: KubeHttpLimits = {
  requestTimeoutMs: KUBE_REQUEST_TIMEOUT_MS,
  maxResponseBytes: MAX_KUBE_RESPONSE_BYTES,
  maxWatchEventBytes: MAX_WATCH_EVENT_BYTES,
};

// Every segment of a request path is a DNS-1123 subdomain ("api", "v1", "tekton.dev", a namespace, a name):
// checked names cannot be "..", nor carry "/", "?", "#", "%" or whitespace. A second line of defence behind
// the name checks in KubeClient: no path that escapes the resource it names is ever sent.
const SAFE_PATH = /^(?:\/[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)+$/;

/** Requests and watches against one API server. */
export class KubeHttp {
  private readonly auth: RequestAuthenticator;
  private readonly lib: typeof https | typeof http;
  private agent: http.Agent;
  private agentCert: Buffer | undefined;
  private readonly limits: KubeHttpLimits;

  constructor(
    readonly connection: ClusterConnection,
    private readonly maxSockets = 64,
    limits: Partial<KubeHttpLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const url = new URL(connection.server);
    // the URL is not quoted: it could carry credentials
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error(`unsupported API server URL scheme ${escapeTerminal(url.protocol)}`);
    }
    this.lib = url.protocol === 'https:' ? https : http;
    this.auth = authenticatorFor(connection.auth);
    this.agent = this.makeAgent();
  }

  /** Sends a request and parses the JSON answer; a 401 is retried once with fresh credentials. */
  async request<T>(req: KubeRequest): Promise<T> {
    try {
      return await this.once<T>(req);
    } catch (err) {
      if (!(err instanceof KubeHttpError) || err.statusCode !== 401) throw err;
      this.auth.invalidate();
      return this.once<T>(req);
    }
  }

  /**
   * Opens a watch: `onEvent` gets each `{type, object}` line, `onDone` is called exactly once when the stream
   * ends (null) or fails (an error with `statusCode` when the server answered). Returns a function that stops it.
   */
  async watch(path: string, query: Query, onEvent: OnWatchEvent<unknown>, onDone: OnWatchEnd): Promise<() => void> {
    const ac = new AbortController();
    let done = false;
    const finish = (err: unknown): void => {
      if (done) return;
      done = true;
      onDone(err);
    };
    const timeoutSeconds = Number(query.timeoutSeconds ?? 0);
    const r = await this.open(
      { method: 'GET', path, query: { ...query, watch: true } },
      ac.signal,
      timeoutSeconds > 0 ? (timeoutSeconds + 30) * 1000 : 0,
    );
    r.on('response', (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        // a rotated token: the reconnect (the informer's backoff) authenticates afresh
        if (res.statusCode === 401) this.auth.invalidate();
        readAll(res, this.limits.maxResponseBytes)
          .then((buf) => finish(httpError(res.statusCode ?? 0, `watch ${path}`, buf)))
          .catch(finish);
        return;
      }
      // lines are found by scanning each chunk once (linear in the stream), and one line may not grow past
      // MAX_WATCH_EVENT_BYTES: a server that never sends a newline cannot grow memory without bound
      const maxLine = this.limits.maxWatchEventBytes;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      // reported before the stream is torn down, whose own 'aborted' would otherwise be reported first
      const stopWith = (err: Error): void => {
        finish(err);
        r.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        let start = 0;
        let nl: number;
        while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
          pending.push(chunk.subarray(start, nl));
          pendingBytes += nl - start;
          start = nl + 1;
          const line = pendingBytes > maxLine ? undefined : Buffer.concat(pending, pendingBytes).toString().trim();
          pending = [];
          pendingBytes = 0;
          if (line === undefined) return stopWith(watchTooLarge(path, maxLine));
          if (line === '') continue;
          let ev: { type?: string; object?: unknown };
          try {
            ev = JSON.parse(line) as typeof ev;
          } catch (err) {
            return stopWith(new Error(`watch ${path}: a line that is not JSON`, { cause: err }));
          }
          onEvent(String(ev.type), ev.object);
          if (done) return;
        }
        if (start < chunk.length) {
          pending.push(chunk.subarray(start));
          pendingBytes += chunk.length - start;
          if (pendingBytes > maxLine) stopWith(watchTooLarge(path, maxLine));
        }
      });
      res.on('end', () => finish(null));
      res.on('error', finish);
      res.on('aborted', () => finish(new Error(`watch ${path}: the server closed the stream`)));
      // a destroyed stream (an over-long line) ends with 'close' and may not emit 'end'
      res.on('close', () => finish(res.complete ? null : new Error(`watch ${path}: the stream was cut off`)));
    });
    r.on('error', (err) => finish(done ? null : err));
    r.end();
    return () => {
      ac.abort();
      // an error, not a clean end: a watcher that did not ask to stop (an ERROR event) reconnects with backoff
      finish(new Error(`watch ${path} stopped`));
    };
  }

  /** Closes the pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  private async once<T>(req: KubeRequest): Promise<T> {
    // one deadline for the whole exchange: connecting, the answer's headers and every byte of its body
    const ac = new AbortController();
    const timeoutMs = this.limits.requestTimeoutMs;
    const deadline = setTimeout(() => ac.abort(), timeoutMs);
    const what = `${req.method} ${req.path}`;
    try {
      const r = await this.open(req, ac.signal, 0);
      const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
      return await new Promise<T>((resolve, reject) => {
        const failed = (err: Error): void => {
          if (err instanceof KubeHttpError) return reject(err);
          const detail = ac.signal.aborted
            ? `no complete answer within ${timeoutMs / 1000} s`
            : escapeTerminal(err.message);
          reject(new KubeHttpError(0, `${what}: ${detail}`, detail, { cause: err }));
        };
        r.on('response', (res) => {
          readAll(res, this.limits.maxResponseBytes)
            .then((buf) => {
              const status = res.statusCode ?? 0;
              if (status < 200 || status >= 300) return reject(httpError(status, what, buf));
              if (buf.length === 0) return resolve(undefined as T);
              try {
                resolve(JSON.parse(buf.toString('utf8')) as T);
              } catch (err) {
                const detail = 'the answer is not JSON';
                reject(new KubeHttpError(0, `${what}: ${detail}`, detail, { cause: err }));
              }
            })
            .catch(failed);
        });
        r.on('error', failed);
        if (body) {
          r.setHeader('content-type', req.contentType ?? 'application/json');
          r.setHeader('content-length', body.length);
        }
        r.end(body);
      });
    } finally {
      clearTimeout(deadline);
    }
  }

  private async open(req: KubeRequest, signal: AbortSignal, idleTimeoutMs: number): Promise<http.ClientRequest> {
    // checked before credentials are fetched: nothing is sent, and no plugin runs, for a path that is refused
    if (!SAFE_PATH.test(req.path) || req.path.length > 2048) {
      throw new InvalidKubeNameError('API path', req.path, 'is not made of valid Kubernetes names');
    }
    const auth = await this.auth.authenticate();
    const url = new URL(this.connection.server);
    url.pathname = url.pathname.replace(/\/$/, '') + req.path;
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const r = this.lib.request(url, {
      method: req.method,
      headers: {
        accept: 'application/json',
        'user-agent': USER_AGENT,
        ...impersonationHeaders(this.connection.impersonate),
        ...auth.headers,
      },
      agent: this.agentFor(auth),
      signal,
    });
    if (idleTimeoutMs > 0)
      r.setTimeout(idleTimeoutMs, () => r.destroy(new Error(`no data for ${idleTimeoutMs / 1000} s`)));
    return r;
  }

  // an exec plugin may hand out a (rotating) client certificate: connections then need an agent made with it
  private agentFor(auth: RequestAuth): http.Agent {
    if (auth.cert && auth.cert !== this.agentCert) {
      const old = this.agent;
      this.agent = this.makeAgent(auth);
      this.agentCert = auth.cert;
      // in-flight requests keep their sockets; idle ones of the old agent are closed
      setTimeout(() => old.destroy(), this.limits.requestTimeoutMs).unref();
    }
    return this.agent;
  }

  private makeAgent(auth?: RequestAuth): http.Agent {
    const tls = this.connection.tls;
    const options: https.AgentOptions = {
      keepAlive: true,
      maxSockets: this.maxSockets,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...((auth?.cert ?? tls.cert) ? { cert: auth?.cert ?? tls.cert } : {}),
      ...((auth?.key ?? tls.key) ? { key: auth?.key ?? tls.key } : {}),
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.servername ? { servername: tls.servername } : {}),
    };
    const secure = this.lib === https;
    if (this.connection.proxyUrl) return tunnelAgent({ ...options, proxy: new URL(this.connection.proxyUrl), secure });
    if (!secure) return new http.Agent({ keepAlive: true, maxSockets: this.maxSockets });
    return new https.Agent(options);
  }
}

function readAll(res: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) res.destroy(new Error(`the answer is larger than ${max} bytes`));
      else chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    // settles even if the stream is torn down without 'end' or 'error' (a no-op once settled)
    res.on('close', () => reject(new Error('the connection closed before the answer was complete')));
  });
}

function watchTooLarge(path: string, max: number): Error {
  return new Error(`watch ${path}: an event larger than ${max} bytes`);
}

/** Impersonate-* headers (kubeconfig `as`, `as-uid`, `as-groups`, `as-user-extra`), as client-go sends them. */
export function impersonationHeaders(imp: Impersonation | undefined): Record<string, string | string[]> {
  if (!imp?.user) return {};
  const h: Record<string, string | string[]> = { 'impersonate-user': imp.user };
  if (imp.uid !== undefined) h['impersonate-uid'] = imp.uid;
  if (imp.groups.length > 0) h['impersonate-group'] = imp.groups;
  for (const [k, v] of Object.entries(imp.extra)) h[`impersonate-extra-${headerKeyEscape(k)}`] = v;
  return h;
}

// client-go's headerKeyEscape: bytes that are not HTTP token characters (and "%") are percent-encoded
function headerKeyEscape(key: string): string {
  return Array.from(Buffer.from(key, 'utf8'), (b) => {
    const c = String.fromCharCode(b);
    if (b < 0x80 && c !== '%' && /[!#$&'*+\-.^_`|~0-9A-Za-z]/.test(c)) return c;
    return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/**
 * The server's own message (a Status object) when it sent one, escaped and shortened: it is quoted in
 * errors, logs and Events. The request's headers and query (a `continue` token) are never part of it.
 */
function httpError(status: number, what: string, buf: Buffer): KubeHttpError {
  let body: unknown;
  try {
    body = JSON.parse(buf.toString('utf8'));
  } catch {
    body = undefined;
  }
  const raw =
    body && typeof body === 'object' && 'message' in body
      ? String((body as { message: unknown }).message)
      : buf.subarray(0, 200).toString('utf8').trim();
  const escaped = escapeTerminal(raw);
  const max = MAX_QUOTED_SERVER_MESSAGE;
  const msg = escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
  return new KubeHttpError(status, `${what}: HTTP ${status}${msg ? `: ${msg}` : ''}`, msg);
}
