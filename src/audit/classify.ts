// Which of four states a completed run is in, for `chainsmith audit`, read only from what the controller leaves on
// the run (annotations, chains-behaviour.md §1.6–§1.7, plus ours: `chainsmith.dev/signed-at`, `last-failure`) and
// the Events it records (src/observability/events.ts). Pure: the listing and the clock come from outside.
import {
  isDecisionAnnotation,
  LAST_FAILURE_ANNOTATION,
  MARK_SIGNATURE_ANNOTATION,
  POLICY_SIGNER_ANNOTATION,
  RETRIES_ANNOTATION,
  SIGNED_ANNOTATION,
  SIGNED_AT_ANNOTATION,
  SIGNING_POLICY_ANNOTATION,
} from '../tekton/annotations.js';
import type { SigningIdentity } from './identity.js';

/**
 * `unverified`: marked `signed: "true"`, but no stored signature verifies with the key audit was given.
 * `unlogged`: marked `signed: "true"`, but without a transparency-log entry although the current chains-config
 * uploads this run's signatures.
 */
export type RunState = 'signed' | 'unverified' | 'unlogged' | 'failed' | 'skipped' | 'pending';

/** What audit keeps of a run (small: 10,000 runs must fit comfortably; no payload annotations). */
export interface RunSummary {
  kind: 'TaskRun' | 'PipelineRun';
  namespace: string;
  name: string;
  uid: string;
  done: boolean;
  completionTime?: string;
  managedBy?: string;
  /** only `chains.tekton.dev/signed`, `…/retries` and `chainsmith.dev/*` */
  annotations: Record<string, string>;
  /** signed runs, when audit was given a key: whether the mark's stored signature verifies (src/verify/mark.ts) */
  mark?: { verified: true; via: string } | { verified: false; why: string };
  /**
   * signed runs, when audit was given chains-config: set when the config uploads this run's signatures to the
   * transparency log (`transparency.enabled: true`, or `manual` and `chains.tekton.dev/transparency-upload: "true"`)
   * and the run has no `chains.tekton.dev/transparency` annotation
   */
  tlogMissing?: { mode: 'true' | 'manual' };
  /** keyless: the SAN and issuer of the certificate stored on the run (`chains.tekton.dev/cert-<key>`) */
  signer?: SigningIdentity;
  /** signed runs, with `audit --from BACKEND`: whether the provenance read back from that backend verifies */
  stored?: { backend: string; verified: true } | { backend: string; verified: false; why: string };
}

/** A chainsmith Event about a run. */
export interface RunEvent {
  reason: string;
  note: string;
  type: string;
  /** RFC 3339 */
  time: string;
}

/** One classified run. */
export interface AuditEntry {
  kind: RunSummary['kind'];
  namespace: string;
  name: string;
  state: RunState;
  /** why failed / skipped, in one line */
  reason?: string;
  completionTime?: string;
  signedAt?: string;
  /** completion → signed, seconds (runs signed by chainsmith only) */
  signLatencySeconds?: number;
  /** pending: seconds since completion */
  ageSeconds?: number;
  /** keyless: who the stored certificate names (read from the annotation, not verified) */
  signer?: SigningIdentity;
  /** the SigningPolicy the run was signed under, `<namespace>/<name>` (`chainsmith.dev/signing-policy`) */
  policy?: string;
  /** its signer: `secret/<name>`, `kms/<ref>` or `keyless/<namespace>/<sa>` (`chainsmith.dev/policy-signer`) */
  policySigner?: string;
}

/** Event reasons that mean "this run was deliberately not signed". */
const SKIP_REASONS = new Set(['NoArtifacts', 'SigningDisabled', 'DeletedBeforeSigned']);
/** Event reasons that carry a failure. */
const FAILURE_REASONS = new Set([
  'SigningFailed',
  'StorageFailed',
  'TransparencyFailed',
  'KeylessFailed',
  'PayloadFailed',
  'InvalidResult',
  'MarkedFailed',
  'ChildRunMissing',
  // the run's SigningPolicy is not granted or invalid, or two policies select it (docs/signing-policies.md)
  'PolicyRefused',
  'PolicyConflict',
]);

/** The failure reasons that mean "not signed because of its SigningPolicy", not "signed under chains-config". */
export type PolicyFailure = 'PolicyRefused' | 'PolicyConflict';

/** The policy failure a failed run was left with (its reason, as classifyRun writes it), if any. */
export function policyFailureOf(entry: AuditEntry): PolicyFailure | undefined {
  if (entry.state !== 'failed' || !entry.reason) return undefined;
  // `<Reason>: …`, or `retrying after N failed attempt(s): <Reason>: …`
  const m = /^(?:retrying[^:]*: )?(PolicyRefused|PolicyConflict):/.exec(entry.reason);
  return m ? (m[1] as PolicyFailure) : undefined;
}

