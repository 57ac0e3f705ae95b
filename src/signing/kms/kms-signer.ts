// The Signer every KMS provider returns: the public key fetched once when the signer is built, and each
// signature asked of the KMS under the shared call policy, then checked against that public key before use.
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ChainsmithError } from '../../errors.js';
import { keyIdOf } from '../../signing/ssh-key.js';
import type { Signer } from '../signer.js';
import { callKms, callPolicy, type FailureClassifier, type KmsCallOptions, type KmsCallPolicy } from './call.js';

/** The digest a KMS key signs over, or null when the KMS signs the message itself (Ed25519). */
export type KmsHash = 'sha256' | 'sha384' | 'sha512' | null;

/** What a provider knows about one key once it has asked the KMS. */
export interface KmsKey {
  /** the public key the KMS reports */
  publicKey: KeyObject;
  /** the hash the signature is computed over (sigstore's choice for this key) */
  hash: KmsHash;
  /** human description of the algorithm, e.g. "ECDSA P-256 SHA-256" */
  algorithm: string;
  /** one signing round trip; returns the raw signature (DER for ECDSA) */
  sign(data: Buffer, signal: AbortSignal): Promise<Buffer>;
}

/** One round trip to the KMS while a signer is built: bounded, retried and classified like every other. */
export type KmsCall = <T>(what: string, op: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** What building a signer takes besides the key: the call options, and strings to scrub from messages. */
export interface KmsSignerSetup {
  opts: KmsCallOptions;
  classify: FailureClassifier;
  secrets?: () => string[];
}

/**
 * What every provider does the same way: one call policy from the options, the key read once through `readKey`
 * (its calls under that policy), and a KmsSigner that signs under the same policy and classifier.
 */
export async function buildKmsSigner(
  ref: string,
  setup: KmsSignerSetup,
  readKey: (call: KmsCall, policy: KmsCallPolicy) => Promise<KmsKey>,
): Promise<Signer> {
  const policy = callPolicy(setup.opts, setup.secrets);
  const call: KmsCall = (what, op) => callKms(what, policy, setup.classify, op);
  return new KmsSigner(ref, await readKey(call, policy), policy, setup.classify);
}

/** A Signer backed by a KMS key; built once per `signers.kms` config and reused for every signature. */
export class KmsSigner implements Signer {
  readonly description: string;

  constructor(
    private readonly ref: string,
    private readonly key: KmsKey,
    private readonly policy: KmsCallPolicy,
    private readonly classify: FailureClassifier,
  ) {
    // keyid is a public fingerprint: it tells keys apart in logs and reveals nothing secret.
    this.description = `kms ${ref} (${key.algorithm}, ${keyIdOf(key.publicKey)})`;
  }

  async sign(data: Buffer): Promise<Buffer> {
    const sig = await callKms(`signing with ${this.ref}`, this.policy, this.classify, (signal) =>
      this.key.sign(data, signal),
    );
    // A signature that does not verify (key rotated or replaced under us, a misbehaving proxy) must never be
    // stored as if it were good: verifiers would reject it and the run would still read "signed".
    if (!verifies(this.key, data, sig)) {
      throw new ChainsmithError(
        'KmsError',
        `signing with ${this.ref}: the KMS returned a signature that does not verify against the key's public key ` +
          '(was the key rotated? rebuild the signer by re-applying chains-config)',
      );
    }
    return sig;
  }

  publicKey(): KeyObject {
    return this.key.publicKey;
  }

  cert(): string {
    return '';
  }

  chain(): string {
    return '';
  }
}

/** The digest of data under hash (the bytes sent to a KMS that signs digests). */
export function digestOf(hash: Exclude<KmsHash, null>, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

/** "SHA-256" for "sha256"; "" for pure signatures. */
export function hashLabel(hash: KmsHash): string {
  return hash === null ? '' : hash.replace('sha', 'SHA-');
}

function verifies(key: KmsKey, data: Buffer, sig: Buffer): boolean {
  try {
    return cryptoVerify(key.hash, data, { key: key.publicKey, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}
