// Backoff for registry calls: exponential with jitter, honouring Retry-After (capped), so a flapping
// registry is not hammered and many runs retrying at once spread out.

/** How often and how patiently to retry transient registry failures (429, 5xx, network errors). */
export interface RetryPolicy {
  /** total attempts including the first (>= 1) */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 4000 };

/** The delay before retry number `retry` (1-based): equal jitter over base·2^(retry-1), capped. */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  retryAfter?: string,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  const seconds = retryAfter !== undefined ? Number(retryAfter) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(policy.maxDelayMs, Math.max(jittered, seconds * 1000));
  return jittered;
}

/** True for HTTP statuses worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
