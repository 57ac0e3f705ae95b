// HTTP to the API server: JSON requests and watch streams over one pool of keep-alive TLS connections
// (a handshake per request was most of the controller's CPU under a burst: bench/findings.md).
import http from 'node:http';
import https from 'node:https';
import type { ClusterConnection } from './kubeconfig.js';
import { authenticatorFor, type RequestAuth, type RequestAuthenticator } from './credentials.js';

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

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  /** defaults to application/json */
  contentType?: string;
}

const REQUEST_TIMEOUT_MS = 60_000;
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const USER_AGENT = 'chainsmith';

/** Requests and watches against one API server. */
export class KubeHttp {
  private readonly auth: RequestAuthenticator;
  private readonly lib: typeof https | typeof http;
  private agent: http.Agent;
  private agentCert: Buffer | undefined;

  constructor(
    readonly connection: ClusterConnection,
    private readonly maxSockets = 64,
  ) {
    const url = new URL(connection.server);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`unsupported API server URL ${connection.server}`);
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
  async watch(path: string, query: Query, onEvent: (type: string, obj: unknown) => void, onDone: (err: unknown) => void): Promise<() => void> {
    const ac = new AbortController();
    let done = false;
    const finish = (err: unknown): void => {
      if (done) return;
      done = true;
      onDone(err);
    };
    const timeoutSeconds = Number(query.timeoutSeconds ?? 0);
    const r = await this.open({ method: 'GET', path, query: { ...query, watch: true } }, ac.signal, timeoutSeconds > 0 ? (timeoutSeconds + 30) * 1000 : 0);
    r.on('response', (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        // a rotated token: the reconnect (the informer's backoff) authenticates afresh
        if (res.statusCode === 401) this.auth.invalidate();
        readAll(res)
          .then((buf) => finish(httpError(res.statusCode ?? 0, `watch ${path}`, buf)))
          .catch(finish);
        return;
      }
      res.setEncoding('utf8');
      let pending = '';
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line === '') continue;
          let ev: { type?: string; object?: unknown };
          try {
            ev = JSON.parse(line) as typeof ev;
          } catch (err) {
            r.destroy(new Error(`watch ${path}: a line that is not JSON`, { cause: err }));
            return;
          }
          onEvent(String(ev.type), ev.object);
        }
      });
      res.on('end', () => finish(null));
      res.on('error', finish);
      res.on('aborted', () => finish(new Error(`watch ${path}: the server closed the stream`)));
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
    const r = await this.open(req, AbortSignal.timeout(REQUEST_TIMEOUT_MS), 0);
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    return new Promise<T>((resolve, reject) => {
      r.on('response', (res) => {
        readAll(res)
          .then((buf) => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) return reject(httpError(status, `${req.method} ${req.path}`, buf));
            if (buf.length === 0) return resolve(undefined as T);
            try {
              resolve(JSON.parse(buf.toString('utf8')) as T);
            } catch (err) {
              reject(new KubeHttpError(0, `${req.method} ${req.path}: the answer is not JSON`, 'the answer is not JSON', { cause: err }));
            }
          })
          .catch(reject);
      });
      r.on('error', (err) => {
        const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
        const detail = timedOut ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : err.message;
        reject(new KubeHttpError(0, `${req.method} ${req.path}: ${detail}`, detail, { cause: err }));
      });
      if (body) {
        r.setHeader('content-type', req.contentType ?? 'application/json');
        r.setHeader('content-length', body.length);
      }
      r.end(body);
    });
  }

  private async open(req: KubeRequest, signal: AbortSignal, idleTimeoutMs: number): Promise<http.ClientRequest> {
    const auth = await this.auth.authenticate();
    const url = new URL(this.connection.server);
    url.pathname = url.pathname.replace(/\/$/, '') + req.path;
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const r = this.lib.request(url, {
      method: req.method,
      headers: { accept: 'application/json', 'user-agent': USER_AGENT, ...auth.headers },
      agent: this.agentFor(auth),
      signal,
    });
    if (idleTimeoutMs > 0) r.setTimeout(idleTimeoutMs, () => r.destroy(new Error(`no data for ${idleTimeoutMs / 1000} s`)));
    return r;
  }

  // an exec plugin may hand out a (rotating) client certificate: connections then need an agent made with it
  private agentFor(auth: RequestAuth): http.Agent {
    if (auth.agent) return auth.agent;
    if (auth.cert && auth.cert !== this.agentCert) {
      const old = this.agent;
      this.agent = this.makeAgent(auth);
      this.agentCert = auth.cert;
      // in-flight requests keep their sockets; idle ones of the old agent are closed
      setTimeout(() => old.destroy(), REQUEST_TIMEOUT_MS).unref();
    }
    return this.agent;
  }

  private makeAgent(auth?: RequestAuth): http.Agent {
    const tls = this.connection.tls;
    if (this.lib === http) return new http.Agent({ keepAlive: true, maxSockets: this.maxSockets });
    return new https.Agent({
      keepAlive: true,
      maxSockets: this.maxSockets,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(auth?.cert ?? tls.cert ? { cert: auth?.cert ?? tls.cert } : {}),
      ...(auth?.key ?? tls.key ? { key: auth?.key ?? tls.key } : {}),
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.servername ? { servername: tls.servername } : {}),
    });
  }
}

function readAll(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_RESPONSE_BYTES) res.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
      else chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** The server's own message (a Status object) when it sent one. */
function httpError(status: number, what: string, buf: Buffer): KubeHttpError {
  let body: unknown;
  try {
    body = JSON.parse(buf.toString('utf8'));
  } catch {
    body = undefined;
  }
  const msg = body && typeof body === 'object' && 'message' in body ? String((body as { message: unknown }).message) : buf.toString('utf8').slice(0, 200).trim();
  return new KubeHttpError(status, `${what}: HTTP ${status}${msg ? `: ${msg}` : ''}`, msg);
}
