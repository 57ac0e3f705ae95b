// `cosign-sign`: what cosign v3 signs for an image when signatures are sigstore bundles (cosign-format.md §3.4,
// cosign's `signDigestBundle`): an in-toto v1 statement about the image digest with predicateType
// `https://sigstore.dev/cosign/sign/v1` and an empty predicate, signed as DSSE. Used instead of `simplesigning` for
// image signatures stored with `storage.oci.encoding-format: sigstore-bundle`, so `cosign verify` (v3, bundles) and
// Kyverno's ImageValidatingPolicy accept them; Chains v0.29 wraps the simplesigning payload in a DSSE envelope whose
// signature is over the raw payload, which no DSSE verifier accepts (docs/compatibility.md). Internal: not a value of
// `artifacts.oci.format`.
import { ChainsmithError } from '../errors.js';
import type { FormatInput, Payload, PayloadFormat } from './types.js';

/** The predicate type cosign v3 gives image signatures (`types.CosignSignPredicateType`). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
const IMAGE_DIGEST = /^sha256:([a-f0-9]{64})$/;

/**
 * The statement's JSON: the members in the order of in-toto's protobuf (what cosign's protojson writes), the subject
 * with no name and empty annotations as cosign writes it without `-a` (the signature is about the digest, wherever
 * the image is copied). The same JSON value as cosign's (e2e/oci-referrers.e2e.ts), without protojson's spaces.
 */
export function cosignSignStatement(digest: string): string {
  const hex = IMAGE_DIGEST.exec(digest)?.[1];
  if (!hex) throw new ChainsmithError('PayloadFailed', `image digest "${digest}" is not sha256:<64 hex>`);
  return JSON.stringify({
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ digest: { sha256: hex }, annotations: {} }],
    predicateType: COSIGN_SIGN_PREDICATE,
    predicate: {},
  });
}

/** The `cosign-sign` payload format (image signatures in sigstore-bundle mode; never for runs). */
export const cosignSignFormat: PayloadFormat = {
  name: 'cosign-sign',
  createPayload(input: FormatInput): Payload {
    if (input.kind !== 'Image') {
      throw new ChainsmithError('PayloadFailed', `cosign-sign signs images, not a ${input.kind}`);
    }
    const { repository, digest } = input.image;
    const bytes = Buffer.from(cosignSignStatement(digest), 'utf8');
    return {
      bytes,
      kind: 'in-toto',
      predicateType: COSIGN_SIGN_PREDICATE,
      // where storage attaches it (the statement itself names no repository)
      subjects: [{ name: repository, digest: { sha256: digest.slice('sha256:'.length) } }],
    };
  },
};
