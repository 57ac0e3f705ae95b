// Media types and annotation keys `verify` reads, on top of those src/oci/media-types.ts defines for writing.
import { ANNOTATION_SIGNATURE, DSSE_LAYER, SIMPLESIGNING_LAYER } from '../oci/media-types.js';

export { ANNOTATION_SIGNATURE, DSSE_LAYER };

/** Layer media types of image signatures in a `.sig` image. */
export const SIGNATURE_LAYER_TYPES: ReadonlySet<string> = new Set([SIMPLESIGNING_LAYER]);

/** Every sigstore bundle version (`application/vnd.dev.sigstore.bundle.v0.3+json`, `…bundle+json;version=0.3`). */
export const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';
