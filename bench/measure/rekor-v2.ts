// What an arm cost the stack's Rekor v2 (rekor-tiles) and timestamp authority over the measured part (config 5,
// `chainsmith.signing-config`): the entries the log grew by (its published checkpoint's tree size; each entry is one
// POST, rekor-tiles answers no 409 lookups) and the CPU of rekor-tiles and the TSA.
import type { BenchSigstore2 } from '../lib/stack.js';
import { sampleProc } from './proc.js';

export interface Sigstore2Reading {
  /** entries added to Rekor v2 (checkpoint tree size after − before) */
  entries: number;
  /** CPU seconds of rekor-tiles and the timestamp authority together */
  cpuSeconds: number;
}

/** Tree size of the Rekor v2 log: the second line of its published checkpoint. */
export async function checkpointSize(readUrl: string): Promise<number> {
  const res = await fetch(`${readUrl}/checkpoint`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${readUrl}/checkpoint: HTTP ${res.status}`);
  const size = Number((await res.text()).split('\n')[1]);
  if (!Number.isSafeInteger(size)) throw new Error(`${readUrl}/checkpoint: no tree size on its second line`);
  return size;
}

function cpu(s: BenchSigstore2): number {
  return Object.values(s.pids).reduce((sum, pid) => sum + (sampleProc(pid)?.cpuSeconds ?? 0), 0);
}

/** Reads the log size and CPU at begin() and their change at end(). */
export class Sigstore2Meter {
  private size0 = 0;
  private cpu0 = 0;

  constructor(private readonly s: BenchSigstore2) {}

  async begin(): Promise<void> {
    this.size0 = await checkpointSize(this.s.readUrl);
    this.cpu0 = cpu(this.s);
  }

  async end(): Promise<Sigstore2Reading> {
    // the checkpoint is published every second: wait for the one covering the last entries
    await new Promise((r) => setTimeout(r, 2_000));
    return { entries: (await checkpointSize(this.s.readUrl)) - this.size0, cpuSeconds: cpu(this.s) - this.cpu0 };
  }
}

/** One line for the results: Rekor v2 entries (= requests) and the servers' CPU per run. */
export function sigstore2Note(r: Sigstore2Reading, runs: number): string {
  const n = Math.max(1, runs);
  return (
    `Rekor v2: ${(r.entries / n).toFixed(2)} entries (= POSTs) per run, one RFC 3161 timestamp per signature; ` +
    `rekor-tiles + TSA ${(r.cpuSeconds / n).toFixed(4)} CPU s/run`
  );
}
