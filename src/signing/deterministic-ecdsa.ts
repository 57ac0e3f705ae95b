// Deterministic ECDSA (RFC 6979) for key-file signers, so that every replica, and the same replica after a restart,
// makes byte-identical signatures for the same payload and key. That is what gives exactly one transparency-log entry
// per payload across replicas and restarts: a replica killed after its Rekor upload and before the run's mark leaves
// an entry, and the replica that signs the run again uploads the identical entry, which Rekor v1 answers with 409 and
// src/sigstore/rekor.ts reuses (after checking it). OpenSSL's ECDSA (Node's crypto.sign) draws a random nonce, so its
// signatures differ every time and each one would be a new entry. An RFC 6979 signature is an ordinary ECDSA
// signature: same hash, same DER encoding, accepted by every verifier (cosign, Chains, Node, OpenSSL).
import { createHash, type KeyObject } from 'node:crypto';
import { ecdsa, type ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { ChainsmithError } from '../errors.js';

/** The hashes an ECDSA file key signs with (src/signing/key-signer.ts decides which). */
export type EcdsaHash = 'sha256' | 'sha384' | 'sha512';

/** Signs `data` (hashes it first) and returns the DER signature. */
export type EcdsaSign = (data: Uint8Array) => Buffer;

/** Node's curve names (`asymmetricKeyDetails.namedCurve`) → noble's curve points. */
const POINTS = { prime256v1: p256.Point, secp384r1: p384.Point, secp521r1: p521.Point } as const;
/** RFC 6979's HMAC-DRBG must use the message hash: one noble hash per hash name. */
const NOBLE_HASHES = { sha256, sha384, sha512 } as const;

// One ECDSA instance per curve and hash (x509.pem keys sign SHA-256 on every curve, so P-384 with SHA-256 exists too).
const instances = new Map<string, ECDSA>();

function instanceFor(curve: keyof typeof POINTS, hash: EcdsaHash): ECDSA {
  const id = `${curve}/${hash}`;
  let instance = instances.get(id);
  if (!instance) {
    instance = ecdsa(POINTS[curve], NOBLE_HASHES[hash]);
    instances.set(id, instance);
  }
  return instance;
}

/**
 * An RFC 6979 signer for an EC private key (P-256, P-384, P-521): ECDSA over `hash(data)` with the nonce derived from
 * the key and the digest (no extra entropy), `s` as computed (not normalised to low-S, as OpenSSL leaves it), DER.
 */
export function deterministicEcdsa(privateKey: KeyObject, hash: EcdsaHash): EcdsaSign {
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (privateKey.asymmetricKeyType !== 'ec' || !curve || !(curve in POINTS)) {
    const what = `${privateKey.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''}`;
    throw new ChainsmithError('KeyUnsupported', `deterministic ECDSA needs a P-256, P-384 or P-521 key, not ${what}`);
  }
  const instance = instanceFor(curve as keyof typeof POINTS, hash);
  // The private scalar, big-endian and padded to the curve's size (RFC 7518 §6.2.2.1: JWK `d` always is).
  const d = privateKey.export({ format: 'jwk' }).d;
  if (!d) throw new ChainsmithError('KeyUnsupported', 'the EC private key exports no private scalar');
  const scalar = new Uint8Array(Buffer.from(d, 'base64url'));
  return (data) => {
    // Hashed natively; noble gets the digest (prehash: false) and derives the nonce from it as RFC 6979 §3.2 does.
    const digest = createHash(hash).update(data).digest();
    const sig = instance.sign(digest, scalar, { prehash: false, lowS: false, format: 'der', extraEntropy: false });
    return Buffer.from(sig);
  };
}
