// `audit --from BACKEND`: a signed run counts as verified when its provenance read back from that backend verifies
// (src/verify/read-back.ts), instead of its annotations. Runs are looked up a page at a time, a few at once; the
// reader itself keeps what it can reuse (kafka consumes its topic once per audit).
import type { KeyObject } from 'node:crypto';
import { messageOf } from '../errors.js';
import type { StoredReader } from '../storage/read/types.js';
import { SIGNED_ANNOTATION } from '../tekton/annotations.js';
import type { Run } from '../tekton/types.js';
import { verifyRunFrom } from '../verify/read-back.js';
import type { RunSummary } from './classify.js';

/** What `--from` gives audit: the reader of the backend and the key its signatures must verify with. */
export interface ReadBack {
  reader: StoredReader;
  key: KeyObject;
  /** lookups in flight at once (default 8) */
  concurrency?: number;
}

/** The verdict on one run's provenance read back from the backend. */
export async function readBackVerdict(run: Run, rb: ReadBack): Promise<NonNullable<RunSummary['stored']>> {
  const backend = rb.reader.name;
  try {
    const report = await verifyRunFrom(run, rb.reader, rb.key);
    return report.verified
      ? { backend, verified: true }
      : { backend, verified: false, why: report.firstFailure ?? 'not verified' };
  } catch (err) {
    return { backend, verified: false, why: `cannot read: ${messageOf(err)}` };
  }
}

/** Adds the read-back verdict to the summaries of the signed runs of one page (`wanted` picks the runs to check). */
export async function checkPage(
  runs: Run[],
  summaries: RunSummary[],
  rb: ReadBack,
  wanted: (s: RunSummary) => boolean,
): Promise<void> {
  const todo = summaries
    .map((s, i) => ({ s, run: runs[i]! }))
    .filter(({ s }) => s.done && s.annotations[SIGNED_ANNOTATION] === 'true' && wanted(s));
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const { s, run } = todo[next++]!;
      s.stored = await readBackVerdict(run, rb);
    }
  };
  await Promise.all(Array.from({ length: Math.min(rb.concurrency ?? 8, todo.length) }, worker));
}
