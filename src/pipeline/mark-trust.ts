// Which `signed: "true"` marks the controller believes (src/verify/mark.ts has the checks), and the evidence it
// writes with its own marks. Design, and why:
// - A mark is trusted iff a signature stored on the run verifies with the public key of the signer configured
//   for the run's kind (the signer of its first enabled artifact type) and is bound to this run: chainsmith's
//   `chainsmith.dev/mark-signature`, or Chains'/our `tekton` storage signature of the run's provenance. An
//   untrusted mark is ignored: the run is signed (again) like an unsigned one.
// - chainsmith writes the mark signature with every mark, whatever the storage: it is the only evidence for
//   `oci`-only configs, and SLSA v0.2 statements do not record the run's uid, so the `tekton` signature binds a
//   v0.2 run only by kind and times. Cost: one more signature per run (a KMS round trip with a KMS signer).
// - Verification happens when a run is summarised (initial list, each watch event, our re-reads): the cache
//   keeps only the verdict. ECDSA verification is ~0.1 ms; bench/mark-verify.ts measures a 5,000-run start-up.
// - The public keys are read once per config or key-file change (KMS: fetched once by the signer registry).
// - Key rotation: marks made with the old key no longer verify, so those runs are signed again with the new
//   key when they are next summarised (at start-up, all of them). That is what `chainsmith resign` does after
//   a rotation anyway, and the alternative — trusting marks we cannot check — is the hole this closes. A
//   rotation therefore re-signs the history that is still in the cluster (docs/reliability.md).
// - `signer: none` for every artifact type of a kind: nothing would be signed, so there is nothing to check
//   against and nothing to do differently; marks on such runs are left as they are.
// - Keyless (Fulcio): there is no stable key, so marks are judged by the evidence test below, as when the key cannot
//   be read, and no mark signature is written (it would need a Fulcio certificate of its own). docs/compatibility.md.
// - Key not loadable (KMS down at start-up, bad Secret): we cannot tell good marks from forged ones, and
//   re-signing would fail and mark history `failed`. Marks are then trusted on the old evidence test
//   (`signedMarkTrusted`) and a warning says so; the next config or key change re-reads the key.
import type { KeyObject } from 'node:crypto';
import type { ChainsConfig } from '../config/types.js';
import { messageOf } from '../errors.js';
import type { Signer } from '../signing/signer.js';
import type { Run } from '../tekton/types.js';
import { enabledTypesFor } from '../config/parse.js';
import {
  MARK_SIGNATURE_ANNOTATION,
  runShortKey,
  SIGNED_AT_ANNOTATION,
  tektonAnnotationKeys,
  type RunKind,
} from '../tekton/annotations.js';
import { markStatement, verifyMark, type MarkedRun } from '../verify/mark.js';
import { formatSignedAt } from './marking.js';

/** Decides whether a run's `signed: "true"` mark is believed (the controller's: MarkVerifier below). */
export interface MarkTrust {
  trusted(run: Run): boolean;
}

/**
 * The evidence test alone, with no key to check it: `chainsmith.dev/signed-at`, or a stored signature annotation
 * for this run's UID (`chains.tekton.dev/signature-<kind>-<uid>`). Anyone who may edit the run can write either,
 * so the controller uses it only while the signer's key cannot be read (mark-trust.ts); with a key, the stored
 * signature itself is verified (src/verify/mark.ts). A run *created* with the mark has neither.
 */
export function signedMarkTrusted(run: Run): boolean {
  const a = run.metadata.annotations ?? {};
  if (a[SIGNED_AT_ANNOTATION] !== undefined) return true;
  const uid = run.metadata.uid;
  return uid !== undefined && a[tektonAnnotationKeys(runShortKey(run.kind, uid)).signature] !== undefined;
}

/** The evidence test as a MarkTrust: the default where no verifier is given (tools, tests). */
export const EVIDENCE_ONLY: MarkTrust = { trusted: signedMarkTrusted };

/** How long start-up waits for a signer's public key before falling back (a KMS may be slow or down). */
export const MARK_KEY_TIMEOUT_MS = 15_000;

/** What the marks of one kind are checked against. */
export type MarkKeys =
  { mode: 'keys'; keys: KeyObject[]; signer: string } | { mode: 'none' } | { mode: 'unavailable'; why: string };

