// Which runs the controller acts on, and how (spec §1.2–§1.4, §1.8), as a pure function of the cached run and
// the current config. Differences from Chains, on purpose:
// - the finalizer is added to runs that are running or done-and-unsigned (Chains adds it to every run it sees,
//   signed ones included), and removed in the same patch that marks the run, so deleting a signed run needs no
//   controller action. Putting it on while the run is still running closes the window between completion and
//   our first write, and leaves one write (the mark) on the path from completion to signed;
// - a run whose artifact types are all disabled is reported (`disabled`), not marked `signed: "true"`.
import { enabledTypesFor } from '../config/parse.js';
import type { ChainsConfig } from '../config/types.js';
import { finalizerFor } from '../tekton/annotations.js';
import { isReconciled, type CachedRun } from './run-cache.js';

export type Decision =
  /** nothing to do (the reason is for logs and tests) */
  | { action: 'none'; why: 'not-done' | 'reconciled' | 'filtered' | 'no-config' }
  /** remove our finalizer and nothing else */
  | { action: 'release'; why: 'deleted-before-done' | 'reconciled' | 'filtered' | 'disabled' }
  /** done and unsigned, but every artifact type of this kind is disabled by config */
  | { action: 'disabled' }
  /** done and unsigned: make sure the finalizer is on, then sign */
  | { action: 'sign' }
  /** still running, signing enabled: put the finalizer on now, so a deletion right after completion waits for us */
  | { action: 'protect' };

/** True when `spec.managedBy` lets Chains-compatible controllers sign the run (spec §1.2 rule 1). */
export function managedByAllowed(managedBy: string | undefined, config: ChainsConfig): boolean {
  if (managedBy === undefined || managedBy === '' || managedBy === 'tekton.dev/pipeline') return true;
  return config.filter.managedBy.includes(managedBy);
}

/** Decides what to do with a run now. `config` undefined = no valid config yet. */
export function decide(run: CachedRun, config: ChainsConfig | undefined): Decision {
  const ours = run.finalizers.includes(finalizerFor(run.kind));
  if (!config) return { action: 'none', why: 'no-config' };
  if (!managedByAllowed(run.managedBy, config)) {
    return ours ? { action: 'release', why: 'filtered' } : { action: 'none', why: 'filtered' };
  }
  if (!run.done) {
    // a run deleted before it finished is never signed; let it go (Chains does the same)
    if (run.deleting)
      return ours ? { action: 'release', why: 'deleted-before-done' } : { action: 'none', why: 'not-done' };
    if (!ours && !isReconciled(run.annotations) && enabledTypesFor(run.kind, config).length > 0)
      return { action: 'protect' };
    return { action: 'none', why: 'not-done' };
  }
  if (isReconciled(run.annotations)) {
    // a Chains-era finalizer on a signed run is removed only when the run is being deleted: touching every
    // historical run at start-up would cost one write each for nothing
    return run.deleting && ours ? { action: 'release', why: 'reconciled' } : { action: 'none', why: 'reconciled' };
  }
  if (enabledTypesFor(run.kind, config).length === 0) return { action: 'disabled' };
  return { action: 'sign' };
}

/**
 * Whether a PipelineRun may stop waiting for this child TaskRun (spec §1.4): it is signed or failed, or it
 * will never be signed by us (filtered out, or TaskRun signing disabled).
 */
export function childSettled(child: CachedRun, config: ChainsConfig): boolean {
  if (isReconciled(child.annotations)) return true;
  const d = decide(child, config);
  if (d.action === 'disabled') return true;
  if (d.action === 'none' && d.why === 'filtered') return true;
  if (d.action === 'release' && (d.why === 'filtered' || d.why === 'disabled')) return true;
  return false;
}
