// One HTTP exchange with a registry, over node:http / node:https.
// Why not the global fetch: on Node 20 fetch (bundled undici) has no public way to trust an extra CA or to
// skip TLS verification per request — that needs an undici `Agent` passed as `dispatcher`, and undici is not
// importable from Node itself without adding the package. node:https takes `ca` and `rejectUnauthorized`
// per request, so the CA-bundle and insecure options work without a new dependency.
// Registry answers are untrusted: bodies are capped while they stream, every request has an idle and a total
// deadline, and a redirect keeps the Authorization header only where the caller allows it.
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import {
  MAX_ERROR_BODY_BYTES,
  MAX_MANIFEST_BYTES,
  REQUEST_IDLE_TIMEOUT_MS,
  REQUEST_TOTAL_TIMEOUT_MS,
} from './limits.js';

/** Redirects followed for GET/HEAD before giving up. */
export const MAX_REDIRECTS = 5;

/** A request as the registry client builds it. */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** a successful body larger than this fails the request (error bodies are truncated to MAX_ERROR_BODY_BYTES) */
  maxBodyBytes?: number;
  /** total deadline of this request in ms (at most the transport's own) */
  timeoutMs?: number;
  /** whether a redirect to `next` may carry the Authorization header; without it, a redirect never does */
  keepAuthorization?: (next: URL) => boolean;
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

/** A successful response whose body is over the caller's cap: the registry's answer, not the network, is at fault. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/** Sends HTTP requests with idle and total deadlines and capped bodies; follows redirects for GET/HEAD. */
export class HttpTransport {
  private readonly ca: string[] | undefined;
  private readonly verify: boolean;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(opts: { tls?: TlsOptions; timeoutMs?: number; idleTimeoutMs?: number; maxBodyBytes?: number } = {}) {
    // `ca` replaces Node's roots, so the bundle is appended to them rather than given alone.
    this.ca = opts.tls?.caBundle ? [...rootCertificates, opts.tls.caBundle] : undefined;
    this.verify = opts.tls?.verify ?? true;
    this.timeoutMs = opts.timeoutMs ?? REQUEST_TOTAL_TIMEOUT_MS;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? REQUEST_IDLE_TIMEOUT_MS;
    this.maxBodyBytes = opts.maxBodyBytes ?? MAX_MANIFEST_BYTES;
  }

  /** Sends one request (following up to MAX_REDIRECTS redirects for GET/HEAD); rejects on network errors, timeouts. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let current = req;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.once(current);
      const location = res.headers['location'];
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location !== undefined;
      if (!redirect || (current.method !== 'GET' && current.method !== 'HEAD')) return res;
      let next: URL;
      try {
        next = new URL(location, current.url);
      } catch {
        throw new Error('redirect to an invalid URL');
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new Error(`redirect to a ${next.protocol} URL`);
      }
      if (next.username !== '' || next.password !== '') throw new Error('redirect to a URL with credentials');
      const headers = { ...(current.headers ?? {}) };
      // Blob storage behind a redirect, or any other path of the registry, must not receive its credentials.
      if (!req.keepAuthorization?.(next)) delete headers['authorization'];
      current = { ...current, url: next.toString(), headers };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects`);
  }

  private once(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    const headers: Record<string, string> = { 'user-agent': 'chainsmith', ...(req.headers ?? {}) };
    if (req.body !== undefined) headers['content-length'] = String(req.body.length);
    else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') headers['content-length'] = '0';
    const options: https.RequestOptions = { method: req.method, headers };
    if (isHttps) {
      if (this.ca) options.ca = this.ca;
      options.rejectUnauthorized = this.verify;
    }
    const lib = isHttps ? https : http;
    const total = Math.max(1, Math.min(this.timeoutMs, req.timeoutMs ?? this.timeoutMs));
    const okLimit = req.maxBodyBytes ?? this.maxBodyBytes;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const r = lib.request(url, options, (res) => {
        const status = res.statusCode ?? 0;
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
        }
        const done = (body: Buffer): void =>
          settle(() => resolve({ status, statusText: res.statusMessage ?? '', headers: h, body, url: req.url }));
        const isError = status >= 400;
        // An error body is only read for its message: truncated, not refused.
        const limit = isError ? MAX_ERROR_BODY_BYTES : okLimit;
        const declared = Number(h['content-length']);
        if (!isError && req.method !== 'HEAD' && Number.isFinite(declared) && declared > limit) {
          r.destroy();
          settle(() => reject(new ResponseTooLargeError(limit)));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          const room = limit - size;
          if (c.length > room) {
            if (isError) {
              chunks.push(c.subarray(0, room));
              done(Buffer.concat(chunks));
            } else settle(() => reject(new ResponseTooLargeError(limit)));
            r.destroy();
            return;
          }
          size += c.length;
          chunks.push(c);
        });
        res.on('error', (err) => settle(() => reject(err)));
        res.on('close', () => settle(() => reject(new Error('connection closed before the response was complete'))));
        res.on('end', () => done(Buffer.concat(chunks)));
      });
      // Idle: no byte in either direction for idleTimeoutMs (connect, headers or body); total: the whole exchange.
      const timer = setTimeout(() => {
        settle(() => reject(new Error(`no complete response within ${total} ms`)));
        r.destroy();
      }, total);
      r.setTimeout(this.idleTimeoutMs, () => {
        settle(() => reject(new Error(`no data for ${this.idleTimeoutMs} ms`)));
        r.destroy();
      });
      r.on('error', (err: Error) => settle(() => reject(err)));
      r.end(req.body);
    });
  }
}
