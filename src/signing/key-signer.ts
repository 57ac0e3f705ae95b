// A Signer over a private key held in memory (x509.pem or a decrypted cosign.key).
// The hash per key type is chosen so that `cosign verify --key cosign.pub` accepts the signatures
// (see docs/compatibility.md "## Signing" for the decisions and where they differ from Chains).
// Signatures bound for a transparency log (`sign(data, { deterministic: true })`) are deterministic for ECDSA keys
// (RFC 6979, deterministic-ecdsa.ts), so a run signed again by another replica gets the same signature and Rekor
// entry; other ECDSA signatures stay on OpenSSL (~20x cheaper). RSA (PKCS#1 v1.5) and Ed25519 are deterministic
// already and always stay on Node.
import { createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { ChainsmithError } from '../errors.js';
import { keyIdOf } from '../signing/ssh-key.js';
import { deterministicEcdsa, type EcdsaSign } from './deterministic-ecdsa.js';
import type { SignOptions, Signer } from './signer.js';

/** Where a file key came from: decides the ECDSA hash (Chains: x509.pem always SHA-256, cosign.key by curve). */
export type KeySource = 'x509.pem' | 'cosign.key';

/** The hash a key signs with, or null for Ed25519 (pure EdDSA hashes internally). */
export type SigningHash = 'sha256' | 'sha384' | 'sha512' | null;

const CURVES: Record<string, { name: string; cosignHash: SigningHash }> = {
  prime256v1: { name: 'P-256', cosignHash: 'sha256' },
  secp384r1: { name: 'P-384', cosignHash: 'sha384' },
  secp521r1: { name: 'P-521', cosignHash: 'sha512' },
};

const MIN_RSA_BITS = 2048;

/** How a key signs: the hash and a human name of the algorithm (for descriptions and errors). */
export interface SigningAlgorithm {
  hash: SigningHash;
  /** e.g. "ECDSA P-256 SHA-256", "RSA-3072 PKCS#1 v1.5 SHA-256", "Ed25519" */
  name: string;
}

/** The algorithm a file key signs with; KeyUnsupported for key types cosign cannot verify. */
export function signingAlgorithmFor(key: KeyObject, source: KeySource): SigningAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = details.namedCurve ? CURVES[details.namedCurve] : undefined;
      if (!curve) {
        throw new ChainsmithError(
          'KeyUnsupported',
          `${source}: unsupported ECDSA curve ${details.namedCurve ?? 'unknown'}`,
        );
      }
      // Chains signs x509.pem keys with SHA-256 whatever the curve; cosign.key follows cosign's per-curve default.
      const hash = source === 'x509.pem' ? 'sha256' : curve.cosignHash;
      return { hash, name: `ECDSA ${curve.name} ${hashName(hash)}` };
    }
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) {
        throw new ChainsmithError(
          'KeyUnsupported',
          `${source}: RSA key of ${bits} bits is too small (minimum ${MIN_RSA_BITS})`,
        );
      }
      return { hash: 'sha256', name: `RSA-${bits} PKCS#1 v1.5 SHA-256` };
    }
    case 'ed25519':
      // Pure Ed25519: what `cosign verify --key` checks with (sigstore LoadVerifier without WithED25519ph).
      return { hash: null, name: 'Ed25519' };
    default:
      throw new ChainsmithError(
        'KeyUnsupported',
        `${source}: unsupported key type ${key.asymmetricKeyType ?? 'unknown'} ` +
          '(supported: ECDSA P-256/P-384/P-521, RSA, Ed25519)',
      );
  }
}

/** Signs with an in-memory private key; built once per key file generation. */
export class PrivateKeySigner implements Signer {
  readonly description: string;
  private readonly pub: KeyObject;
  /** the RFC 6979 signer of an ECDSA key; undefined for RSA and Ed25519 (Node's crypto.sign) */
  private readonly ecdsa: EcdsaSign | undefined;

  constructor(
    private readonly privateKey: KeyObject,
    private readonly algorithm: SigningAlgorithm,
    source: KeySource,
  ) {
    this.pub = createPublicKey(privateKey);
    this.ecdsa =
      privateKey.asymmetricKeyType === 'ec' && algorithm.hash !== null
        ? deterministicEcdsa(privateKey, algorithm.hash)
        : undefined;
    // keyid is a public fingerprint: useful in logs to tell keys apart, reveals nothing secret.
    this.description = `${source} (${algorithm.name}, ${keyIdOf(this.pub)})`;
  }

  /** Builds the signer for a file key, rejecting key types cosign cannot verify. */
  static fromKey(privateKey: KeyObject, source: KeySource): PrivateKeySigner {
    return new PrivateKeySigner(privateKey, signingAlgorithmFor(privateKey, source), source);
  }

  sign(data: Buffer, opts?: SignOptions): Promise<Buffer> {
    if (this.ecdsa && opts?.deterministic) {
      try {
        return Promise.resolve(this.ecdsa(data));
      } catch (err) {
        return Promise.reject(this.failed(err));
      }
    }
    return new Promise((resolve, reject) => {
      // dsaEncoding 'der' is Node's default; stated because cosign verifies ASN.1 DER ECDSA signatures.
      cryptoSign(this.algorithm.hash, data, { key: this.privateKey, dsaEncoding: 'der' }, (err, sig) => {
        if (err) reject(this.failed(err));
        else resolve(sig);
      });
    });
  }

  private failed(err: unknown): ChainsmithError {
    return new ChainsmithError('SigningFailed', `signing with ${this.description} failed: ${(err as Error).message}`, {
      cause: err,
    });
  }

  publicKey(): KeyObject {
    return this.pub;
  }

  cert(): string {
    return '';
  }

  chain(): string {
    return '';
  }
}

function hashName(hash: SigningHash): string {
  return hash === null ? 'none' : hash.replace('sha', 'SHA-');
}
