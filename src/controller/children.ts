// A PipelineRun is signed after its child TaskRuns (spec §1.4: concurrent pushes to one `.att` tag race).
// Unlike Chains, a child that can never be signed does not block the PipelineRun silently: a CustomRun child
// is noted at once, a TaskRun child missing from the cluster is waited for a bounded time, and the PipelineRun
// is then signed with what exists and a `ChildRunMissing` Event says what was left out.
import type { ChainsConfig } from '../config/types.js';
import { childSettled } from './decide.js';
import type { CachedRun, RunCache } from './run-cache.js';

export interface ChildrenState {
  /** child TaskRuns that are signed, failed, or will never be signed (childReferences order) */
  ready: CachedRun[];
  /** child TaskRuns that exist but are not settled yet */
  waiting: string[];
  /** TaskRun children not found in the cluster */
  missing: string[];
  /** children of other kinds (CustomRun), which chainsmith does not sign */
  other: string[];
}

/** Where each child of a PipelineRun stands. */
export function childrenState(pr: CachedRun, cache: RunCache, config: ChainsConfig): ChildrenState {
  const state: ChildrenState = { ready: [], waiting: [], missing: [], other: [] };
  for (const ref of pr.childRefs ?? []) {
    if (ref.kind !== undefined && ref.kind !== '' && ref.kind !== 'TaskRun') {
      state.other.push(`${ref.kind} ${ref.name}`);
      continue;
    }
    const child = cache.findByName('TaskRun', pr.namespace, ref.name);
    if (!child) state.missing.push(ref.name);
    else if (childSettled(child, config)) state.ready.push(child);
    else state.waiting.push(ref.name);
  }
  return state;
}

/** The Event note for children left out of a PipelineRun's provenance. */
export function missingChildrenNote(missing: string[], other: string[], waitedSeconds: number): string {
  const parts: string[] = [];
  if (missing.length > 0)
    parts.push(`TaskRun ${missing.join(', ')} not found after waiting ${waitedSeconds}s (deleted?)`);
  if (other.length > 0)
    parts.push(`${other.join(', ')} not included (chainsmith signs TaskRuns and PipelineRuns only)`);
  return `signed without some children: ${parts.join('; ')}`;
}
