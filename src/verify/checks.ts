// The checks behind `chainsmith verify` and `verify-run`, one pure function per kind of signed thing. They use
// the same DSSE and simple-signing code the controller signs with (src/sigstore/dsse.ts, src/formats/simplesigning.ts),
// so what we sign and what we check cannot drift. Signatures are checked by src/sigstore/dsse.ts (PAE and
// `crypto.verify` of @sigstore/core); what is hand-written here is what cosign checks beyond the signature
// (payloadType, subject digest, simple-signing claims), the policy checks, and the shape and size limits on what a
// registry or a run serves.
import type { KeyObject } from 'node:crypto';
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  verifyEnvelopeSignatures,
  verifySignature,
  type Envelope,
} from '../sigstore/dsse.js';
import { messageOf } from '../errors.js';
import { builderIdOf } from './predicate-types.js';

/** One check and its outcome; `detail` says why, in one line. */
export interface Check {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
}

/** The outcome of checking one stored signature or attestation. */
export interface LayerVerdict {
  /** where it came from, e.g. `127.0.0.1:5000/app:sha256-….sig layer 1` */
  source: string;
  /** signature valid and about this image (the authenticity part; policy checks are separate) */
  authentic: boolean;
  checks: Check[];
  /** attestations: the statement's predicateType and builder id, when readable */
  predicateType?: string;
  builderId?: string;
  /** keyless: the identity (certificate SANs) and OIDC issuer of the signing certificate */
  signer?: { identity: string; issuer: string };
}

/** The image a signature must be about. `repository` is the full name (`registry/path`), as signed. */
export interface ImageIdentity {
  repository: string;
  digest: string;
}

const passed = (name: string, detail: string): Check => ({ name, status: 'passed', detail });
const failed = (name: string, detail: string): Check => ({ name, status: 'failed', detail });

/**
 * Checks a cosign simple-signing signature (cosign-format.md §1.1, §3.1): the signature over the exact payload
 * bytes, `docker-manifest-digest` equal to the image digest, and `docker-reference` naming the image's repository
 * (cosign itself ignores the reference; we check it, as containers/image policies do).
 */
export function checkSimpleSigning(
  source: string,
  payload: Buffer,
  signature: Buffer | undefined,
  key: KeyObject,
  image: ImageIdentity,
): LayerVerdict {
  return verdictOrFailure(source, 'payload', 'unreadable signature payload', () => {
    const checks: Check[] = [];
    if (!signature || signature.length === 0) {
      checks.push(failed('signature', 'the layer has no dev.cosignproject.cosign/signature annotation'));
    } else if (verifySignature(key, payload, signature)) {
      checks.push(passed('signature', 'verifies with the given public key over the payload bytes'));
    } else {
      checks.push(
        failed('signature', 'does not verify with the given public key (another key, or the payload was changed)'),
      );
    }
    const claims = parseSimpleSigning(payload);
    if (typeof claims === 'string') {
      checks.push(failed('payload', claims));
    } else {
      checks.push(
        claims.digest === image.digest
          ? passed('digest', `docker-manifest-digest is ${image.digest}`)
          : failed('digest', `docker-manifest-digest is ${claims.digest || '(missing)'}, the image is ${image.digest}`),
      );
      checks.push(
        claims.reference === image.repository
          ? passed('reference', `docker-reference is ${image.repository}`)
          : failed(
              'reference',
              `docker-reference is ${claims.reference || '(missing)'}, the image is in ${image.repository}`,
            ),
      );
    }
    return { source, authentic: checks.every((c) => c.status === 'passed'), checks };
  });
}

/**
 * A verdict whatever `check` meets: a shape no check foresaw is a failed `name` check of this item with the
 * reason, never a raw error, so the other items are still assessed.
 */
function verdictOrFailure(source: string, name: string, what: string, check: () => LayerVerdict): LayerVerdict {
  try {
    return check();
  } catch (err) {
    return { source, authentic: false, checks: [failed(name, `${what}: ${messageOf(err)}`)] };
  }
}

/** The two claims of a simple-signing payload, or why it is not one. */
export function parseSimpleSigning(payload: Buffer): { reference: string; digest: string } | string {
  const doc = parseJson(payload);
  if (doc === undefined) return 'the payload is not JSON';
  const critical = (
    doc as {
      critical?: {
        identity?: { 'docker-reference'?: unknown };
        image?: { 'docker-manifest-digest'?: unknown };
        type?: unknown;
      };
    } | null
  )?.critical;
  if (!critical || typeof critical !== 'object')
    return 'the payload has no "critical" section: not a cosign simple-signing payload';
  const reference = critical.identity?.['docker-reference'];
  const digest = critical.image?.['docker-manifest-digest'];
  return {
    reference: typeof reference === 'string' ? reference : '',
    digest: typeof digest === 'string' ? digest : '',
  };
}

