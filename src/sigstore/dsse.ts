// DSSE envelopes as Chains writes them (chains-behaviour.md §5.5, cosign-format.md §2.2):
// the signer signs PAE(payloadType, payload), the envelope carries Chains' OpenSSH-fingerprint keyid.
import { verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { keyIdOf } from '../signing/ssh-key.js';
import type { Signer } from '../signing/signer.js';

/** The payloadType of every in-toto statement envelope. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** DSSE v1 pre-authentication encoding: the bytes that are actually signed. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

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
): Promise<Buffer> {
  const sig = await signer.sign(pae(payloadType, payload));
  // Built by hand rather than from an object so the member order is part of the code, not of the engine.
  const json =
    `{"payloadType":${JSON.stringify(payloadType)},` +
    `"payload":"${payload.toString('base64')}",` +
    `"signatures":[{"keyid":${JSON.stringify(envelopeKeyId(signer.publicKey()))},"sig":"${sig.toString('base64')}"}]}`;
  return Buffer.from(json, 'utf8');
}

/** A parsed DSSE envelope (member order and extra members are not significant to readers). */
export interface Envelope {
  payloadType: string;
  /** decoded payload bytes */
  payload: Buffer;
  signatures: Array<{ keyid: string; sig: Buffer }>;
}

/** Parses envelope JSON; undefined when it is not a DSSE envelope. */
export function parseEnvelope(json: Buffer | string): Envelope | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString());
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  if (typeof r.payloadType !== 'string' || typeof r.payload !== 'string' || !Array.isArray(r.signatures)) {
    return undefined;
  }
  const signatures: Envelope['signatures'] = [];
  for (const s of r.signatures as unknown[]) {
    const sig = (s as { sig?: unknown } | null)?.sig;
    const keyid = (s as { keyid?: unknown } | null)?.keyid;
    if (typeof sig !== 'string') return undefined;
    signatures.push({ keyid: typeof keyid === 'string' ? keyid : '', sig: Buffer.from(sig, 'base64') });
  }
  return { payloadType: r.payloadType, payload: Buffer.from(r.payload, 'base64'), signatures };
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
  for (const hash of candidateHashes(publicKey)) {
    try {
      if (cryptoVerify(hash, message, { key: publicKey, dsaEncoding: 'der' }, signature)) return true;
    } catch {
      // malformed signature bytes for this key type: not a match
    }
  }
  return false;
}

function candidateHashes(publicKey: KeyObject): Array<string | null> {
  switch (publicKey.asymmetricKeyType) {
    case 'ed25519':
      return [null];
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
