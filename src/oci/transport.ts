// One HTTP exchange with a registry, over node:http / node:https.
// Why not the global fetch: on Node 20 fetch (bundled undici) has no public way to trust an extra CA or to
// skip TLS verification per request — that needs an undici `Agent` passed as `dispatcher`, and undici is not
// importable from Node itself without adding the package. node:https takes `ca` and `rejectUnauthorized`
// per request, so the CA-bundle and insecure options work without a new dependency.
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

/** A request as the registry client builds it. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** A fully-read response. Header names are lower case. */
export interface HttpResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
  /** the URL that answered (after redirects) */
  url: string;
}

/** TLS options: extra CA certificates (PEM, added to Node's roots) and whether to verify at all. */
export interface TlsOptions {
  caBundle?: string;
  /** false disables certificate verification (`storage.oci.repository.insecure: true`) */
  verify?: boolean;
}

/** Sends HTTP requests with a per-request timeout; follows redirects for GET/HEAD. */
export class HttpTransport {
  private readonly ca: string[] | undefined;
  private readonly verify: boolean;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(opts: { tls?: TlsOptions; timeoutMs?: number; maxBodyBytes?: number } = {}) {
    // `ca` replaces Node's roots, so the bundle is appended to them rather than given alone.
    this.ca = opts.tls?.caBundle ? [...rootCertificates, opts.tls.caBundle] : undefined;
    this.verify = opts.tls?.verify ?? true;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxBodyBytes = opts.maxBodyBytes ?? 256 * 1024 * 1024;
  }

  /** Sends one request (following up to 5 redirects for GET/HEAD); rejects on network errors and timeouts. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let current = req;
    for (let hop = 0; hop < 6; hop++) {
      const res = await this.once(current);
      const location = res.headers['location'];
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location !== undefined;
      if (!redirect || (current.method !== 'GET' && current.method !== 'HEAD')) return res;
      const next = new URL(location, current.url);
      const headers = { ...(current.headers ?? {}) };
      // Blob storage behind a redirect must not receive the registry's credentials.
      if (next.host !== new URL(current.url).host) delete headers['authorization'];
      current = { method: current.method, url: next.toString(), headers };
    }
    throw new Error(`too many redirects for ${req.url}`);
  }

  private once(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { 'user-agent': 'chainsmith', ...(req.headers ?? {}) };
    if (req.body !== undefined) headers['content-length'] = String(req.body.length);
    else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') headers['content-length'] = '0';
    const options: https.RequestOptions = {
      method: req.method,
      headers,
      signal: AbortSignal.timeout(this.timeoutMs),
    };
    if (isHttps) {
      if (this.ca) options.ca = this.ca;
      options.rejectUnauthorized = this.verify;
    }
    const lib = isHttps ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = lib.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBodyBytes) {
            r.destroy(new Error(`response body larger than ${this.maxBodyBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: h, body: Buffer.concat(chunks), url: req.url });
        });
      });
      r.on('error', (err: Error) => {
        if (err.name === 'AbortError' || err.name === 'TimeoutError') {
          reject(new Error(`timed out after ${this.timeoutMs} ms`, { cause: err }));
        } else reject(err);
      });
      r.end(req.body);
    });
  }
}
