// What the signer is given and what storage receives, per payload kind (chains-behaviour.md §5.6).
// Nothing here comes from the sigstore libraries: storage needs Chains' envelope bytes (dsse.ts) or the raw
// signature cosign puts in a `.sig` annotation; a store that wants a sigstore bundle makes it from these (bundle.ts).
import type { Payload } from '../formats/types.js';
import { createEnvelope, IN_TOTO_PAYLOAD_TYPE } from './dsse.js';
import type { SignOptions, Signer, SignedPayload } from '../signing/signer.js';

/** Signs a payload: in-toto statements as a DSSE envelope over PAE, simplesigning JSON directly (raw signature). */
export async function signPayload(signer: Signer, payload: Payload, opts?: SignOptions): Promise<SignedPayload> {
  const signature =
    payload.kind === 'in-toto'
      ? await createEnvelope(signer, payload.bytes, IN_TOTO_PAYLOAD_TYPE, opts)
      : await signer.sign(payload.bytes, opts);
  // publicKey lets OCI storage tell our own earlier signature from another key's (dedupe without false skips).
  return {
    payload: payload.bytes,
    signature,
    cert: signer.cert(),
    chain: signer.chain(),
    publicKey: signer.publicKey(),
  };
}
