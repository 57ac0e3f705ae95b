// Retry bookkeeping (spec §1.7), compatible with Chains' `chains.tekton.dev/retries` counter so the two
// controllers can hand a cluster over in either direction: absent → "0", below the limit → +1, at the limit
// (or unparsable) → `signed: "failed"`. With the default limit of 3 a failing run is attempted 5 times, as in
// Chains. Improvement: a transient failure (network, 5xx, 429, KMS/registry unavailable) does not count while it
// is younger than `chainsmith.retry-horizon` — the run is retried with backoff and nothing is written.
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError, messageOf } from '../errors.js';
import { LAST_FAILURE_ANNOTATION, RETRIES_ANNOTATION, SIGNED_ANNOTATION } from '../tekton/annotations.js';

export type FailureOutcome =
  /** transient and within the horizon: retry later, write nothing */
  | { kind: 'retry-quietly' }
  /** count it: write these annotations and retry later */
  | { kind: 'count'; annotations: Record<string, string> }
  /** limit reached: write these annotations (`signed: "failed"`) and stop */
  | { kind: 'give-up'; annotations: Record<string, string> };

/** Whether a failure may heal by itself. */
export function isTransient(err: unknown): boolean {
  return err instanceof ChainsmithError && err.transient;
}

/** A one-line, bounded description of a failure for the `chainsmith.dev/last-failure` annotation. */
export function failureSummary(err: unknown): string {
  const reason = err instanceof ChainsmithError ? err.reason : 'Error';
  const line = `${reason}: ${messageOf(err)}`.replace(/\s+/g, ' ');
  return line.length > 500 ? `${line.slice(0, 499)}…` : line;
}

/**
 * Decides how one failed attempt is recorded.
 * `firstTransientAt`: when the current run of transient failures began (ms), if it is one.
 */
export function recordFailure(
  annotations: Record<string, string>,
  err: unknown,
  config: ChainsConfig,
  now: number,
  firstTransientAt: number | undefined,
): FailureOutcome {
  if (
    isTransient(err) &&
    firstTransientAt !== undefined &&
    now - firstTransientAt < config.chainsmith.retryHorizonSeconds * 1000
  ) {
    return { kind: 'retry-quietly' };
  }
  const last = { [LAST_FAILURE_ANNOTATION]: failureSummary(err) };
  const current = annotations[RETRIES_ANNOTATION];
  if (current === undefined) return { kind: 'count', annotations: { [RETRIES_ANNOTATION]: '0', ...last } };
  const n = /^\d+$/.test(current) ? Number(current) : NaN;
  if (Number.isInteger(n) && n < config.chainsmith.maxRetries) {
    return { kind: 'count', annotations: { [RETRIES_ANNOTATION]: String(n + 1), ...last } };
  }
  return { kind: 'give-up', annotations: { [SIGNED_ANNOTATION]: 'failed', ...last } };
}
