// DSSE envelopes as Chains writes them (chains-behaviour.md §5.5, cosign-format.md §2.2):
// the signer signs PAE(payloadType, payload), the envelope carries Chains' OpenSSH-fingerprint keyid.
// From the sigstore libraries: PAE (`dsse.preAuthEncoding`) and signature checks (`crypto.verify`) of
// @sigstore/core; the Envelope type and the decoding of a read envelope (`envelopeFromJSON`) of @sigstore/bundle.
// Hand-written, and why:
// - the envelope writer: `envelopeToJSON` writes cosign ≥ 3.1's form (payload first, an empty keyid left out);
//   Chains writes `payloadType`, `payload`, `signatures[{keyid, sig}]` in that order with keyid always present,
//   and our envelopes keep Chains' bytes;
// - the shape check before decoding: `envelopeFromJSON` turns any JSON into an envelope (missing members become
//   empty ones), a reader must refuse what is not one;
// - the hashes tried per key: @sigstore/verify checks with the key's default digest (SHA-256 for every EC curve),
//   which refuses the SHA-384/SHA-512 signatures cosign.key P-384/P-521 keys make.
import type { KeyObject } from 'node:crypto';
import { envelopeFromJSON, type Envelope } from '@sigstore/bundle';
import { crypto, dsse } from '@sigstore/core';
import { keyIdOf } from '../signing/ssh-key.js';
import type { SignOptions, Signer } from '../signing/signer.js';

export type { Envelope } from '@sigstore/bundle';

/** The payloadType of every in-toto statement envelope. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** DSSE v1 pre-authentication encoding: the bytes that are actually signed. */
export const pae: (payloadType: string, payload: Buffer) => Buffer = dsse.preAuthEncoding;

/**
 * The keyid for an envelope; "" when the key has no SSH encoding
 * (cosign ignores keyid, an empty one is never filtered).
 */
function envelopeKeyId(publicKey: KeyObject): string {
  try {
    return keyIdOf(publicKey);
  } catch {
    // Chains fails the run forever here; an empty keyid is valid DSSE and every verifier accepts it.
    return '';
  }
}

/** Signs `payload` and returns the envelope JSON bytes, members in Chains' exact order, no whitespace. */
export async function createEnvelope(
  signer: Signer,
  payload: Buffer,
  payloadType: string = IN_TOTO_PAYLOAD_TYPE,
  opts?: SignOptions,
): Promise<Buffer> {
  const sig = await signer.sign(pae(payloadType, payload), opts);
  // Built by hand rather than from an object so the member order is part of the code, not of the engine.
  const json =
    `{"payloadType":${JSON.stringify(payloadType)},` +
    `"payload":"${payload.toString('base64')}",` +
    `"signatures":[{"keyid":${JSON.stringify(envelopeKeyId(signer.publicKey()))},"sig":"${sig.toString('base64')}"}]}`;
  return Buffer.from(json, 'utf8');
}

/** True when `raw` has the members of a DSSE envelope with the JSON types they must have. */
function isEnvelopeJson(raw: unknown): boolean {
  if (!raw || typeof raw !== 'object') return false;
  const r = raw as { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  if (typeof r.payloadType !== 'string' || typeof r.payload !== 'string' || !Array.isArray(r.signatures)) return false;
  return r.signatures.every((s: unknown) => typeof (s as { sig?: unknown } | null)?.sig === 'string');
}

/** Parses envelope JSON (member order and extra members are not significant); undefined when it is not one. */
export function parseEnvelope(json: Buffer | string): Envelope | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString());
  } catch {
    return undefined;
  }
  return isEnvelopeJson(raw) ? envelopeFromJSON(raw) : undefined;
}

/** The outcome of checking an envelope against a public key. */
export type EnvelopeVerification =
  { ok: true; payloadType: string; payload: Buffer; keyid: string } | { ok: false; reason: string };

/**
 * Checks that at least one signature of the envelope verifies over PAE with `publicKey`.
 * ECDSA signatures are tried with SHA-256 and the curve's own hash (cosign.key P-384/P-521 keys sign with those).
 */
export function verifyEnvelope(envelope: Buffer | string, publicKey: KeyObject): EnvelopeVerification {
  const env = parseEnvelope(envelope);
  if (!env) return { ok: false, reason: 'not a DSSE envelope' };
  return verifyEnvelopeSignatures(env, publicKey);
}

/** verifyEnvelope for an envelope already decoded (from JSON, or out of a sigstore bundle). */
export function verifyEnvelopeSignatures(env: Envelope, publicKey: KeyObject): EnvelopeVerification {
  if (env.signatures.length === 0) return { ok: false, reason: 'envelope has no signatures' };
  const message = pae(env.payloadType, env.payload);
  for (const s of env.signatures) {
    if (verifySignature(publicKey, message, s.sig)) {
      return { ok: true, payloadType: env.payloadType, payload: env.payload, keyid: s.keyid };
    }
  }
  return { ok: false, reason: `no signature verifies with the given public key (${env.signatures.length} tried)` };
}

/** Verifies a raw signature (DER for ECDSA) the way cosign would for this key type; true when it matches. */
export function verifySignature(publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  return verifiesWithHashes(publicKey, message, signature, cosignHashes(publicKey));
}

/**
 * True when `signature` over `message` verifies with `publicKey` under one of `hashes` (undefined: the key type's
 * own, e.g. Ed25519). Malformed signature bytes are no match, never an exception.
 */
export function verifiesWithHashes(
  publicKey: KeyObject,
  message: Buffer,
  signature: Buffer,
  hashes: ReadonlyArray<string | undefined>,
): boolean {
  return hashes.some((hash) => crypto.verify(message, publicKey, signature, hash));
}

function cosignHashes(publicKey: KeyObject): Array<string | undefined> {
  switch (publicKey.asymmetricKeyType) {
    case 'ed25519':
      return [undefined];
    case 'ec': {
      const curve = publicKey.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return ['sha256', 'sha384'];
      if (curve === 'secp521r1') return ['sha256', 'sha512'];
      return ['sha256'];
    }
    default:
      return ['sha256'];
  }
}
