// Media types and annotation keys of cosign's and sigstore's OCI artifacts (cosign-format.md §1–§3): what the
// `.sig`/`.att` layers and referrer bundles are written with, and what `verify` accepts when reading them.

export const SIMPLESIGNING_LAYER = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const DSSE_LAYER = 'application/vnd.dsse.envelope.v1+json';
export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Every sigstore bundle version (`application/vnd.dev.sigstore.bundle.v0.3+json`, `…bundle+json;version=0.3`). */
export const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';

/** Layer media types of image signatures in a `.sig` image. */
export const SIGNATURE_LAYER_TYPES: ReadonlySet<string> = new Set([SIMPLESIGNING_LAYER]);

export const ANNOTATION_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const ANNOTATION_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const ANNOTATION_CHAIN = 'dev.sigstore.cosign/chain';
export const ANNOTATION_PREDICATE_TYPE = 'predicateType';
/** The Rekor bundle (SET and entry) that lets cosign check the transparency log offline. */
export const ANNOTATION_BUNDLE = 'dev.sigstore.cosign/bundle';
