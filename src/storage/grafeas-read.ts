// Reading back what the `grafeas` backend (or Chains) stored: the occurrences of one note for some resources
// (Chains' RetrievePayloads/RetrieveSignatures query: ListNoteOccurrences with `resourceUrl="…"` OR-ed), and each
// occurrence's envelope as something a verifier checks — a DSSE envelope for attestations (Chains stores the whole
// envelope JSON as the Grafeas `sig`), the raw signature over the payload for simplesigning image signatures.
import type { KeyObject } from 'node:crypto';
import type { protos } from '@google-cloud/grafeas';
import type { ChainsConfig } from '../config/types.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  verifyEnvelope,
  verifySignature,
  type EnvelopeVerification,
} from '../sigstore/dsse.js';
import {
  grafeasCallOptions,
  grafeasTarget,
  openGrafeasClient,
  storageFailure,
  type GrafeasConnection,
  type GrafeasTarget,
} from './grafeas.js';

/** One stored occurrence, as read back. */
export interface GrafeasStoredOccurrence {
  name: string;
  resourceUri: string;
  noteName: string;
  /** `BUILD` or `ATTESTATION` */
  kind: string;
  payload: Buffer;
  payloadType: string;
  signatures: Array<{ sig: Buffer; keyid: string }>;
  /** the in-toto statement in Grafeas' proto, for BUILD occurrences */
  intotoStatement?: protos.grafeas.v1.IInTotoStatement;
}

export interface GrafeasReadQuery {
  config: ChainsConfig;
  /** the run's namespace (default note id `tekton-<namespace>`) */
  namespace: string;
  object: GrafeasTarget['object'];
  /** image FullKey, or the `name@alg:hex` of each subject */
  resourceUris: string[];
}

/** The occurrences of the query's note for its resources; throws StorageFailed (transient when worth retrying). */
export async function readGrafeasOccurrences(
  query: GrafeasReadQuery,
  conn: GrafeasConnection = {},
): Promise<GrafeasStoredOccurrence[]> {
  const target = grafeasTarget(query.config, query.namespace, query.object);
  if (query.resourceUris.length === 0) return [];
  const client = await openGrafeasClient(conn);
  try {
    const filter = query.resourceUris.map((u) => `resourceUrl=${JSON.stringify(u)}`).join(' OR ');
    const [occurrences] = await client.listNoteOccurrences({ name: target.noteName, filter }, grafeasCallOptions(conn));
    return occurrences.map(toStored);
  } catch (err) {
    throw storageFailure(`listing occurrences of ${target.noteName}`, err);
  } finally {
    await client.close();
  }
}

function toStored(o: protos.grafeas.v1.IOccurrence): GrafeasStoredOccurrence {
  const env = o.envelope ?? {};
  const statement = o.build?.intotoStatement;
  return {
    name: o.name ?? '',
    resourceUri: o.resourceUri ?? '',
    noteName: o.noteName ?? '',
    kind: String(o.kind ?? ''),
    payload: Buffer.from(env.payload ?? []),
    payloadType: env.payloadType ?? '',
    signatures: (env.signatures ?? []).map((s) => ({ sig: Buffer.from(s.sig ?? []), keyid: s.keyid ?? '' })),
    ...(statement ? { intotoStatement: statement } : {}),
  };
}

/**
 * The DSSE envelope JSON of an in-toto occurrence: its `sig` when that is an envelope (Chains' and chainsmith's
 * layout), else one built from the Grafeas envelope's payload and raw signatures.
 */
export function dsseEnvelopeOf(occ: GrafeasStoredOccurrence): Buffer {
  for (const s of occ.signatures) if (parseEnvelope(s.sig)) return s.sig;
  return Buffer.from(
    JSON.stringify({
      payloadType: occ.payloadType,
      payload: occ.payload.toString('base64'),
      signatures: occ.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.toString('base64') })),
    }),
  );
}

/**
 * Checks an occurrence with a public key: in-toto occurrences as DSSE (PAE) envelopes whose payload must be the
 * occurrence's payload; simplesigning ones as a raw signature over the payload (how Chains and cosign sign images).
 */
export function verifyGrafeasOccurrence(occ: GrafeasStoredOccurrence, publicKey: KeyObject): EnvelopeVerification {
  if (occ.payloadType === IN_TOTO_PAYLOAD_TYPE) {
    const res = verifyEnvelope(dsseEnvelopeOf(occ), publicKey);
    if (res.ok && !res.payload.equals(occ.payload)) {
      return { ok: false, reason: 'the signed envelope carries a different payload than the occurrence' };
    }
    return res;
  }
  const s = occ.signatures.find((x) => verifySignature(publicKey, occ.payload, x.sig));
  return s
    ? { ok: true, payloadType: occ.payloadType, payload: occ.payload, keyid: s.keyid }
    : { ok: false, reason: `no signature verifies with the given public key (${occ.signatures.length} tried)` };
}
