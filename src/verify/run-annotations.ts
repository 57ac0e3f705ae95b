// `verify-run`: checks what the `tekton` storage backend wrote on a run (chains-behaviour.md §1.6, §4.1, §5.6):
// for the run attestation (`payload-`/`signature-taskrun-<uid>`) the signature annotation is a DSSE envelope whose
// payload is the payload annotation, signed by the key; for each image (`…-<12 hex of the digest>`) the signature
// annotation is a raw signature over the simple-signing payload of that image (or, with the sigstore-bundle encoding,
// the DSSE envelope of a `cosign/sign/v1` statement about it).
// The signatures are checked by checks.ts (PAE and `crypto.verify` of @sigstore/core); the annotation layout and the
// binding of a statement to its run are Chains' and ours, so they are hand-written.
import type { KeyObject } from 'node:crypto';
import { parseEnvelope } from '../sigstore/dsse.js';
import { CHAINS_PREFIX, tektonAnnotationKeys } from '../tekton/annotations.js';
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
import { runIdentity, runIdentityChecks, type RunIdentity } from './run-identity.js';

/** The checks of one stored payload. */
export interface StoredEntry {
  shortKey: string;
  kind: 'run-attestation' | 'image-signature' | 'unknown';
  ok: boolean;
  checks: Check[];
  /** attestation subjects / signed image, `name@sha256:hex` */
  subjects: string[];
  predicateType?: string;
}

/** The answer for one run. */
export interface RunVerifyReport {
  run: string;
  kind: string;
  uid: string;
  verified: boolean;
  firstFailure?: string;
  entries: StoredEntry[];
}

const passedCheck = (name: string, detail: string): Check => ({ name, status: 'passed', detail });
const skippedCheck = (name: string, detail: string): Check => ({ name, status: 'skipped', detail });

const PAYLOAD_PREFIX = `${CHAINS_PREFIX}payload-`;

function decode(value: string | undefined): Buffer | undefined {
  return value === undefined || value === '' ? undefined : Buffer.from(value, 'base64');
}

/** Verifies every tekton-storage payload on the run; the run passes when there is at least one and all pass. */
export function verifyRunAnnotations(run: Run, key: KeyObject): RunVerifyReport {
  const annotations = run.metadata.annotations ?? {};
  const uid = run.metadata.uid ?? '';
  const ownKey = `${run.kind.toLowerCase()}-${uid}`;
  const identity = runIdentity(run);
  const entries: StoredEntry[] = [];
  const shortKeys = Object.keys(annotations)
    .filter((k) => k.startsWith(PAYLOAD_PREFIX))
    .map((k) => k.slice(PAYLOAD_PREFIX.length))
    .sort((a, b) => (a === ownKey ? -1 : b === ownKey ? 1 : a.localeCompare(b)));
  for (const shortKey of shortKeys) {
    const keys = tektonAnnotationKeys(shortKey);
    const payload = decode(annotations[keys.payload]);
    const signature = decode(annotations[keys.signature]);
    if (!payload || !signature) {
      entries.push({
        shortKey,
        kind: 'unknown',
        ok: false,
        subjects: [],
        checks: [
          {
            name: 'annotations',
            status: 'failed',
            detail: `${payload ? keys.signature : keys.payload} is missing or empty`,
          },
        ],
      });
      continue;
    }
    if (/^(taskrun|pipelinerun)-/.test(shortKey)) {
      entries.push(checkRunAttestation(shortKey, ownKey, payload, signature, key, identity));
    } else entries.push(checkImageEntry(shortKey, payload, signature, key));
  }
  const report: RunVerifyReport = {
    run: `${run.metadata.namespace ?? ''}/${run.metadata.name ?? ''}`,
    kind: run.kind,
    uid,
    verified: false,
    entries,
  };
  if (entries.length === 0) {
    report.firstFailure =
      `no ${PAYLOAD_PREFIX}* annotations: nothing was stored with the tekton backend ` +
      '(is the run signed, and is storage "tekton" enabled?)';
    return report;
  }
  const bad = entries.find((e) => !e.ok);
  if (bad) {
    const c = bad.checks.find((x) => x.status === 'failed');
    report.firstFailure = `${bad.shortKey}: ${c ? `${c.name}: ${c.detail}` : 'failed'}`;
  } else if (!entries.some((e) => e.kind === 'run-attestation')) {
    report.firstFailure = `no ${PAYLOAD_PREFIX}${ownKey} annotation: the run's own provenance is not stored on it`;
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
      ? { name: 'payload', status: 'passed', detail: 'the payload annotation is exactly the signed statement' }
      : {
          name: 'payload',
          status: 'failed',
          detail: 'the payload annotation differs from the statement inside the signed envelope',
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

function checkImageEntry(shortKey: string, payload: Buffer, signature: Buffer, key: KeyObject): StoredEntry {
  const statement = parseStatement(payload);
  if (typeof statement !== 'string' && statement.predicateType === COSIGN_SIGN_PREDICATE) {
    return checkCosignSignEntry(shortKey, payload, statement, signature, key);
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
): StoredEntry {
  const hex = statement.subject[0]?.digest.sha256 ?? '';
  const digest = `sha256:${hex}`;
  const checks = checkAttestation(shortKey, envelope, key, digest).checks.filter(
    (c) => c.name === 'envelope' || c.name === 'signature',
  );
  const env = parseEnvelope(envelope);
  checks.push(
    env !== undefined && env.payload.equals(payload)
      ? { name: 'payload', status: 'passed', detail: 'the payload annotation is exactly the signed statement' }
      : { name: 'payload', status: 'failed', detail: 'the payload annotation differs from the signed statement' },
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
