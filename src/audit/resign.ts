// `chainsmith resign`: clears the marks that make the controller leave a run alone (`chains.tekton.dev/signed`,
// `…/retries`, `chainsmith.dev/last-failure`) so it signs those runs again — after a key rotation or a fixed
// outage. Chains' own re-arm is "delete the annotation by hand"; this does it in bulk, paged, with a dry run.
import { LAST_FAILURE_ANNOTATION, RETRIES_ANNOTATION, SIGNED_ANNOTATION } from '../tekton/annotations.js';
import { KubeApiError } from '../kube/client.js';
import { messageOf } from '../errors.js';
import type { RunSummary } from './classify.js';
import type { Cluster, RunKind } from './cluster.js';

/** The annotations resign deletes (a merge patch with `null`). */
export const CLEARED_MARKS: readonly string[] = [SIGNED_ANNOTATION, RETRIES_ANNOTATION, LAST_FAILURE_ANNOTATION];

export interface ResignOptions {
  namespace?: string;
  labelSelector?: string;
  sinceSeconds?: number;
  /** only runs that failed (`signed: "failed"`, or a recorded failure while retrying) */
  failedOnly: boolean;
  dryRun: boolean;
  now: number;
  concurrency?: number;
  /** called after each run is handled */
  onProgress?: (done: number, total: number, run: RunSummary) => void;
}

export interface ResignResult {
  dryRun: boolean;
  /** runs whose marks were (or would be) cleared */
  selected: Array<{ kind: RunKind; namespace: string; name: string; was: string }>;
  cleared: number;
  /** deleted between listing and patching */
  gone: number;
  errors: Array<{ run: string; error: string }>;
}

/** True when the run carries a mark resign would clear and matches the filters. */
export function needsResign(
  run: RunSummary,
  opts: Pick<ResignOptions, 'failedOnly' | 'sinceSeconds' | 'now'>,
): boolean {
  if (!run.done) return false;
  if (
    opts.sinceSeconds !== undefined &&
    (!run.completionTime || Date.parse(run.completionTime) < opts.now - opts.sinceSeconds * 1000)
  )
    return false;
  const a = run.annotations;
  if (opts.failedOnly)
    return (
      a[SIGNED_ANNOTATION] === 'failed' ||
      (a[SIGNED_ANNOTATION] === undefined && a[LAST_FAILURE_ANNOTATION] !== undefined)
    );
  return CLEARED_MARKS.some((k) => a[k] !== undefined);
}

function markOf(run: RunSummary): string {
  const a = run.annotations;
  if (a[SIGNED_ANNOTATION] !== undefined) return `signed: ${a[SIGNED_ANNOTATION]}`;
  if (a[RETRIES_ANNOTATION] !== undefined) return `retries: ${a[RETRIES_ANNOTATION]}`;
  return 'last-failure';
}

/** Selects the runs, then (unless dry-run) clears their marks a few at a time. */
export async function resign(cluster: Cluster, opts: ResignOptions): Promise<ResignResult> {
  const chosen: RunSummary[] = [];
  for (const kind of ['TaskRun', 'PipelineRun'] as const) {
    const q = {
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    };
    for await (const run of cluster.runSummaries(kind, q)) if (needsResign(run, opts)) chosen.push(run);
  }
  const result: ResignResult = {
    dryRun: opts.dryRun,
    selected: chosen.map((r) => ({ kind: r.kind, namespace: r.namespace, name: r.name, was: markOf(r) })),
    cleared: 0,
    gone: 0,
    errors: [],
  };
  if (opts.dryRun) return result;
  const patch = Object.fromEntries(CLEARED_MARKS.map((k) => [k, null]));
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < chosen.length) {
      const run = chosen[next++]!;
      try {
        await cluster.patchAnnotations(run.kind, run.namespace, run.name, patch);
        result.cleared++;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) result.gone++;
        else result.errors.push({ run: `${run.kind} ${run.namespace}/${run.name}`, error: messageOf(err) });
      }
      opts.onProgress?.(++done, chosen.length, run);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, Math.max(1, chosen.length)) }, worker));
  return result;
}
