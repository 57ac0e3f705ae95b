// Whether a run's `chains.tekton.dev/signed: "true"` mark is backed by a signature of the configured key, read
// only from the run itself (so the controller can decide synchronously while it summarises a run, and `audit`
// can check thousands of runs from one list). Anyone who may edit a run can write the mark, `signed-at`, or a
// signature annotation; nobody without the key can write one of these two that verifies:
// 1. `chainsmith.dev/mark-signature`: chainsmith's signature (with the key that signs the run's artifacts) over
//    a canonical statement of kind, namespace, name, uid and `chainsmith.dev/signed-at`, written in the same
//    patch as the mark. Small and strongly bound: the UID is assigned by the API server and never reused.
// 2. `chains.tekton.dev/signature-<kind>-<uid>` (Chains' and our `tekton` storage, chains-behaviour.md §4.1): a
//    DSSE envelope that verifies with the key, whose statement is bound to this run (run-identity.ts). This is
//    how runs signed by Tekton Chains before a switch-over are recognised.
// PAE and the signature checks come from @sigstore/core through src/sigstore/dsse.ts; what is hand-written is the
// evidence itself (which annotations, the mark statement, the binding to the run) and its size limits.
import type { KeyObject } from 'node:crypto';
import { IN_TOTO_PAYLOAD_TYPE, pae, parseEnvelope, verifiesWithHashes } from '../sigstore/dsse.js';
import {
  MARK_SIGNATURE_ANNOTATION,
  runShortKey,
  SIGNED_AT_ANNOTATION,
  tektonAnnotationKeys,
} from '../tekton/annotations.js';
import type { Run } from '../tekton/types.js';
import { envelopeShapeProblem, parseStatement } from './checks.js';
import { runBindingProblem, runIdentity } from './run-identity.js';

/**
 * Largest evidence annotation read (the API server caps all of a run's annotations at 256 KiB together, so a
 * real one is never larger; the check keeps the work per run bounded even if a server allowed more).
 */
export const MAX_MARK_EVIDENCE_CHARS = 256 * 1024;

const MARK_STATEMENT_TYPE = 'chainsmith.dev/mark/v1';

/** The run fields a mark signature is bound to. */
export interface MarkedRun {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

/** The exact bytes a mark signature signs: a JSON array, so no field can run into the next. */
export function markStatement(run: MarkedRun, signedAt: string): Buffer {
  const fields = [MARK_STATEMENT_TYPE, run.kind, run.namespace, run.name, run.uid, signedAt];
  return Buffer.from(JSON.stringify(fields), 'utf8');
}

/** The answer for one run: trusted (and by which annotation), or why not. */
export type MarkVerdict = { ok: true; via: string } | { ok: false; why: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const MARK_HASHES = ['sha256', 'sha384', 'sha512'];

/**
 * A signature by any of `keys` over `message`. RSA and ECDSA signatures are tried with SHA-256/384/512 because
 * the signer picks the hash by key (cosign.key P-384 → SHA-384, KMS keys by their algorithm); all three are
 * collision resistant, so accepting any of them accepts nothing a single hash would not.
 */
export function verifiesWithAny(keys: readonly KeyObject[], message: Buffer, signature: Buffer): boolean {
  return keys.some((key) =>
    verifiesWithHashes(key, message, signature, key.asymmetricKeyType === 'ed25519' ? [undefined] : MARK_HASHES),
  );
}

function decodeEvidence(value: string, name: string): Buffer | string {
  if (value.length > MAX_MARK_EVIDENCE_CHARS) {
    return `${name} is ${value.length} characters (at most ${MAX_MARK_EVIDENCE_CHARS} are read)`;
  }
  if (!BASE64.test(value)) return `${name} is not base64`;
  return Buffer.from(value, 'base64');
}

function checkMarkSignature(run: Run, a: Record<string, string>, keys: readonly KeyObject[]): MarkVerdict | undefined {
  const value = a[MARK_SIGNATURE_ANNOTATION];
  if (value === undefined) return undefined;
  const signedAt = a[SIGNED_AT_ANNOTATION];
  if (signedAt === undefined) {
    return { ok: false, why: `${MARK_SIGNATURE_ANNOTATION} without ${SIGNED_AT_ANNOTATION}` };
  }
  const sig = decodeEvidence(value, MARK_SIGNATURE_ANNOTATION);
  if (typeof sig === 'string') return { ok: false, why: sig };
  const id = runIdentity(run);
  return verifiesWithAny(keys, markStatement(id, signedAt), sig)
    ? { ok: true, via: MARK_SIGNATURE_ANNOTATION }
    : {
        ok: false,
        why: `${MARK_SIGNATURE_ANNOTATION} does not verify with the key for this run (another key, or another run's)`,
      };
}

type EvidenceCheck = (run: Run, a: Record<string, string>, keys: readonly KeyObject[]) => MarkVerdict | undefined;

const checkStoredProvenance: EvidenceCheck = (run, a, keys) => {
  const uid = run.metadata.uid ?? '';
  const name = tektonAnnotationKeys(runShortKey(run.kind, uid)).signature;
  const value = a[name];
  if (value === undefined || uid === '') return undefined;
  const bytes = decodeEvidence(value, name);
  if (typeof bytes === 'string') return { ok: false, why: bytes };
  const shape = envelopeShapeProblem(bytes);
  const env = shape === undefined ? parseEnvelope(bytes) : undefined;
  if (!env) return { ok: false, why: `${name}: ${shape ?? 'not a DSSE envelope'}` };
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return { ok: false, why: `${name}: payloadType is not ${IN_TOTO_PAYLOAD_TYPE}` };
  }
  const message = pae(env.payloadType, env.payload);
  if (!env.signatures.some((s) => verifiesWithAny(keys, message, s.sig))) {
    return { ok: false, why: `${name} does not verify with the key for this run` };
  }
  const statement = parseStatement(env.payload);
  if (typeof statement === 'string') return { ok: false, why: `${name}: ${statement}` };
  const problem = runBindingProblem(statement, runIdentity(run));
  return problem ? { ok: false, why: `${name} is another run's provenance: ${problem}` } : { ok: true, via: name };
};

/** Checks the evidence of a run's signed mark against the keys that may have signed it. Never throws. */
export function verifyMark(run: Run, keys: readonly KeyObject[]): MarkVerdict {
  const a = run.metadata.annotations ?? {};
  const verdicts: MarkVerdict[] = [];
  for (const check of [checkMarkSignature, checkStoredProvenance]) {
    let v: MarkVerdict | undefined;
    try {
      v = check(run, a, keys);
    } catch {
      // an evidence shape no check foresaw: not trusted (the run is signed again), never a crash
      v = { ok: false, why: 'unreadable signature annotation' };
    }
    if (v?.ok) return v;
    if (v) verdicts.push(v);
  }
  if (verdicts.length === 0) {
    const kind = run.kind.toLowerCase();
    const stored = `chains.tekton.dev/signature-${kind}-<uid>`;
    return { ok: false, why: `no ${MARK_SIGNATURE_ANNOTATION} and no ${stored} on the run` };
  }
  return { ok: false, why: verdicts.map((v) => (v.ok ? '' : v.why)).join('; ') };
}
