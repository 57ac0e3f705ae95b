// The check of one sigstore bundle read from an OCI 1.1 referrer (cosign-format.md §3.4, chains-behaviour.md §4.3):
// image signatures (cosign v3's `cosign/sign/v1` statements, Chains v0.29's DSSE-wrapped simple signing, chainsmith's
// earlier message signatures) and attestations (every other DSSE bundle); see bundleContent.
// From @sigstore/bundle (through src/sigstore/bundle.ts): parsing and validation (`bundleFromJSON`), so a malformed
// bundle is refused by the library's rules. The signatures are checked with the key given to `verify`, by the same
// code as the `.sig`/`.att` layers (checks.ts): @sigstore/verify's Verifier is not used because it checks ECDSA
// with SHA-256 only (cosign.key P-384/P-521 keys sign with SHA-384/512), and for a bundle that carries a
// certificate it takes the key from the certificate and wants a CA chain for it, where `verify --key` trusts the
// given key and not the bundle's verification material.
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Bundle, MessageSignature } from '@sigstore/bundle';
import { simpleSigningJson } from '../formats/simplesigning.js';
import { sha256Digest } from '../oci/manifest.js';
import { parseBundle } from '../sigstore/bundle.js';
import { COSIGN_SIGN_PREDICATE } from '../formats/cosign-sign.js';
import { SIMPLESIGNING_LAYER } from '../sigstore/media-types.js';
import {
  checkAttestation,
  checkSimpleSigning,
  parseStatement,
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
import { trustedBundleChecks } from './bundle-trust.js';
import type { TrustedRootMaterial } from './trusted-root.js';

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
  /** `--trusted-root`: the entry must be of one of its logs, and timestamps are checked (bundle-trust.ts) */
  trustedRoot?: TrustedRootMaterial;
  /** with a trusted root: no log entry required */
  ignoreTlog?: boolean;
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
  trust: { trustedRoot?: TrustedRootMaterial; ignoreTlog?: boolean } = {},
): BundleVerdict {
  const bundle = parseBundle(blob);
  if (typeof bundle === 'string') {
    const checks = [{ name: 'bundle', status: 'failed' as const, detail: bundle }];
    return { kind: 'attestation', verdict: { source, authentic: false, checks } };
  }
  const { kind, stored, verify } = bundleContent(source, bundle, image, expect);
  const entries = bundle.verificationMaterial.tlogEntries;
  if (trust.trustedRoot) {
    return { kind, verdict: trustedRootVerdict(source, bundle, stored, verify, key, trust.trustedRoot, trust, rekor) };
  }
  if (isKeyless(key)) {
    const { certificate, chain } = bundleCertificates(bundle);
    const verdict = keylessVerdict(
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
    return { kind, verdict };
  }
  const record = recordFromBundleEntries(entries);
  const log = rekorFor(record, rekor);
  const verdict = verify(key);
  return {
    kind,
    verdict: log
      ? withTlogChecks(verdict, [checkTlogRecord(record, log, stored), ...checkInclusionProof(entries, log)])
      : verdict,
  };
}

/**
 * A bundle under `--trusted-root`: its log entry (Rekor v1 or v2) and timestamps (bundle-trust.ts), then the
 * signature with the key or, keylessly, the certificate dated by the entry's SET or by the timestamps.
 */
function trustedRootVerdict(
  source: string,
  bundle: Bundle,
  stored: StoredBytes,
  verify: (k: KeyObject) => LayerVerdict,
  key: SignerTrust,
  root: TrustedRootMaterial,
  trust: { ignoreTlog?: boolean },
  rekor: RekorLogKey | undefined,
): LayerVerdict {
  const entries = bundle.verificationMaterial.tlogEntries;
  const ignoreTlog = trust.ignoreTlog ?? false;
  if (!isKeyless(key)) {
    const t = trustedBundleChecks(bundle, stored, { root, keyless: false, ignoreTlog, signer: key, ...opt(rekor) });
    const verdict = verify(key);
    if (t.kind === 'dated') return withTlogChecks(verdict, t.checks);
    const record = recordFromBundleEntries(entries);
    return withTlogChecks(verdict, [
      checkTlogRecord(record, t.log, stored),
      ...checkInclusionProof(entries, t.log),
      ...t.more,
    ]);
  }
  const { certificate, chain } = bundleCertificates(bundle);
  let leaf: X509Certificate | undefined;
  try {
    leaf = certificate ? new X509Certificate(certificate) : undefined;
  } catch {
    leaf = undefined; // named by the certificate check
  }
  const t = trustedBundleChecks(bundle, stored, {
    root,
    keyless: true,
    ignoreTlog,
    ...(leaf ? { signer: leaf } : {}),
    ...opt(rekor),
  });
  const record = recordFromBundleEntries(entries);
  const item = { source, certificate, chain, stored, record, verify };
  if (t.kind === 'rekor-v1')
    return keylessVerdict({ ...item, moreTlogChecks: [...checkInclusionProof(entries, t.log), ...t.more] }, key, t.log);
  // --insecure-ignore-tlog and no verified timestamp: judged now, as without a trusted root; a bad timestamp fails
  if (ignoreTlog && t.times.length === 0) return withTlogChecks(keylessVerdict(item, key, undefined), t.checks);
  return keylessVerdict({ ...item, dated: { checks: t.checks, times: t.times } }, key, undefined);
}

const opt = (rekor: RekorLogKey | undefined): { rekor?: RekorLogKey } => (rekor ? { rekor } : {});

/**
 * What a bundle holds, the bytes its tlog entry records, and how its signature is checked with a key:
 * - a DSSE in-toto statement of predicateType `https://sigstore.dev/cosign/sign/v1`: an image signature as cosign v3
 *   (and chainsmith since issue 19) writes it, checked like a statement about the image with no other expectation;
 * - a DSSE envelope of a simple-signing payload: an image signature as Chains v0.29 writes it, whose signature is
 *   over the raw payload rather than the DSSE PAE (chains-behaviour.md §4.3), checked as a `.sig` layer would be;
 * - any other DSSE envelope: an attestation;
 * - a message signature: an image signature as chainsmith wrote it before issue 19 (the digest of the image's
 *   simple-signing payload).
 */
function bundleContent(
  source: string,
  bundle: Bundle,
  image: ImageIdentity,
  expect: AttestationExpectations,
): { kind: BundleVerdict['kind']; stored: StoredBytes; verify: (k: KeyObject) => LayerVerdict } {
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    const sig = env.signatures[0]?.sig;
    if (env.payloadType === SIMPLESIGNING_LAYER) {
      return {
        kind: 'signature',
        stored: { kind: 'signature', payload: env.payload, signature: sig ?? Buffer.alloc(0) },
        verify: (k) => checkSimpleSigning(source, env.payload, sig, k, image),
      };
    }
    const stored: StoredBytes = {
      kind: 'bundle-envelope',
      payload: env.payload,
      signatures: env.signatures.map((s) => s.sig),
      payloadType: env.payloadType,
    };
    if (predicateTypeOf(env.payload) === COSIGN_SIGN_PREDICATE) {
      return { kind: 'signature', stored, verify: (k) => checkAttestation(source, env, k, image.digest) };
    }
    return { kind: 'attestation', stored, verify: (k) => checkAttestation(source, env, k, image.digest, expect) };
  }
  const ms = bundle.content.messageSignature;
  const payload = Buffer.from(simpleSigningJson(image.repository, image.digest), 'utf8');
  return {
    kind: 'signature',
    stored: { kind: 'signature', payload, signature: ms.signature },
    verify: (k) => checkMessageSignature(source, ms, k, image),
  };
}

function predicateTypeOf(statement: Buffer): string | undefined {
  const parsed = parseStatement(statement);
  return typeof parsed === 'string' ? undefined : parsed.predicateType;
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
