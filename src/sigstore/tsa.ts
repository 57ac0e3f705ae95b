// RFC 3161 timestamps of signatures from a sigstore timestamp authority (`/api/v1/timestamp`), through @sigstore/sign's
// TSAWitness (the request is the sha256 of the signature bytes, as sigstore clients and verifiers expect).
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { TSAWitness } from '@sigstore/sign';
import { ChainsmithError, messageOf } from '../errors.js';
import { serviceBase, shorten } from './service.js';

export const TSA_TIMEOUT_MS = 30_000;

/** The DER of a signed RFC 3161 timestamp over `signature`. Throws TransparencyFailed (transient but for 4xx). */
export async function timestampSignature(url: string, signature: Buffer, timeoutMs = TSA_TIMEOUT_MS): Promise<Buffer> {
  const base = serviceBase(url, 'the timestamp authority URL');
  const witness = new TSAWitness({ tsaBaseURL: base, timeout: timeoutMs, retry: false });
  try {
    const { rfc3161Timestamps } = await witness.testify({
      $case: 'messageSignature',
      messageSignature: { messageDigest: { algorithm: HashAlgorithm.SHA2_256, digest: Buffer.alloc(0) }, signature },
    });
    const stamp = rfc3161Timestamps[0]?.signedTimestamp;
    if (!stamp || stamp.length === 0) throw new Error('the answer holds no timestamp');
    return stamp;
  } catch (err) {
    const status = statusOf(err);
    const transient = status === undefined || status >= 500 || status === 429 || status === 408;
    return Promise.reject(
      new ChainsmithError('TransparencyFailed', `timestamp authority ${base}: ${shorten(messageOf(err))}`, {
        transient,
        cause: err,
      }),
    );
  }
}

// @sigstore/sign wraps the HTTP error (`statusCode`) as the cause of an InternalError
function statusOf(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { statusCode?: unknown }).statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}
