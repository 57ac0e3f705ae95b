// The check of one sigstore bundle read from an OCI 1.1 referrer (cosign-format.md §3.4, chains-behaviour.md §4.3):
// a DSSE bundle is an attestation, a message-signature bundle an image signature.
// From @sigstore/bundle (through src/sigstore/bundle.ts): parsing and validation (`bundleFromJSON`), so a malformed
// bundle is refused by the library's rules. The signatures are checked with the key given to `verify`, by the same
// code as the `.sig`/`.att` layers (checks.ts): @sigstore/verify's Verifier is not used because it checks ECDSA
// with SHA-256 only (cosign.key P-384/P-521 keys sign with SHA-384/512), and for a bundle that carries a
// certificate it takes the key from the certificate and wants a CA chain for it, where `verify --key` trusts the
// given key and not the bundle's verification material.
import type { KeyObject } from 'node:crypto';
import type { Bundle, MessageSignature } from '@sigstore/bundle';
import { simpleSigningJson } from '../formats/simplesigning.js';
import { sha256Digest } from '../oci/manifest.js';
import { parseBundle } from '../sigstore/bundle.js';
import {
  checkAttestation,
  checkSimpleSigning,
  type AttestationExpectations,
  type ImageIdentity,
  type LayerVerdict,
} from './checks.js';
import {
  checkInclusionProof,
  checkTlogRecord,
  recordFromBundleEntries,
  rekorFor,
  withTlogChecks,
  type RekorLogKey,
  type StoredBytes,
} from './tlog.js';
import { isKeyless, keylessVerdict, type SignerTrust } from './keyless.js';

/** What a bundle turned out to be, and its verdict. */
export interface BundleVerdict {
  kind: 'signature' | 'attestation';
  verdict: LayerVerdict;
}

/** What the bundles of one image are checked against. */
export interface BundleCheck {
  key: SignerTrust;
  expect: AttestationExpectations;
  /** when set, the bundle's tlog entry must be of this log and record the bundle's signature (tlog.ts) */
  rekor?: RekorLogKey;
}

/**
 * Checks one bundle blob of a referrer of `image`; never throws. A bundle that is not one counts as an attestation.
 * With `rekor`, its first tlog entry must also verify (SET, log ID, body, and its inclusion proof and checkpoint).
 * Under keyless trust the key is the certificate of the bundle's verification material (keyless.ts).
 */
export function checkBundle(
  source: string,
  blob: Buffer,
  key: SignerTrust,
  image: ImageIdentity,
  expect: AttestationExpectations,
  rekor?: RekorLogKey,
): BundleVerdict {
  const bundle = parseBundle(blob);
  if (typeof bundle === 'string') {
    const checks = [{ name: 'bundle', status: 'failed' as const, detail: bundle }];
    return { kind: 'attestation', verdict: { source, authentic: false, checks } };
  }
  const entries = bundle.verificationMaterial.tlogEntries;
  if (isKeyless(key)) {
    const { certificate, chain } = bundleCertificates(bundle);
    const keyless = (stored: StoredBytes, verify: (k: KeyObject) => LayerVerdict): LayerVerdict =>
      keylessVerdict(
        {
          source,
          certificate,
          chain,
          stored,
          record: recordFromBundleEntries(entries),
          ...(rekor ? { moreTlogChecks: checkInclusionProof(entries, rekor) } : {}),
          verify,
        },
        key,
        rekor,
      );
    if (bundle.content.$case === 'dsseEnvelope') {
      const env = bundle.content.dsseEnvelope;
      const stored: StoredBytes = {
        kind: 'bundle-envelope',
        payload: env.payload,
        signatures: env.signatures.map((s) => s.sig),
      };
      return {
        kind: 'attestation',
        verdict: keyless(stored, (k) => checkAttestation(source, env, k, image.digest, expect)),
      };
    }
    const ms = bundle.content.messageSignature;
    const payload = Buffer.from(simpleSigningJson(image.repository, image.digest), 'utf8');
    const stored: StoredBytes = { kind: 'signature', payload, signature: ms.signature };
    return { kind: 'signature', verdict: keyless(stored, (k) => checkMessageSignature(source, ms, k, image)) };
  }
  const record = recordFromBundleEntries(entries);
  const log = rekorFor(record, rekor);
  const tlog = (verdict: LayerVerdict, stored: StoredBytes): LayerVerdict =>
    log
      ? withTlogChecks(verdict, [checkTlogRecord(record, log, stored), ...checkInclusionProof(entries, log)])
      : verdict;
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    const stored: StoredBytes = {
      kind: 'bundle-envelope',
      payload: env.payload,
      signatures: env.signatures.map((s) => s.sig),
    };
    return { kind: 'attestation', verdict: tlog(checkAttestation(source, env, key, image.digest, expect), stored) };
  }
  const ms = bundle.content.messageSignature;
  const payload = Buffer.from(simpleSigningJson(image.repository, image.digest), 'utf8');
  return {
    kind: 'signature',
    verdict: tlog(checkMessageSignature(source, ms, key, image), {
      kind: 'signature',
      payload,
      signature: ms.signature,
    }),
  };
}

// The signing certificate of a bundle and the certificates sent with it (v0.1/v0.2 chains); none for a key.
function bundleCertificates(bundle: Bundle): { certificate: Buffer | undefined; chain: Buffer[] } {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'certificate') return { certificate: material.certificate.rawBytes, chain: [] };
  if (material.$case === 'x509CertificateChain') {
    const [leaf, ...rest] = material.x509CertificateChain.certificates.map((c) => c.rawBytes);
    return { certificate: leaf, chain: rest };
  }
  return { certificate: undefined, chain: [] };
}

/**
 * A message-signature bundle carries only the digest of the simple-signing payload; that payload is deterministic
 * for an image, so we rebuild it, check the bundle's digest is of exactly it, and verify the signature over it.
 */
function checkMessageSignature(
  source: string,
  ms: MessageSignature,
  key: KeyObject,
  image: ImageIdentity,
): LayerVerdict {
  const payload = Buffer.from(simpleSigningJson(image.repository, image.digest), 'utf8');
  const expected = sha256Digest(payload).slice('sha256:'.length);
  if (ms.messageDigest.digest.toString('hex') !== expected) {
    const detail = 'the bundle signs another payload than the simple-signing payload of this image';
    return { source, authentic: false, checks: [{ name: 'digest', status: 'failed', detail }] };
  }
  return checkSimpleSigning(source, payload, ms.signature.length > 0 ? ms.signature : undefined, key, image);
}