/** Keeps the annotations classification reads. */
export function decisionAnnotations(all: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all ?? {})) {
    if (k === MARK_SIGNATURE_ANNOTATION) continue; // checked while summarising (cluster.ts), not needed after
    if (isDecisionAnnotation(k)) out[k] = v;
  }
  return out;
}

function latest(events: RunEvent[], reasons: Set<string>): RunEvent | undefined {
  let best: RunEvent | undefined;
  for (const e of events) if (reasons.has(e.reason) && (!best || e.time > best.time)) best = e;
  return best;
}

/**
 * Classifies a completed run (undefined for runs still running). `managedByAllowed` is the controller's own
 * filter (src/controller/decide.ts) under the cluster's chains-config.
 */
export function classifyRun(
  run: RunSummary,
  events: RunEvent[],
  opts: { now: number; managedByAllowed: (managedBy: string | undefined) => boolean },
): AuditEntry | undefined {
  if (!run.done) return undefined;
  const a = run.annotations;
  const entry: AuditEntry = { kind: run.kind, namespace: run.namespace, name: run.name, state: 'pending' };
  if (run.completionTime) entry.completionTime = run.completionTime;
  if (run.signer) entry.signer = run.signer;
  // the policy's namespace is the run's (a SigningPolicy only selects runs of its own namespace)
  const policy = a[SIGNING_POLICY_ANNOTATION];
  if (policy) entry.policy = `${run.namespace}/${policy}`;
  if (a[POLICY_SIGNER_ANNOTATION]) entry.policySigner = a[POLICY_SIGNER_ANNOTATION];
  const signed = a[SIGNED_ANNOTATION];
  const lastFailure = a[LAST_FAILURE_ANNOTATION];

  if (signed === 'true' && run.mark?.verified === false) {
    // anyone who may edit the run can write the mark: without a verifying signature it proves nothing
    entry.state = 'unverified';
    entry.reason = `marked signed, but the mark is not backed by a valid signature: ${run.mark.why}`;
    return entry;
  }
  if (signed === 'true' && run.stored?.verified === false) {
    entry.state = 'unverified';
    const { backend, why } = run.stored;
    entry.reason = `marked signed, but its provenance read back from ${backend} does not verify: ${why}`;
    return entry;
  }
  if (signed === 'true') {
    entry.state = 'signed';
    const at = a[SIGNED_AT_ANNOTATION];
    if (at) {
      entry.signedAt = at;
      const done = run.completionTime ? Date.parse(run.completionTime) : NaN;
      const latency = (Date.parse(at) - done) / 1000;
      if (Number.isFinite(latency)) entry.signLatencySeconds = Math.max(0, latency);
    }
    if (run.tlogMissing) {
      // signed before transparency was turned on, by a controller without it, or the mark was written by hand
      entry.state = 'unlogged';
      const why =
        run.tlogMissing.mode === 'manual'
          ? 'transparency.enabled is "manual" and the run asks for it (chains.tekton.dev/transparency-upload: "true")'
          : 'transparency.enabled is "true"';
      entry.reason = `signed, but no transparency-log entry (no chains.tekton.dev/transparency annotation); ${why}`;
    }
    return entry;
  }
  if (signed === 'failed') {
    entry.state = 'failed';
    const ev = latest(events, FAILURE_REASONS);
    entry.reason =
      lastFailure ??
      (ev
        ? `${ev.reason}: ${ev.note}`
        : 'marked failed after the retry limit (no reason recorded; Tekton Chains does not record one)');
    return entry;
  }
  if (!opts.managedByAllowed(run.managedBy)) {
    entry.state = 'skipped';
    entry.reason = `filtered: spec.managedBy is "${run.managedBy}", not in chains-config filter.managedBy`;
    return entry;
  }
  const skip = latest(events, SKIP_REASONS);
  const failure = latest(events, FAILURE_REASONS);
  if (skip && (!failure || skip.time >= failure.time) && lastFailure === undefined) {
    entry.state = 'skipped';
    entry.reason = `${skip.reason}: ${skip.note}`;
    return entry;
  }
  if (lastFailure !== undefined || a[RETRIES_ANNOTATION] !== undefined) {
    entry.state = 'failed';
    const attempts =
      a[RETRIES_ANNOTATION] !== undefined && /^\d+$/.test(a[RETRIES_ANNOTATION]!)
        ? Number(a[RETRIES_ANNOTATION]) + 1
        : undefined;
    const why = lastFailure ?? (failure ? `${failure.reason}: ${failure.note}` : 'no reason recorded');
    entry.reason = `retrying${attempts ? ` after ${attempts} failed attempt(s)` : ''}: ${why}`;
    return entry;
  }
  if (run.completionTime) entry.ageSeconds = Math.max(0, (opts.now - Date.parse(run.completionTime)) / 1000);
  return entry;
}
