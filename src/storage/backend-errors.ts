// How the service backends (gcs, docdb, kafka, archivista) report a failure: one reason, a message naming the
// backend and where it wrote (bucket, collection, topic, server) with the server's own words, never a credential,
// and whether a retry may help (network, 5xx, 429, broker unavailable) so the controller retries within its horizon.
import { ChainsmithError, messageOf } from '../errors.js';

/** Node and undici error codes that mean "the server could not be reached (yet)", not "the request is wrong". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** `scheme://user:password@host` → `scheme://host`, anywhere in a text (URLs in messages, driver errors). */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1');
}

/** A URL as messages show it: no userinfo, no query (query parameters may carry secrets too). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return redactCredentials(url).replace(/\?.*$/, '');
  }
}

/** True when an HTTP status means "try again later". */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** True when `err` (or one of its causes) is a network-level failure: refused, reset, timed out, no route. */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return true;
    e = causeOf(e);
  }
  return false;
}

/** The messages of an error and its causes, joined, redacted, on one line. */
export function serverWords(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const m = messageOf(e).trim();
    if (m && !parts.some((p) => p.includes(m))) parts.push(m);
    // an AggregateError (several brokers or partitions failed): the first inner failure says what happened
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
      const first = serverWords(inner[0]);
      if (first && !parts.some((p) => p.includes(first))) parts.push(first);
    }
    e = causeOf(e);
  }
  return redactCredentials(parts.join(': ').replace(/\s+/g, ' '));
}

/** The error behind `err`: `cause`, or `originalError` (kafkajs). */
function causeOf(err: unknown): unknown {
  const e = err as { cause?: unknown; originalError?: unknown };
  return e.cause ?? e.originalError;
}

/** A `StorageFailed` error for `backend` writing to `where`, with the server's words. */
export function storageFailed(backend: string, where: string, err: unknown, transient: boolean): ChainsmithError {
  if (err instanceof ChainsmithError) return err;
  return new ChainsmithError('StorageFailed', `${backend}: ${where}: ${serverWords(err)}`, { transient, cause: err });
}

/** An `InvalidConfig` error for `backend`: what is wrong with its chains-config keys and what would work. */
export function invalidConfig(backend: string, message: string): ChainsmithError {
  return new ChainsmithError('InvalidConfig', `${backend}: ${redactCredentials(message)}`);
}
