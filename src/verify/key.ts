// The public key a verification uses: a PEM file (`cosign.pub`, an SPKI `PUBLIC KEY`, or a certificate), or the
// public key of a KMS key read through the same provider code that signs with it (src/signing/kms) — and the
// policy every such key must meet before anything is verified with it (keyPolicyProblem).
// Keys are read with node:crypto (what @sigstore/core's createPublicKey wraps too); the policy is ours.
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { DEFAULT_CONFIG } from '../config/parse.js';
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError, messageOf } from '../errors.js';
import { displayPath, readInputText } from '../input/read.js';

/** Smallest RSA modulus accepted (NIST SP 800-131A; what our signer also requires of its own keys). */
export const MIN_RSA_BITS = 2048;
/** Elliptic curves accepted (OpenSSL names → the names in messages): cosign's ECDSA curves. */
export const ALLOWED_CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};
/** Largest key/certificate file read for `--key` (a PEM key or certificate chain is a few KiB). */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;

const ALLOWED_KEYS = `RSA ≥ ${MIN_RSA_BITS} bits, ECDSA P-256/P-384/P-521, Ed25519`;

/** A verification key, and the certificate it came from when it was given as one. */
export interface VerificationKey {
  key: KeyObject;
  certificate?: X509Certificate;
}

/** Why this key must not be used to verify (RSA too small, curve or type not allowed), or undefined. */
export function keyPolicyProblem(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      return bits < MIN_RSA_BITS ? `RSA key of ${bits} bits is too small (minimum ${MIN_RSA_BITS})` : undefined;
    }
    case 'ec': {
      const curve = details.namedCurve ?? 'unknown';
      const allowed = Object.values(ALLOWED_CURVES).join(', ');
      return ALLOWED_CURVES[curve] ? undefined : `ECDSA curve ${curve} is not allowed (allowed: ${allowed})`;
    }
    case 'ed25519':
      return undefined;
    default:
      return `${key.asymmetricKeyType ?? 'unknown'} keys are not allowed (allowed: ${ALLOWED_KEYS})`;
  }
}

/** Why the certificate is not valid at `now` (expired / not yet valid), or undefined. */
export function certificateValidityProblem(cert: X509Certificate, now: Date = new Date()): string | undefined {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (!(from.getTime() <= now.getTime())) return `certificate is not valid before ${from.toISOString()}`;
  if (!(now.getTime() <= to.getTime())) return `certificate expired at ${to.toISOString()}`;
  return undefined;
}

/**
 * The key of PEM text holding a public key or an X.509 certificate, after the key policy and (for a certificate)
 * its validity at `now`. Throws ChainsmithError 'KeyUnsupported' naming the rule that is broken.
 */
export function parseVerificationKey(pem: string, now: Date = new Date()): VerificationKey {
  let parsed: VerificationKey;
  try {
    if (pem.includes('BEGIN CERTIFICATE')) {
      const certificate = new X509Certificate(pem);
      parsed = { key: certificate.publicKey, certificate };
    } else {
      const key = createPublicKey(pem);
      if (key.type !== 'public') throw new Error('not a public key');
      parsed = { key };
    }
  } catch (err) {
    throw new ChainsmithError('KeyUnsupported', `not a PEM public key or certificate (${messageOf(err)})`);
  }
  const validity = parsed.certificate ? certificateValidityProblem(parsed.certificate, now) : undefined;
  const problem = keyPolicyProblem(parsed.key) ?? validity;
  if (problem) throw new ChainsmithError('KeyUnsupported', problem);
  return parsed;
}

/** Parses PEM text holding a public key or an X.509 certificate (policy and validity enforced). */
export function parsePublicKeyPem(pem: string): KeyObject {
  return parseVerificationKey(pem).key;
}

/** Reads `--key FILE`; throws ChainsmithError 'KeyNotFound' / 'KeyUnsupported' with a one-line message naming it. */
export async function readPublicKeyFile(path: string, now: Date = new Date()): Promise<KeyObject> {
  // regular files only (a FIFO would block), at most MAX_KEY_FILE_BYTES, read with a cap
  let text: string;
  try {
    text = await readInputText(path, { reason: 'KeyNotFound', maxBytes: MAX_KEY_FILE_BYTES });
  } catch (err) {
    throw new ChainsmithError('KeyNotFound', `public key: ${messageOf(err)}`);
  }
  try {
    return parseVerificationKey(text, now).key;
  } catch (err) {
    throw new ChainsmithError('KeyUnsupported', `${displayPath(path)}: ${messageOf(err)}`);
  }
}

/** The public key of `--kms REF` (Vault address/token etc. come from the usual environment), policy enforced. */
export async function kmsPublicKey(kmsref: string): Promise<KeyObject> {
  const { createKmsSigner } = await import('../signing/kms/index.js');
  const cfg: ChainsConfig['signers']['kms'] = { ...DEFAULT_CONFIG.signers.kms, kmsref };
  const signer = await createKmsSigner(cfg);
  const key = signer.publicKey();
  const problem = keyPolicyProblem(key);
  if (problem) throw new ChainsmithError('KeyUnsupported', `KMS key ${kmsref}: ${problem}`);
  return key;
}
