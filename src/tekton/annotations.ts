// Every annotation, label and finalizer key chainsmith reads or writes on a run, in one place: Chains' own
// (`chains.tekton.dev/*`, chains-behaviour.md §1.6–§1.7 and §4.1, spelled exactly as Chains spells them so the two
// controllers can hand a cluster over) and chainsmith's additions (`chainsmith.dev/*`, docs/auditing.md).

export type RunKind = 'TaskRun' | 'PipelineRun';

/** Chains' prefix: every key Chains owns on a run starts with it. */
export const CHAINS_PREFIX = 'chains.tekton.dev/';
/** chainsmith's prefix for its own bookkeeping. */
export const CHAINSMITH_PREFIX = 'chainsmith.dev/';

/** `"true"` once every configured signature is stored, `"failed"` after the last retry (Chains' values). */
export const SIGNED_ANNOTATION = `${CHAINS_PREFIX}signed`;
/** Chains' retry counter. */
export const RETRIES_ANNOTATION = `${CHAINS_PREFIX}retries`;
/** Where the run's last transparency-log entry is: `<transparency.url>/api/v1/log/entries?logIndex=<N>` (Chains). */
export const TRANSPARENCY_ANNOTATION = `${CHAINS_PREFIX}transparency`;
/** A user's opt-in to upload when `transparency.enabled` is `manual` (read only, never written). */
export const TRANSPARENCY_UPLOAD_ANNOTATION = `${CHAINS_PREFIX}transparency-upload`;
/** The label that sets `metadata.reproducible` in in-toto provenance. */
export const REPRODUCIBLE_LABEL = `${CHAINS_PREFIX}reproducible`;
export const TASKRUN_FINALIZER = `${CHAINS_PREFIX}taskrun`;
export const PIPELINERUN_FINALIZER = `${CHAINS_PREFIX}pipelinerun`;

/** When chainsmith marked the run (RFC 3339, UTC, whole seconds). */
export const SIGNED_AT_ANNOTATION = `${CHAINSMITH_PREFIX}signed-at`;
/** chainsmith's signature over the mark (src/verify/mark.ts). */
export const MARK_SIGNATURE_ANNOTATION = `${CHAINSMITH_PREFIX}mark-signature`;
/** A one-line reason for the last failed attempt. */
export const LAST_FAILURE_ANNOTATION = `${CHAINSMITH_PREFIX}last-failure`;
/**
 * The SigningPolicy (of the run's namespace) a run was signed under; absent: `chains-config` alone
 * (docs/signing-policies.md).
 */
export const SIGNING_POLICY_ANNOTATION = `${CHAINSMITH_PREFIX}signing-policy`;
/**
 * With a SigningPolicy: the signer it signed with, `secret/<name>`, `kms/<ref>` or `keyless/<namespace>/<sa>`
 * (absent: chains-config's signer).
 */
export const POLICY_SIGNER_ANNOTATION = `${CHAINSMITH_PREFIX}policy-signer`;
/** The `reportingController` of chainsmith's Events. */
export const CHAINSMITH_CONTROLLER = `${CHAINSMITH_PREFIX}controller`;

/** The finalizer chainsmith (like Chains) puts on a run of this kind. */
export function finalizerFor(kind: RunKind): string {
  return kind === 'TaskRun' ? TASKRUN_FINALIZER : PIPELINERUN_FINALIZER;
}

/** The four `tekton` storage keys for one short key (`taskrun-<uid>`, `pipelinerun-<uid>`; §4.1). */
export function tektonAnnotationKeys(shortKey: string): {
  payload: string;
  signature: string;
  cert: string;
  chain: string;
} {
  return {
    payload: `${CHAINS_PREFIX}payload-${shortKey}`,
    signature: `${CHAINS_PREFIX}signature-${shortKey}`,
    cert: `${CHAINS_PREFIX}cert-${shortKey}`,
    chain: `${CHAINS_PREFIX}chain-${shortKey}`,
  };
}

/** The `tekton` storage short key of a run: `<kind>-<uid>`, lower-case kind. */
export function runShortKey(kind: RunKind, uid: string): string {
  return `${kind.toLowerCase()}-${uid}`;
}

/** The keys chainsmith keeps in its run cache and shows in `audit`: the mark, the retry counter and its own. */
export function isDecisionAnnotation(key: string): boolean {
  return key === SIGNED_ANNOTATION || key === RETRIES_ANNOTATION || key.startsWith(CHAINSMITH_PREFIX);
}
