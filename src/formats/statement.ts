// The in-toto Statement envelope shared by every in-toto format, laid out as Go protojson writes
// `in_toto_attestation.v1.Statement` (spec §3.0 rules 1–4).
import type { Subject } from '../artifacts/types.js';
import type { Payload } from './types.js';
import { serialise, sortedKeys, toStruct } from './serialise.js';

export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';

export interface Statement {
  type: typeof STATEMENT_V01 | typeof STATEMENT_V1;
  subjects: Subject[];
  predicateType: string;
  /** any JSON-like value; it is emitted as a google.protobuf.Struct (keys sorted at every depth) */
  predicate: unknown;
}

/** A subject as a ResourceDescriptor: `name`, `digest` (keys sorted); empty fields omitted. */
function resourceDescriptor(subject: Subject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (subject.name !== '') out.name = subject.name;
  const keys = sortedKeys(subject.digest);
  if (keys.length > 0) {
    const digest: Record<string, string> = {};
    for (const k of keys) digest[k] = subject.digest[k]!;
    out.digest = digest;
  }
  return out;
}

/** The statement as an object whose member order is the protojson wire order. */
export function statementObject(s: Statement): Record<string, unknown> {
  const out: Record<string, unknown> = { _type: s.type };
  // protojson omits an empty repeated field: no `"subject": []` (§3.0 rule 3)
  if (s.subjects.length > 0) out.subject = s.subjects.map(resourceDescriptor);
  out.predicateType = s.predicateType;
  out.predicate = toStruct(s.predicate);
  return out;
}

/** Serialises a statement into a signable in-toto payload, subjects included for OCI storage. */
export function statementPayload(s: Statement): Payload {
  return {
    bytes: serialise(statementObject(s)),
    kind: 'in-toto',
    predicateType: s.predicateType,
    subjects: s.subjects.map((x) => ({ name: x.name, digest: { ...x.digest } })),
  };
}
