// One policy for every KMS round trip: a per-attempt timeout, retries with backoff for transient failures,
// and errors that carry a stable reason and never a credential (conventions.md: "one concept, one place").
import { setTimeout as sleep } from 'node:timers/promises';
import { ChainsmithError, type Reason } from '../../errors.js';

/** How KMS calls are bounded and retried. */
export interface KmsCallPolicy {
  /** per attempt, milliseconds (default 10 000) */
  timeoutMs: number;
  /** further attempts after a transient failure (default 3) */
  retries: number;
  /** first backoff, doubled per retry with jitter, capped at 5 s (default 250 ms) */
  backoffMs: number;
  /** strings that must never appear in an error message (tokens, JWTs) */
  secrets: () => string[];
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;

/** Options callers of createKmsSigner may set; unset fields take the defaults above. */
export interface KmsCallOptions {
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

/** Fills in the defaults of a call policy. */
export function callPolicy(opts: KmsCallOptions = {}, secrets: () => string[] = () => []): KmsCallPolicy {
  return {
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retries: opts.retries ?? DEFAULT_RETRIES,
    backoffMs: opts.backoffMs ?? DEFAULT_BACKOFF_MS,
    secrets,
  };
}

/** A provider's verdict on a failure: the reason, whether retrying may help, and a one-line detail. */
export interface KmsFailure {
  reason: Extract<
    Reason,
    'KmsUnavailable' | 'KmsPermissionDenied' | 'KmsKeyNotFound' | 'KmsKeyUnsupported' | 'KmsError'
  >;
  transient: boolean;
  detail: string;
}

/** Maps whatever a provider's client threw to a KmsFailure. */
export type FailureClassifier = (err: unknown) => KmsFailure;

/** Thrown by our own timeout so classifiers can tell it from the server's errors. */
export class KmsTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'KmsTimeoutError';
  }
}

/**
 * Runs `op` with an abort signal that fires after the policy's timeout, retrying transient failures with
 * exponential backoff. Throws a ChainsmithError whose message names `what` and is scrubbed of secrets.
 */
export async function callKms<T>(
  what: string,
  policy: KmsCallPolicy,
  classify: FailureClassifier,
  op: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let attempt = 0;
  for (;;) {
    let failure: KmsFailure;
    try {
      return await withTimeout(policy.timeoutMs, op);
    } catch (err) {
      failure =
        err instanceof KmsTimeoutError
          ? { reason: 'KmsUnavailable', transient: true, detail: err.message }
          : err instanceof ChainsmithError
            ? failureOf(err)
            : classify(err);
    }
    if (!failure.transient || attempt >= policy.retries) {
      const tries = attempt > 0 ? ` (after ${attempt + 1} attempts)` : '';
      const message = redact(`${what}: ${failure.detail}${tries}`, policy.secrets());
      // No `cause`: SDK errors carry the request, and with it the Authorization header.
      throw new ChainsmithError(failure.reason, message, { transient: failure.transient });
    }
    await sleep(backoff(policy.backoffMs, attempt));
    attempt++;
  }
}

async function withTimeout<T>(ms: number, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new KmsTimeoutError(ms);
      // Settle the race first: aborting makes the client reject synchronously with its own AbortError.
      reject(err);
      controller.abort(err);
    }, ms);
  });
  try {
    // Racing as well as aborting: not every client honours the signal promptly.
    return await Promise.race([op(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function backoff(base: number, attempt: number): number {
  const exp = Math.min(MAX_BACKOFF_MS, base * 2 ** attempt);
  // Full jitter in the upper half: many controllers retrying together do not hit the KMS in lockstep.
  return exp / 2 + Math.random() * (exp / 2);
}

/** Replaces every occurrence of each secret (of 4+ characters) with "[redacted]". */
export function redact(message: string, secrets: string[]): string {
  let out = message;
  for (const s of secrets) {
    if (s.length >= 4) out = out.split(s).join('[redacted]');
  }
  return out;
}

/** Our own errors, raised inside a call (bad key type, unreadable token file), keep their reason. */
function failureOf(err: ChainsmithError): KmsFailure {
  const reason =
    err.reason === 'KmsUnavailable' ||
    err.reason === 'KmsPermissionDenied' ||
    err.reason === 'KmsKeyNotFound' ||
    err.reason === 'KmsKeyUnsupported'
      ? err.reason
      : 'KmsError';
  // Providers prefix their own messages with "<provider>: "; callKms puts its own context in front.
  return { reason, transient: err.transient, detail: err.message.replace(/^[a-z]+: /, '') };
}

/** Error codes of Node's network stack that mean "try again later". */
const TRANSIENT_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ABORT_ERR',
]);

/** The network error code of err or its causes (fetch wraps them in `TypeError: fetch failed`). */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_NET_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The classification for an HTTP status, shared by the providers that see one. */
export function failureForStatus(status: number, detail: string): KmsFailure {
  if (status === 401 || status === 403) return { reason: 'KmsPermissionDenied', transient: false, detail };
  if (status === 404) return { reason: 'KmsKeyNotFound', transient: false, detail };
  if (status === 408 || status === 429 || status >= 500) return { reason: 'KmsUnavailable', transient: true, detail };
  return { reason: 'KmsError', transient: false, detail };
}