type SignerFor = (name: 'x509' | 'kms', config: ChainsConfig) => Promise<Signer>;

/** The signer that signs (and so marks) runs of this kind: the one of its first enabled artifact type. */
export function markSignerName(kind: RunKind, config: ChainsConfig): 'x509' | 'kms' | undefined {
  for (const type of enabledTypesFor(kind, config)) {
    const signer = config.artifacts[type].signer;
    if (signer !== 'none') return signer;
  }
  return undefined;
}

/**
 * The annotations that go with a `signed: "true"` mark: `chainsmith.dev/signed-at` and the mark signature over
 * it. Throws when the signer fails: a mark without its signature would not be trusted, and the run would be
 * signed again and again.
 */
export async function markEvidence(
  run: MarkedRun & { kind: RunKind },
  config: ChainsConfig,
  signerFor: SignerFor,
  now: Date,
): Promise<Record<string, string>> {
  const signedAt = formatSignedAt(now);
  const name = markSignerName(run.kind, config);
  if (!name) return { [SIGNED_AT_ANNOTATION]: signedAt };
  const signer = await signerFor(name, config);
  // keyless: no stable key to check a mark signature against later (and it would cost a Fulcio certificate)
  if (signer.keyless) return { [SIGNED_AT_ANNOTATION]: signedAt };
  const signature = await signer.sign(markStatement(run, signedAt));
  return { [SIGNED_AT_ANNOTATION]: signedAt, [MARK_SIGNATURE_ANNOTATION]: signature.toString('base64') };
}

/** The controller's mark check: per kind, the configured signer's public key (see the design above). */
export class MarkVerifier implements MarkTrust {
  private readonly state: Record<RunKind, MarkKeys> = {
    TaskRun: { mode: 'unavailable', why: 'keys not loaded yet' },
    PipelineRun: { mode: 'unavailable', why: 'keys not loaded yet' },
  };
  private generation = 0;

  /** What marks of this kind are checked against now. */
  keysFor(kind: RunKind): MarkKeys {
    return this.state[kind];
  }

  set(kind: RunKind, keys: MarkKeys): void {
    this.state[kind] = keys;
  }

  trusted(run: Run): boolean {
    const s = this.state[run.kind];
    if (s.mode === 'none') return true;
    if (s.mode === 'unavailable') return signedMarkTrusted(run);
    return verifyMark(run, s.keys).ok;
  }

  /**
   * Reads the public keys of the signers `config` uses (each at most `timeoutMs`); returns, per kind, what the
   * marks are now checked against, for the log.
   */
  async refresh(
    config: ChainsConfig,
    signerFor: SignerFor,
    timeoutMs = MARK_KEY_TIMEOUT_MS,
  ): Promise<Record<RunKind, MarkKeys>> {
    const loaded = new Map<string, Promise<MarkKeys>>();
    const load = (name: 'x509' | 'kms'): Promise<MarkKeys> => {
      let p = loaded.get(name);
      if (!p) loaded.set(name, (p = keysOf(name, config, signerFor, timeoutMs)));
      return p;
    };
    const generation = ++this.generation;
    const next = { ...this.state };
    for (const kind of ['TaskRun', 'PipelineRun'] as const) {
      const name = markSignerName(kind, config);
      next[kind] = name ? await load(name) : { mode: 'none' };
    }
    // a newer refresh (config changed again meanwhile) wins, whichever finishes first
    if (generation === this.generation) Object.assign(this.state, next);
    return next;
  }
}

async function keysOf(
  name: 'x509' | 'kms',
  config: ChainsConfig,
  signerFor: SignerFor,
  timeoutMs: number,
): Promise<MarkKeys> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    const signer = await Promise.race([signerFor(name, config), timeout]);
    if (signer.keyless)
      return {
        mode: 'unavailable',
        why: 'keyless signing: every signature has its own ephemeral key, so marks are judged by their evidence',
      };
    return { mode: 'keys', keys: [signer.publicKey()], signer: signer.description };
  } catch (err) {
    return { mode: 'unavailable', why: `the ${name} signer's public key could not be read: ${messageOf(err)}` };
  } finally {
    clearTimeout(timer);
  }
}
