// The harness's own Kubernetes API client: plain HTTPS with the stack's admin token and a
// keep-alive agent. Small on purpose: the load generator must be cheap next to the controllers
// it measures, and every request it makes is counted so it can be subtracted from the API
// server's request totals.
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';

export interface ApiTarget {
  /** https://127.0.0.1:PORT */
  server: string;
  /** Bearer token of the stack's admin. */
  token: string;
  /** PEM of the CA that signed the API server's certificate. */
  ca: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Counts resource requests (everything but /metrics), like apiserver_request_total with a resource label. */
export class ApiClient {
  private readonly agent: Agent;
  /** Requests sent to /api or /apis so far (watches count once, when opened). */
  resourceRequests = 0;

  constructor(
    readonly target: ApiTarget,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ca: target.ca });
  }

  /** Reads the server, token and CA out of a kubeconfig written by e2e/stack/up.sh. */
  static targetFromKubeconfig(text: string): ApiTarget {
    const server = /server:\s*(\S+)/.exec(text)?.[1];
    const token = /token:\s*(\S+)/.exec(text)?.[1];
    const caFile = /certificate-authority:\s*(\S+)/.exec(text)?.[1];
    if (!server || !token || !caFile) throw new Error('kubeconfig lacks server, token or certificate-authority');
    return { server, token, ca: readFileSync(caFile, 'utf8') };
  }

  /** One request; JSON in, parsed JSON (or raw text for non-JSON) out; rejects on status >= 400. */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 60_000,
  ): Promise<T> {
    if (!path.startsWith('/metrics')) this.resourceRequests++;
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        this.target.server + path,
        {
          method,
          agent: this.agent,
          headers: {
            Authorization: `Bearer ${this.target.token}`,
            Accept: 'application/json',
            ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) >= 400) {
              reject(
                new ApiError(res.statusCode ?? 0, `${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`),
              );
              return;
            }
            try {
              resolve((res.headers['content-type'] ?? '').includes('json') ? (JSON.parse(text) as T) : (text as T));
            } catch (err) {
              reject(err as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  /** Retries a call a few times on connection errors and 409/429/5xx (the API server is loaded on purpose). */
  async callRetrying<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call<T>(method, path, body, contentType);
      } catch (err) {
        const status = err instanceof ApiError ? err.status : 0;
        const retriable = status === 0 || status === 409 || status === 429 || status >= 500;
        if (!retriable || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /**
   * Opens a watch (`path` without query) and calls `onEvent` for each event until `stop()` is
   * called; reconnects from the last resourceVersion when the server closes the stream.
   */
  watch(path: string, onEvent: (type: string, obj: Record<string, unknown>) => void): { stop(): void } {
    let stopped = false;
    let rv = '';
    let current: ReturnType<typeof request> | undefined;
    const open = (): void => {
      if (stopped) return;
      this.resourceRequests++;
      const q = `?watch=1&allowWatchBookmarks=true${rv ? `&resourceVersion=${rv}` : ''}`;
      // a watch holds its own connection for its whole life, outside the shared keep-alive pool
      const req = request(this.target.server + path + q, {
        method: 'GET',
        ca: this.target.ca,
        headers: { Authorization: `Bearer ${this.target.token}`, Accept: 'application/json' },
      });
      current = req;
      req.on('response', (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          rv = ''; // e.g. 410 Gone: start over with a fresh list
          res.resume();
          res.on('end', () => setTimeout(open, 500));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const ev = JSON.parse(line) as { type: string; object: Record<string, unknown> };
            const meta = ev.object.metadata as { resourceVersion?: string } | undefined;
            if (meta?.resourceVersion) rv = meta.resourceVersion;
            if (ev.type === 'ERROR') rv = '';
            else if (ev.type !== 'BOOKMARK') onEvent(ev.type, ev.object);
          }
        });
        res.on('end', () => setTimeout(open, 100));
        res.on('error', () => setTimeout(open, 500));
      });
      req.on('error', () => {
        if (!stopped) setTimeout(open, 500);
      });
      req.end();
    };
    open();
    return {
      stop: () => {
        stopped = true;
        current?.destroy();
      },
    };
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
