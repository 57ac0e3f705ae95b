// The checks behind `chainsmith verify` and `verify-run`, one pure function per kind of signed thing. They use
// the same DSSE and simple-signing code the controller signs with (src/signing/dsse.ts, src/formats/simplesigning.ts),
// so what we sign and what we check cannot drift.
import type { KeyObject } from 'node:crypto';
import { IN_TOTO_PAYLOAD_TYPE, parseEnvelope, verifyEnvelope, verifySignature } from '../signing/dsse.js';
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
export function checkSimpleSigning(source: string, payload: Buffer, signature: Buffer | undefined, key: KeyObject, image: ImageIdentity): LayerVerdict {
  const checks: Check[] = [];
  if (!signature || signature.length === 0) {
    checks.push(failed('signature', 'the layer has no dev.cosignproject.cosign/signature annotation'));
  } else if (verifySignature(key, payload, signature)) {
    checks.push(passed('signature', 'verifies with the given public key over the payload bytes'));
  } else {
    checks.push(failed('signature', 'does not verify with the given public key (another key, or the payload was changed)'));
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
        : failed('reference', `docker-reference is ${claims.reference || '(missing)'}, the image is in ${image.repository}`),
    );
  }
  return { source, authentic: checks.every((c) => c.status === 'passed'), checks };
}

/** The two claims of a simple-signing payload, or why it is not one. */
export function parseSimpleSigning(payload: Buffer): { reference: string; digest: string } | string {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'the payload is not JSON';
  }
  const critical = (doc as { critical?: { identity?: { 'docker-reference'?: unknown }; image?: { 'docker-manifest-digest'?: unknown }; type?: unknown } } | null)?.critical;
  if (!critical || typeof critical !== 'object') return 'the payload has no "critical" section: not a cosign simple-signing payload';
  const reference = critical.identity?.['docker-reference'];
  const digest = critical.image?.['docker-manifest-digest'];
  return { reference: typeof reference === 'string' ? reference : '', digest: typeof digest === 'string' ? digest : '' };
}

/** What an attestation must also say, beyond being authentic. */
export interface AttestationExpectations {
  /** predicateType URI the statement must carry */
  predicateType?: string;
  /** builder id the SLSA predicate must name */
  builderId?: string;
}

/**
 * Checks a DSSE attestation (cosign-format.md §2.2–§3.1): payloadType in-toto, the signature over PAE, some
 * subject whose sha256 is the image digest; then, when asked, the predicateType and the SLSA builder id
 * (`predicate.builder.id` for v0.2, `predicate.runDetails.builder.id` for v1.0).
 */
export function checkAttestation(source: string, envelopeJson: Buffer, key: KeyObject, digest: string, expect: AttestationExpectations = {}): LayerVerdict {
  const checks: Check[] = [];
  const verdict = (authentic: boolean, extra: Partial<LayerVerdict> = {}): LayerVerdict => ({ source, authentic, checks, ...extra });
  const env = parseEnvelope(envelopeJson);
  if (!env) {
    checks.push(failed('envelope', 'not a DSSE envelope'));
    return verdict(false);
  }
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    checks.push(failed('envelope', `payloadType is "${env.payloadType}", not ${IN_TOTO_PAYLOAD_TYPE}`));
    return verdict(false);
  }
  const sig = verifyEnvelope(envelopeJson, key);
  checks.push(sig.ok ? passed('signature', 'DSSE signature over PAE verifies with the given public key') : failed('signature', sig.reason));

  const statement = parseStatement(env.payload);
  if (typeof statement === 'string') {
    checks.push(failed('statement', statement));
    return verdict(false);
  }
  const hex = digest.replace(/^sha256:/, '');
  const subjects = statement.subject.map((s) => `${s.name ?? ''}@sha256:${s.digest?.sha256 ?? '?'}`);
  const about = statement.subject.some((s) => s.digest?.sha256 === hex);
  checks.push(
    about
      ? passed('subject', `a subject has sha256 ${hex}`)
      : failed('subject', `no subject has the image digest ${digest} (subjects: ${subjects.join(', ') || 'none'})`),
  );
  const builderId = builderIdOf(statement.predicateType, statement.predicate);
  if (expect.predicateType !== undefined) {
    checks.push(
      statement.predicateType === expect.predicateType
        ? passed('predicate-type', statement.predicateType)
        : failed('predicate-type', `predicateType is ${statement.predicateType || '(missing)'}, expected ${expect.predicateType}`),
    );
  }
  if (expect.builderId !== undefined) {
    checks.push(
      builderId === expect.builderId
        ? passed('builder-id', builderId)
        : failed('builder-id', builderId === undefined ? `the predicate names no builder id (predicateType ${statement.predicateType})` : `builder id is ${builderId}, expected ${expect.builderId}`),
    );
  }
  const authentic = sig.ok && about;
  const extra: Partial<LayerVerdict> = { predicateType: statement.predicateType };
  if (builderId !== undefined) extra.builderId = builderId;
  return verdict(authentic, extra);
}

/** The parts of an in-toto statement the checks read. */
export interface Statement {
  predicateType: string;
  subject: Array<{ name?: string; digest?: Record<string, string> }>;
  predicate: unknown;
}

/** Parses in-toto statement bytes, or says why they are not one. */
export function parseStatement(bytes: Buffer): Statement | string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'the payload is not JSON';
  }
  const s = doc as { _type?: unknown; predicateType?: unknown; subject?: unknown; predicate?: unknown } | null;
  if (!s || typeof s !== 'object' || typeof s._type !== 'string' || !s._type.startsWith('https://in-toto.io/Statement/')) {
    return 'the payload is not an in-toto statement';
  }
  const subject = Array.isArray(s.subject) ? (s.subject as Statement['subject']) : [];
  return { predicateType: typeof s.predicateType === 'string' ? s.predicateType : '', subject, predicate: s.predicate };
}
