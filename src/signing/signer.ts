// The signing seam: one method that signs bytes, plus what verifiers need to know about the key.
import type { KeyObject } from 'node:crypto';

export interface SignOptions {
  /**
   * the signature will be uploaded to a transparency log: make it deterministic (RFC 6979 for ECDSA file keys), so a
   * second attempt by another replica or after a restart yields the same entry (Rekor answers 409 with the existing
   * one) instead of a second entry for the same payload. Costs ~0.5 ms of CPU per ECDSA signature, so only asked for
   * when it matters; KMS and keyless signers ignore it.
   */
  deterministic?: boolean;
}

/** A key that signs bytes (x509 file key, KMS key, ...). Implementations are built once per key/config. */
export interface Signer {
  /**
   * signs `data` (the hash algorithm is the key's cosign default) and returns the raw signature (DER for ECDSA);
   * `opts.deterministic` asks for the same signature every time for the same data where the key allows it
   */
  sign(data: Buffer, opts?: SignOptions): Promise<Buffer>;
  /** the public key, for DSSE keyid, verification and `cosign.pub` export */
  publicKey(): KeyObject;
  /** PEM certificate, or "" when the key has none */
  cert(): string;
  /** PEM chain, or "" */
  chain(): string;
  /** short description for logs: never key material */
  readonly description: string;
  /**
   * true for a keyless signer: an ephemeral key per signer with a short-lived Fulcio certificate (`cert()` is set
   * after the first signature). There is no stable key to check marks against, and its signatures must be logged.
   */
  readonly keyless?: boolean;
}

/** A signed payload as storage receives it (spec §5.6). */
export interface SignedPayload {
  /** the payload bytes that were signed (statement or simplesigning JSON) */
  payload: Buffer;
  /** for in-toto formats the DSSE envelope JSON; for simplesigning the raw signature bytes */
  signature: Buffer;
  cert: string;
  chain: string;
  /** the signer's public key, when known: lets `oci` storage tell its own earlier signature from another key's */
  publicKey?: KeyObject;
}
