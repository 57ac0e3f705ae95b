// What the arm cost the stack's Fulcio over the measured part, from Fulcio's own Prometheus endpoint (its port is
// picked per stack by e2e/stack/addons/fulcio-up.sh, so unlike Rekor's fixed *:2112 it is this stack's Fulcio):
// `http_requests_total{code,method}` (every request its HTTP server answered: the v1 REST API Chains' cosign
// client calls and the v2 API chainsmith calls), `fulcio_new_certs` (certificates issued) and
// `fulcio_api_latency` (Fulcio's own latency per request, a histogram); plus the CPU of the Fulcio process.
// Nothing else talks to a bench stack's Fulcio: the harness reads only the metrics port, which is not counted.
import type { BenchFulcio } from '../lib/stack.js';
import { sampleProc } from './proc.js';

export interface FulcioReading {
  /** HTTP requests answered, by "METHOD CODE" (Fulcio's labels: method lower-case, e.g. "post 201"). */
  byKind: Map<string, number>;
  requests: number;
  /** Certificates issued (`fulcio_new_certs`). */
  certificates: number;
  /** Fulcio's own latency per request, seconds: mean exactly, p50/p95 as the upper bound of the histogram bucket. */
  latency: { count: number; mean: number; p50: number; p95: number };
  /** CPU seconds of the Fulcio process. */
  cpuSeconds: number;
}

/** A FulcioReading with the number of runs it is divided by in the results. */
export type FulcioResult = FulcioReading & { runs: number };

/** Fulcio requests per run. */
export const fulcioRequestsPerRun = (r: FulcioResult): number => r.requests / Math.max(1, r.runs);

/** One scrape of the counters this meter needs. */
interface Scrape {
  requests: Map<string, number>;
  certificates: number;
  /** cumulative bucket counts by upper bound (le), +Inf included */
  buckets: Map<number, number>;
  latencySum: number;
  latencyCount: number;
}

/** `name{labels} value` lines of the Prometheus text format (comments skipped). */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Parses Fulcio's /metrics text (summed over the `code`/`method` labels where a figure is one number). */
export function parseFulcioMetrics(text: string): Scrape {
  const s: Scrape = { requests: new Map(), certificates: 0, buckets: new Map(), latencySum: 0, latencyCount: 0 };
  for (const { name, labels, value } of samples(text)) {
    if (name === 'http_requests_total') {
      const kind = `${labels.method ?? '?'} ${labels.code ?? '?'}`;
      s.requests.set(kind, (s.requests.get(kind) ?? 0) + value);
    } else if (name === 'fulcio_new_certs') s.certificates += value;
    else if (name === 'fulcio_api_latency_bucket') {
      const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
      s.buckets.set(le, (s.buckets.get(le) ?? 0) + value);
    } else if (name === 'fulcio_api_latency_sum') s.latencySum += value;
    else if (name === 'fulcio_api_latency_count') s.latencyCount += value;
  }
  return s;
}

/** The upper bound of the bucket holding the p-th percentile of the requests between two scrapes. */
function bucketPercentile(before: Map<number, number>, after: Map<number, number>, p: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = delta[delta.length - 1] ?? 0;
  if (total <= 0) return NaN;
  const i = delta.findIndex((n) => n >= (p / 100) * total);
  return i < 0 ? NaN : bounds[i]!;
}

async function scrape(fulcio: BenchFulcio): Promise<Scrape> {
  const res = await fetch(fulcio.metricsUrl, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${fulcio.metricsUrl}: HTTP ${res.status}`);
  return parseFulcioMetrics(await res.text());
}

/** Takes Fulcio's figures between begin() and end(). */
export class FulcioMeter {
  private before: Scrape | undefined;
  private cpu0 = 0;

  constructor(private readonly fulcio: BenchFulcio) {}

  async begin(): Promise<void> {
    this.before = await scrape(this.fulcio);
    this.cpu0 = sampleProc(this.fulcio.pid)?.cpuSeconds ?? 0;
  }

  async end(): Promise<FulcioReading> {
    const cpuSeconds = (sampleProc(this.fulcio.pid)?.cpuSeconds ?? NaN) - this.cpu0;
    const after = await scrape(this.fulcio);
    const before = this.before!;
    const byKind = new Map<string, number>();
    for (const [kind, n] of after.requests) {
      const d = n - (before.requests.get(kind) ?? 0);
      if (d > 0) byKind.set(kind, d);
    }
    const count = after.latencyCount - before.latencyCount;
    return {
      byKind,
      requests: [...byKind.values()].reduce((a, b) => a + b, 0),
      certificates: after.certificates - before.certificates,
      latency: {
        count,
        mean: count > 0 ? (after.latencySum - before.latencySum) / count : NaN,
        p50: bucketPercentile(before.buckets, after.buckets, 50),
        p95: bucketPercentile(before.buckets, after.buckets, 95),
      },
      cpuSeconds,
    };
  }
}

/** One line for the notes column: Fulcio's requests per run by kind, certificates, latency and CPU. */
export function fulcioNote(r: FulcioReading, runs: number): string {
  const per = (n: number): string => (n / Math.max(1, runs)).toFixed(2);
  const kinds = [...r.byKind]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k.toUpperCase()} ${per(v)}`)
    .join(', ');
  const ms = (s: number): string => (Number.isFinite(s) ? (s * 1000).toFixed(0) : '-');
  return (
    `Fulcio requests/run: ${kinds || '-'}; certificates/run ${per(r.certificates)}; ` +
    `latency at Fulcio mean ${ms(r.latency.mean)} ms, p50 ≤ ${ms(r.latency.p50)} ms, p95 ≤ ${ms(r.latency.p95)} ms; ` +
    `Fulcio CPU ${(r.cpuSeconds / Math.max(1, runs)).toFixed(4)} s/run`
  );
}