/** What an attestation must also say, beyond being authentic. */
export interface AttestationExpectations {
  /** predicateType URI the statement must carry */
  predicateType?: string;
  /** builder id the SLSA predicate must name */
  builderId?: string;
}

/** More signatures than any real envelope carries: checking them all would be work an attacker chooses. */
export const MAX_ENVELOPE_SIGNATURES = 16;
/** Subjects of one statement (IMAGES lists of real builds stay far below this). */
export const MAX_STATEMENT_SUBJECTS = 10_000;
/** Subjects named in one line of a report; the rest are counted. */
export const MAX_LISTED_SUBJECTS = 5;

// standard or URL-safe alphabet, optional padding: what DSSE writers emit (Buffer.from would accept anything)
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Why an envelope's JSON shape is unusable, or undefined when it is a DSSE envelope we can check. */
export function envelopeShapeProblem(envelopeJson: Buffer): string | undefined {
  const raw = parseJson(envelopeJson);
  if (raw === undefined) return 'not a DSSE envelope: not JSON';
  if (!isObject(raw)) return 'not a DSSE envelope: not a JSON object';
  if (typeof raw.payloadType !== 'string') return 'not a DSSE envelope: payloadType is not a string';
  if (typeof raw.payload !== 'string') return 'not a DSSE envelope: payload is not a string';
  if (!BASE64.test(raw.payload)) return 'the envelope payload is not base64';
  if (!Array.isArray(raw.signatures)) return 'not a DSSE envelope: signatures is not a list';
  if (raw.signatures.length === 0) return 'the envelope has no signatures';
  if (raw.signatures.length > MAX_ENVELOPE_SIGNATURES) {
    return `the envelope has ${raw.signatures.length} signatures (at most ${MAX_ENVELOPE_SIGNATURES} are checked)`;
  }
  for (const [i, sig] of raw.signatures.entries()) {
    if (!isObject(sig) || typeof sig.sig !== 'string') return `signatures[${i}] has no "sig" string`;
    if (!BASE64.test(sig.sig)) return `signatures[${i}].sig is not base64`;
  }
  return undefined;
}

/**
 * Checks a DSSE attestation (cosign-format.md §2.2–§3.1): payloadType in-toto, the signature over PAE, some
 * subject whose sha256 is the image digest; then, when asked, the predicateType and the SLSA builder id
 * (`predicate.builder.id` for v0.2, `predicate.runDetails.builder.id` for v1.0). `envelope` is envelope JSON (a
 * `.att` layer, a run annotation: its shape and limits are checked here) or an envelope @sigstore/bundle has
 * already decoded and validated (the `dsseEnvelope` of a bundle). Never throws: whatever the registry serves, the
 * answer is a verdict for this layer, so the other layers are still assessed.
 */
