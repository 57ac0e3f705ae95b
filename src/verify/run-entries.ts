// The checks of what a storage backend stored for a run (chains-behaviour.md §1.6, §4.1, §5.6), the same for every
// backend (the entries come from src/storage/read/*): for the run attestation (`<kind>-<uid>`) the signature is a DSSE
// envelope whose payload is the stored payload, signed by the key, and whose statement names this run; for each image
// (`<12 hex of the digest>`) the signature is a raw signature over the simple-signing payload of that image (or, with
// the sigstore-bundle encoding, the DSSE envelope of a `cosign/sign/v1` statement about it).
// The signatures are checked by checks.ts (PAE and `crypto.verify` of @sigstore/core); the layout and the binding of a
// statement to its run are Chains' and ours, so they are hand-written.
import type { KeyObject } from 'node:crypto';
import { parseEnvelope } from '../sigstore/dsse.js';
import type { StoredSignature } from '../storage/read/types.js';
import type { Run } from '../tekton/types.js';
import {
  checkAttestation,
  checkSimpleSigning,
  listSubjects,
  parseSimpleSigning,
  parseStatement,
  subjectText,
  type Check,
  type Statement,
} from './checks.js';
import { COSIGN_SIGN_PREDICATE } from '../formats/cosign-sign.js';
import { runBindingProblem, runIdentity, runIdentityChecks, type RunIdentity } from './run-identity.js';

/** The checks of one stored payload. */
export interface StoredEntry {
  shortKey: string;
  kind: 'run-attestation' | 'image-signature' | 'unknown';
  ok: boolean;
  checks: Check[];
  /** attestation subjects / signed image, `name@sha256:hex` */
  subjects: string[];
  predicateType?: string;
  /** where it was read (an annotation, an object, a document, a record) */
  where?: string;
}

/** The answer for one run. */
export interface RunVerifyReport {
  run: string;
  kind: string;
  uid: string;
  verified: boolean;
  firstFailure?: string;
  /** the backend the entries were read from (`tekton`, `gcs`, …) and where */
  from?: { backend: string; location: string };
  entries: StoredEntry[];
}

/** Where the entries came from, and what to say when there are none. */
export interface EntrySource {
  backend: string;
  location: string;
  /** the reason given when nothing was stored for the run */
  nothingStored: string;
}

const passedCheck = (name: string, detail: string): Check => ({ name, status: 'passed', detail });
const skippedCheck = (name: string, detail: string): Check => ({ name, status: 'skipped', detail });

/** True when `statement` (signed bytes) is an in-toto statement whose run identity is this run's. */
export function statementOwnedBy(run: Run): (statement: Buffer) => boolean {
  const identity = runIdentity(run);
  return (bytes) => {
    const statement = parseStatement(bytes);
    return typeof statement !== 'string' && runBindingProblem(statement, identity) === undefined;
  };
}

/** Verifies the stored entries of one run; the run passes when there is at least one, all pass, one is its own. */
export function verifyRunEntries(
  run: Run,
  stored: readonly StoredSignature[],
  key: KeyObject,
  source: EntrySource,
): RunVerifyReport {
  const uid = run.metadata.uid ?? '';
  const ownKey = `${run.kind.toLowerCase()}-${uid}`;
  const identity = runIdentity(run);
  // how the reports name the stored payload: Chains' annotation, or the object/document/record of another backend
  const payloadName = source.backend === 'tekton' ? 'the payload annotation' : 'the stored payload';
  const entries: StoredEntry[] = [];
  for (const s of stored) {
    let entry: StoredEntry;
    if (s.problem !== undefined) {
      entry = {
        shortKey: s.shortKey,
        kind: 'unknown',
        ok: false,
        subjects: [],
        checks: [{ name: source.backend === 'tekton' ? 'annotations' : 'stored', status: 'failed', detail: s.problem }],
      };
    } else if (/^(taskrun|pipelinerun)-/.test(s.shortKey)) {
      entry = checkRunAttestation(s.shortKey, ownKey, s.payload, s.signature, key, identity, payloadName);
    } else entry = checkImageEntry(s.shortKey, s.payload, s.signature, key, payloadName);
    if (source.backend !== 'tekton') entry.where = s.where;
    entries.push(entry);
  }
  const report: RunVerifyReport = {
    run: `${run.metadata.namespace ?? ''}/${run.metadata.name ?? ''}`,
    kind: run.kind,
    uid,
    verified: false,
    entries,
  };
  if (source.backend !== 'tekton') report.from = { backend: source.backend, location: source.location };
  if (entries.length === 0) {
    report.firstFailure = source.nothingStored;
    return report;
  }
  const bad = entries.find((e) => !e.ok);
  if (bad) {
    const c = bad.checks.find((x) => x.status === 'failed');
    report.firstFailure = `${bad.shortKey}: ${c ? `${c.name}: ${c.detail}` : 'failed'}`;
  } else if (!entries.some((e) => e.kind === 'run-attestation')) {
    report.firstFailure =
      source.backend === 'tekton'
        ? `no chains.tekton.dev/payload-${ownKey} annotation: the run's own provenance is not stored on it`
        : `no ${ownKey} in ${source.backend} (${source.location}): the run's own provenance is not stored there`;
  } else {
    report.verified = true;
  }
  return report;
}

