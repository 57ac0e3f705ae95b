// What the arm cost the stack's Rekor v1 over the measured part: the requests rekor-server answered (from its
// request log, one `completed request` JSON line each, with method, URL, status and server-side latency), the
// entries the log grew by (tree size), and the CPU of rekor-server, Trillian and MariaDB. Rekor's Prometheus
// endpoint is no use here: it always listens on *:2112, which another stack's Rekor on this machine may hold.
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { BenchRekor } from '../lib/stack.js';
import { sampleProc } from './proc.js';
import { percentile } from './stats.js';

/** The harness's own requests carry this User-Agent and are left out of the counts. */
const HARNESS_AGENT = 'chainsmith-bench';

export interface RekorReading {
  /** Requests answered, by "METHOD /path STATUS" (entry UUIDs replaced by {uuid}). */
  byKind: Map<string, number>;
  requests: number;
  /** Entries added to the log (tree size after − before). */
  entries: number;
  /** rekor-server's own latency of the entry POSTs, seconds. */
  post: { count: number; mean: number; p50: number; p95: number };
  /** CPU seconds of rekor-server, the two Trillian servers and MariaDB together. */
  cpuSeconds: number;
  /** `completed request` lines that did not parse as JSON (not counted above). */
  unreadable: number;
}

/** A RekorReading with the number of runs it is divided by in the results. */
export type RekorResult = RekorReading & { runs: number };

/** Rekor requests per run. */
export const rekorRequestsPerRun = (r: RekorResult): number => r.requests / Math.max(1, r.runs);

interface RequestLine {
  message?: string;
  httpRequest?: { requestMethod?: string; requestUrl?: string; status?: number; latency?: string; userAgent?: string };
}

/** Tree size of the log, from GET /api/v1/log. */
export async function treeSize(url: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/log`, {
    headers: { 'user-agent': HARNESS_AGENT },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`GET ${url}/api/v1/log: HTTP ${res.status}`);
  return ((await res.json()) as { treeSize: number }).treeSize;
}

function rekorCpu(rekor: BenchRekor): number {
  return Object.values(rekor.pids).reduce((sum, pid) => sum + (sampleProc(pid)?.cpuSeconds ?? 0), 0);
}

function readFrom(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, offset + n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Takes Rekor's figures between begin() and end(). */
export class RekorMeter {
  private offset = 0;
  private tree0 = 0;
  private cpu0 = 0;

  constructor(private readonly rekor: BenchRekor) {}

  async begin(): Promise<void> {
    this.tree0 = await treeSize(this.rekor.url);
    this.offset = statSync(this.rekor.logFile).size;
    this.cpu0 = rekorCpu(this.rekor);
  }

  async end(): Promise<RekorReading> {
    const cpuSeconds = rekorCpu(this.rekor) - this.cpu0;
    const entries = (await treeSize(this.rekor.url)) - this.tree0;
    // rekor-server logs a request after answering it: under load its last lines land a little later, so wait
    // (at most 5 s) until the log holds at least one created-entry line per entry the tree grew by.
    let { lines, unreadable } = this.requestLines();
    for (let waited = 0; created(lines) < entries && waited < 5000; waited += 200) {
      await new Promise((r) => setTimeout(r, 200));
      ({ lines, unreadable } = this.requestLines());
    }
    const byKind = new Map<string, number>();
    const postLatencies: number[] = [];
    for (const req of lines) {
      const kind = `${req.method} ${req.path} ${req.status}`;
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      if (req.method === 'POST' && req.path === ENTRIES) postLatencies.push(req.latencyS);
    }
    const mean = postLatencies.reduce((a, b) => a + b, 0) / Math.max(1, postLatencies.length);
    return {
      byKind,
      requests: lines.length,
      entries,
      post: {
        count: postLatencies.length,
        mean: postLatencies.length ? mean : NaN,
        p50: percentile(postLatencies, 50),
        p95: percentile(postLatencies, 95),
      },
      cpuSeconds,
      unreadable,
    };
  }

  /** The requests rekor-server logged since begin(), the harness's own left out. */
  private requestLines(): { lines: LoggedRequest[]; unreadable: number } {
    const out: LoggedRequest[] = [];
    let unreadable = 0;
    for (const line of readFrom(this.rekor.logFile, this.offset).split('\n')) {
      if (!line.includes('"completed request"')) continue;
      let req: RequestLine['httpRequest'];
      try {
        req = (JSON.parse(line) as RequestLine).httpRequest;
      } catch {
        unreadable++; // e.g. a line still being written
        continue;
      }
      if (!req || req.userAgent === HARNESS_AGENT) continue;
      out.push({
        method: req.requestMethod ?? '?',
        // entry UUIDs (64 hex, or 80 with the tree ID) would make every GET its own kind
        path: new URL(req.requestUrl ?? '/', 'http://x').pathname.replace(/\/[0-9a-f]{64,80}$/, '/{uuid}'),
        status: req.status ?? 0,
        latencyS: parseFloat(req.latency ?? 'NaN'),
      });
    }
    return { lines: out, unreadable };
  }
}

const ENTRIES = '/api/v1/log/entries';

interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  latencyS: number;
}

/** Entry POSTs answered 201 Created. */
const created = (lines: LoggedRequest[]): number =>
  lines.filter((l) => l.method === 'POST' && l.path === ENTRIES && l.status === 201).length;

/** One line for the notes column: Rekor's requests per run by kind, entries, POST latency and CPU. */
export function rekorNote(r: RekorReading, runs: number): string {
  const per = (n: number): string => (n / Math.max(1, runs)).toFixed(2);
  const kinds = [...r.byKind]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${per(v)}`)
    .join(', ');
  const ms = (s: number): string => (Number.isFinite(s) ? (s * 1000).toFixed(0) : '-');
  return (
    `Rekor requests/run: ${kinds || '-'}; entries/run ${per(r.entries)}; ` +
    `entry POST latency at rekor-server mean ${ms(r.post.mean)} ms, p50 ${ms(r.post.p50)} ms, p95 ${ms(r.post.p95)} ms; ` +
    `Rekor+Trillian+MariaDB CPU ${(r.cpuSeconds / Math.max(1, runs)).toFixed(4)} s/run` +
    (r.unreadable > 0 ? `; ${r.unreadable} unreadable request log lines` : '') +
    (r.requests < r.entries ? `; rekor-server's request log holds fewer entry POSTs than the tree grew by` : '')
  );
}