export function checkAttestation(
  source: string,
  envelope: Buffer | Envelope,
  key: KeyObject,
  digest: string,
  expect: AttestationExpectations = {},
): LayerVerdict {
  return verdictOrFailure(source, 'envelope', 'unreadable attestation', () => {
    const checks: Check[] = [];
    const verdict = (authentic: boolean, extra: Partial<LayerVerdict> = {}): LayerVerdict => ({
      source,
      authentic,
      checks,
      ...extra,
    });
    // JSON gets the shape and limit checks first; a decoded envelope was validated by @sigstore/bundle
    const shape = Buffer.isBuffer(envelope) ? envelopeShapeProblem(envelope) : undefined;
    const env = !Buffer.isBuffer(envelope) ? envelope : shape === undefined ? parseEnvelope(envelope) : undefined;
    if (!env) {
      checks.push(failed('envelope', shape ?? 'not a DSSE envelope'));
      return verdict(false);
    }
    if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      checks.push(failed('envelope', `payloadType is "${env.payloadType}", not ${IN_TOTO_PAYLOAD_TYPE}`));
      return verdict(false);
    }
    const sig = verifyEnvelopeSignatures(env, key);
    checks.push(
      sig.ok
        ? passed('signature', 'DSSE signature over PAE verifies with the given public key')
        : failed('signature', sig.reason),
    );

    const statement = parseStatement(env.payload);
    if (typeof statement === 'string') {
      checks.push(failed('statement', statement));
      return verdict(false);
    }
    const hex = digest.replace(/^sha256:/, '');
    const about = statement.subject.some((s) => s.digest.sha256 === hex);
    checks.push(
      about
        ? passed('subject', `a subject has sha256 ${hex}`)
        : failed('subject', `no subject has the image digest ${digest} (subjects: ${listSubjects(statement.subject)})`),
    );
    const builderId = builderIdOf(statement.predicateType, statement.predicate);
    if (expect.predicateType !== undefined) {
      checks.push(
        statement.predicateType === expect.predicateType
          ? passed('predicate-type', statement.predicateType)
          : failed(
              'predicate-type',
              `predicateType is ${statement.predicateType || '(missing)'}, expected ${expect.predicateType}`,
            ),
      );
    }
    if (expect.builderId !== undefined) {
      checks.push(
        builderId === expect.builderId
          ? passed('builder-id', builderId)
          : failed(
              'builder-id',
              builderId === undefined
                ? `the predicate names no builder id (predicateType ${statement.predicateType})`
                : `builder id is ${builderId}, expected ${expect.builderId}`,
            ),
      );
    }
    const authentic = sig.ok && about;
    const extra: Partial<LayerVerdict> = { predicateType: statement.predicateType };
    if (builderId !== undefined) extra.builderId = builderId;
    return verdict(authentic, extra);
  });
}

/** One subject of a statement, as checked: a name (maybe empty) and a digest map of strings. */
export interface StatementSubject {
  name: string;
  digest: Record<string, string>;
}

/** The parts of an in-toto statement the checks read. */
export interface Statement {
  predicateType: string;
  subject: StatementSubject[];
  predicate: unknown;
}

/** `name@alg:hex` of each subject, at most MAX_LISTED_SUBJECTS of them, for one-line reasons. */
export function listSubjects(subjects: StatementSubject[]): string {
  if (subjects.length === 0) return 'none';
  const shown = subjects.slice(0, MAX_LISTED_SUBJECTS).map(subjectText);
  const more = subjects.length - shown.length;
  return shown.join(', ') + (more > 0 ? ` … and ${more} more` : '');
}

/** `name@alg:hex[,alg:hex]` of one subject. */
export function subjectText(s: StatementSubject): string {
  const digests = Object.entries(s.digest)
    .map(([alg, hex]) => `${alg}:${hex}`)
    .join(',');
  return digests ? `${s.name}@${digests}` : s.name;
}

/** The JSON value of UTF-8 `bytes`, or undefined (which no JSON text parses to) when they are not JSON. */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses in-toto statement bytes, or says why they are not one (every odd shape is a reason, never a throw). */
export function parseStatement(bytes: Buffer): Statement | string {
  const doc = parseJson(bytes);
  if (doc === undefined) return 'the payload is not JSON';
  if (!isObject(doc) || typeof doc._type !== 'string' || !doc._type.startsWith('https://in-toto.io/Statement/')) {
    return 'the payload is not an in-toto statement';
  }
  if (doc.subject !== undefined && !Array.isArray(doc.subject)) return 'the statement\'s "subject" is not a list';
  const raw: unknown[] = Array.isArray(doc.subject) ? doc.subject : [];
  if (raw.length > MAX_STATEMENT_SUBJECTS) {
    return `the statement has ${raw.length} subjects (at most ${MAX_STATEMENT_SUBJECTS})`;
  }
  const subject: StatementSubject[] = [];
  for (const [i, s] of raw.entries()) {
    if (!isObject(s)) return `subject[${i}] is not an object`;
    if (s.name !== undefined && typeof s.name !== 'string') return `subject[${i}].name is not a string`;
    if (!isObject(s.digest)) return `subject[${i}].digest is not an object`;
    for (const [alg, hex] of Object.entries(s.digest)) {
      if (typeof hex !== 'string') return `subject[${i}].digest.${alg} is not a string`;
    }
    // fromEntries defines own properties, so a "__proto__" algorithm name stays data, not a prototype
    const digest = Object.fromEntries(Object.entries(s.digest)) as Record<string, string>;
    subject.push({ name: typeof s.name === 'string' ? s.name : '', digest });
  }
  const predicateType = typeof doc.predicateType === 'string' ? doc.predicateType : '';
  return { predicateType, subject, predicate: doc.predicate };
}
