// Small helpers for building and merging findings (types.ts holds the Finding shape).
import type { Finding, FindingReason } from './types.js';

/** A finding about one result (or `a+b` for a pair); `result` is `""` for run-level findings. */
export function finding(reason: FindingReason, result: string, message: string): Finding {
  return { reason, result, message };
}

/** Concatenates finding lists, dropping exact repeats (the same candidate can be inspected by several passes). */
export function mergeFindings(...lists: Finding[][]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of lists.flat()) {
    const key = `${f.reason}\u0000${f.result}\u0000${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

/** How a value is described in messages: `an array`, `an object`, `""`. */
export function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