/**
 * The run's own provenance: stored under this run's uid, signed by the key, the payload annotation equal to the
 * signed statement, and the signed statement's run identity (uid, kind, times; run-identity.ts) this run's —
 * so a payload and signature copied from another run (both valid!) are not taken for this run's provenance.
 */
function checkRunAttestation(
  shortKey: string,
  ownKey: string,
  payload: Buffer,
  envelope: Buffer,
  key: KeyObject,
  run: RunIdentity,
  payloadName: string,
): StoredEntry {
  const checks: Check[] = [];
  checks.push(
    shortKey === ownKey
      ? { name: 'owner', status: 'passed', detail: `stored under this run's uid` }
      : {
          name: 'owner',
          status: 'failed',
          detail: `stored for ${shortKey}, but this run is ${ownKey} (copied from another run?)`,
        },
  );
  // The envelope's signature: reuse the registry check, then drop its subject check (a run's provenance may
  // name no image at all) and its statement check (the statement is read below, from the signed bytes).
  const verdict = checkAttestation(shortKey, envelope, key, '');
  for (const c of verdict.checks) if (c.name !== 'subject' && c.name !== 'statement') checks.push(c);
  const env = parseEnvelope(envelope);
  const same = env !== undefined && env.payload.equals(payload);
  checks.push(
    same
      ? { name: 'payload', status: 'passed', detail: `${payloadName} is exactly the signed statement` }
      : {
          name: 'payload',
          status: 'failed',
          detail: `${payloadName} differs from the statement inside the signed envelope`,
        },
  );
  // identity and subjects are read from what was signed, not from the (editable) payload annotation
  const statement = parseStatement(env?.payload ?? payload);
  let subjects: string[] = [];
  if (typeof statement === 'string') {
    checks.push({ name: 'statement', status: 'failed', detail: statement });
  } else {
    checks.push(...runIdentityChecks(statement, run));
    subjects = statement.subject.map(subjectText);
    checks.push(
      subjects.length > 0
        ? passedCheck('subjects', `${subjects.length} subject(s): ${listSubjects(statement.subject)}`)
        : skippedCheck('subjects', 'the provenance names no subjects (no artifacts found in the run results)'),
    );
  }
  const entry: StoredEntry = {
    shortKey,
    kind: 'run-attestation',
    ok: checks.every((c) => c.status !== 'failed'),
    checks,
    subjects,
  };
  if (typeof statement !== 'string') entry.predicateType = statement.predicateType;
  return entry;
}

function checkImageEntry(
  shortKey: string,
  payload: Buffer,
  signature: Buffer,
  key: KeyObject,
  payloadName: string,
): StoredEntry {
  const statement = parseStatement(payload);
  if (typeof statement !== 'string' && statement.predicateType === COSIGN_SIGN_PREDICATE) {
    return checkCosignSignEntry(shortKey, payload, statement, signature, key, payloadName);
  }
  const claims = parseSimpleSigning(payload);
  if (typeof claims === 'string') {
    return {
      shortKey,
      kind: 'unknown',
      ok: false,
      subjects: [],
      checks: [{ name: 'payload', status: 'failed', detail: claims }],
    };
  }
  const v = checkSimpleSigning(shortKey, payload, signature, key, {
    repository: claims.reference,
    digest: claims.digest,
  });
  const checks = v.checks.filter((c) => c.name === 'signature');
  const hex = claims.digest.replace(/^sha256:/, '');
  checks.push(
    hex.startsWith(shortKey)
      ? { name: 'digest', status: 'passed', detail: `signs ${claims.reference}@${claims.digest}` }
      : { name: 'digest', status: 'failed', detail: `stored under ${shortKey} but signs ${claims.digest}` },
  );
  return {
    shortKey,
    kind: 'image-signature',
    ok: checks.every((c) => c.status === 'passed'),
    checks,
    subjects: [`${claims.reference}@${claims.digest}`],
  };
}

/**
 * An image signature stored for `storage.oci.encoding-format: sigstore-bundle` (formats/cosign-sign.ts): the payload
 * annotation is a `cosign/sign/v1` statement and the signature annotation its DSSE envelope.
 */
function checkCosignSignEntry(
  shortKey: string,
  payload: Buffer,
  statement: Statement,
  envelope: Buffer,
  key: KeyObject,
  payloadName: string,
): StoredEntry {
  const hex = statement.subject[0]?.digest.sha256 ?? '';
  const digest = `sha256:${hex}`;
  const checks = checkAttestation(shortKey, envelope, key, digest).checks.filter(
    (c) => c.name === 'envelope' || c.name === 'signature',
  );
  const env = parseEnvelope(envelope);
  checks.push(
    env !== undefined && env.payload.equals(payload)
      ? { name: 'payload', status: 'passed', detail: `${payloadName} is exactly the signed statement` }
      : { name: 'payload', status: 'failed', detail: `${payloadName} differs from the signed statement` },
  );
  checks.push(
    hex !== '' && hex.startsWith(shortKey)
      ? { name: 'digest', status: 'passed', detail: `signs ${digest}` }
      : { name: 'digest', status: 'failed', detail: `stored under ${shortKey} but signs ${hex ? digest : 'nothing'}` },
  );
  return {
    shortKey,
    kind: 'image-signature',
    ok: checks.every((c) => c.status === 'passed'),
    checks,
    subjects: [digest],
  };
}
