// Percentiles and rates for the results table.

/** The p-th percentile (0..100) of `values` by nearest rank; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
}

/** p50/p95/p99 of latencies in seconds. */
export function summarise(latenciesS: readonly number[]): LatencySummary {
  return { p50: percentile(latenciesS, 50), p95: percentile(latenciesS, 95), p99: percentile(latenciesS, 99) };
}
