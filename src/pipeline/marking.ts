// The bodies of every write chainsmith makes to a run: JSON merge patches carrying `metadata.resourceVersion`
// as an optimistic-concurrency precondition (a stale view gets 409 and is re-read, never overwrites). Merge
// patches replace `finalizers` whole, which is why the precondition matters. Fast path: two writes per run —
// `addFinalizerPatch`, then `finishPatch` (all annotations + signed mark + finalizer removal at once).
import {
  finalizerFor,
  LAST_FAILURE_ANNOTATION,
  RETRIES_ANNOTATION,
  SIGNED_ANNOTATION,
  SIGNED_AT_ANNOTATION,
  type RunKind,
} from '../tekton/annotations.js';

/** `chainsmith.dev/signed-at`'s format: RFC 3339, UTC, whole seconds. */
export function formatSignedAt(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The parts of a run's metadata a patch is computed from. */
export interface PatchBase {
  kind: RunKind;
  resourceVersion: string;
  finalizers: string[];
}

/** A merge patch body. `null` values delete keys. */
export interface MergePatch {
  metadata: {
    resourceVersion: string;
    annotations?: Record<string, string | null>;
    finalizers?: string[];
  };
}

function withoutOurFinalizer(base: PatchBase): string[] | undefined {
  const ours = finalizerFor(base.kind);
  return base.finalizers.includes(ours) ? base.finalizers.filter((f) => f !== ours) : undefined;
}

/** Adds our finalizer (keeping everyone else's). */
export function addFinalizerPatch(base: PatchBase): MergePatch {
  const ours = finalizerFor(base.kind);
  return {
    metadata: {
      resourceVersion: base.resourceVersion,
      finalizers: [...base.finalizers.filter((f) => f !== ours), ours],
    },
  };
}

/** Removes our finalizer and writes nothing else. */
export function releasePatch(base: PatchBase): MergePatch {
  return {
    metadata: { resourceVersion: base.resourceVersion, finalizers: withoutOurFinalizer(base) ?? base.finalizers },
  };
}

/**
 * The one patch that ends a successful reconcile: every stored annotation, `signed: "true"` when `signed`,
 * `chainsmith.dev/signed-at`, the retry bookkeeping cleared, and our finalizer removed. A `signed-at` already among
 * the annotations is kept: the mark signature (mark-evidence.ts) covers it, also when a conflict re-sends the patch.
 */
export function finishPatch(
  base: PatchBase,
  opts: { annotations: Record<string, string>; signed: boolean; now: Date },
): MergePatch {
  const annotations: Record<string, string | null> = { ...opts.annotations };
  if (opts.signed) {
    annotations[SIGNED_ANNOTATION] = 'true';
    annotations[SIGNED_AT_ANNOTATION] = opts.annotations[SIGNED_AT_ANNOTATION] ?? formatSignedAt(opts.now);
    annotations[LAST_FAILURE_ANNOTATION] = null;
  }
  const patch: MergePatch = { metadata: { resourceVersion: base.resourceVersion } };
  if (Object.keys(annotations).length > 0) patch.metadata.annotations = annotations;
  const finalizers = withoutOurFinalizer(base);
  if (finalizers) patch.metadata.finalizers = finalizers;
  return patch;
}

/** Records a counted failure; on give-up (`signed: "failed"`) also lets the run go. */
export function failurePatch(base: PatchBase, annotations: Record<string, string>, giveUp: boolean): MergePatch {
  const patch: MergePatch = { metadata: { resourceVersion: base.resourceVersion, annotations } };
  const finalizers = giveUp ? withoutOurFinalizer(base) : undefined;
  if (finalizers) patch.metadata.finalizers = finalizers;
  return patch;
}

/** Re-arms a run marked `failed`: clears the mark, the retry counter and the last failure. */
export function rearmPatch(base: PatchBase): MergePatch {
  return {
    metadata: {
      resourceVersion: base.resourceVersion,
      annotations: { [SIGNED_ANNOTATION]: null, [RETRIES_ANNOTATION]: null, [LAST_FAILURE_ANNOTATION]: null },
    },
  };
}
