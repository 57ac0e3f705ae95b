// `simplesigning`: the cosign "simple signing" JSON signed for each image a TaskRun built
// (spec chains-behaviour.md §3.1, cosign-format.md §1.1). Byte-identical to `cosign sign` without `-a`.
import { ChainsmithError } from '../errors.js';
import type { FormatInput, Payload, PayloadFormat } from './types.js';
import { goJsonEscape } from './go-json.js';

const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The simplesigning JSON for a normalised repository and its manifest digest. */
export function simpleSigningJson(repository: string, digest: string): string {
  // Go encoding/json of sigstore's payload.SimpleContainerImage: struct field order, `optional` null.
  const doc = {
    critical: {
      identity: { 'docker-reference': repository },
      image: { 'docker-manifest-digest': digest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: null,
  };
  return goJsonEscape(JSON.stringify(doc));
}

/** The `simplesigning` payload format (image signatures; never for runs). */
export const simpleSigningFormat: PayloadFormat = {
  name: 'simplesigning',
  createPayload(input: FormatInput): Payload {
    if (input.kind !== 'Image') {
      throw new ChainsmithError('PayloadFailed', `simplesigning signs images, not a ${input.kind}`);
    }
    const { repository, digest } = input.image;
    if (!IMAGE_DIGEST.test(digest)) {
      throw new ChainsmithError('PayloadFailed', `image digest "${digest}" of ${repository} is not sha256:<64 hex>`);
    }
    return {
      bytes: Buffer.from(simpleSigningJson(repository, digest), 'utf8'),
      kind: 'simplesigning',
      subjects: [{ name: repository, digest: { sha256: digest.slice('sha256:'.length) } }],
    };
  },
};
