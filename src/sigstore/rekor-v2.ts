// A Rekor v2 (rekor-tiles) client: `hashedrekord` and `dsse` v0.0.2 entries, POSTed to `/api/v2/log/entries`, whose
// answer is a `TransparencyLogEntry` (no signed entry timestamp; an inclusion proof with a signed checkpoint).
// From @sigstore/protobuf-specs: the request and answer messages and their protobuf JSON (`CreateEntryRequest`,
// `TransparencyLogEntry`). Hand-written: the verifier's key details. @sigstore/sign's RekorWitness v2 always declares
// an ECDSA P-256 certificate (its own TODO), which is wrong for `cosign.key`/`x509.pem`/KMS keys and other curves.
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { PublicKeyDetails, TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { CreateEntryRequest } from '@sigstore/protobuf-specs/rekor/v2';
import { ChainsmithError, messageOf } from '../errors.js';
import { HttpTransport, ResponseTooLargeError, type HttpResponse } from '../oci/transport.js';
import { MAX_REKOR_RESPONSE_BYTES, REKOR_IDLE_TIMEOUT_MS, type TlogEntry } from './rekor.js';
import { pae } from './dsse.js';
import { serviceBase, serviceMessage, shorten } from './service.js';

/**
 * A Rekor v2 write blocks until a checkpoint covers the entry (rekor-tiles CLIENTS.md: allow 20 s or more), so the
 * request deadline is longer than Rekor v1's.
 */
export const REKOR_V2_TIMEOUT_MS = 60_000;

/** The signer's side of an entry: its certificate (keyless) or its public key. */
export interface EntryVerifier {
  /** DER of the signing certificate, when the signer has one */
  certificate?: Buffer;
  publicKey: KeyObject;
}

/** How a key signs, as Rekor v2 names it, and the digest a `hashedrekord` entry carries for it. */
export function keyDetailsOf(key: KeyObject): { details: PublicKeyDetails; hash: string } {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return { details: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, hash: 'sha256' };
    if (curve === 'secp384r1') return { details: PublicKeyDetails.PKIX_ECDSA_P384_SHA_384, hash: 'sha384' };
    if (curve === 'secp521r1') return { details: PublicKeyDetails.PKIX_ECDSA_P521_SHA_512, hash: 'sha512' };
    throw unsupported(`ECDSA curve ${curve ?? 'unknown'}`);
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    const details =
      bits === 2048
        ? PublicKeyDetails.PKIX_RSA_PKCS1V15_2048_SHA256
        : bits === 3072
          ? PublicKeyDetails.PKIX_RSA_PKCS1V15_3072_SHA256
          : bits === 4096
            ? PublicKeyDetails.PKIX_RSA_PKCS1V15_4096_SHA256
            : undefined;
    if (details === undefined) throw unsupported(`an RSA key of ${bits ?? '?'} bits`);
    return { details, hash: 'sha256' };
  }
  // pure Ed25519 signs the message, not a digest: a hashedrekord entry (a digest and a signature) cannot hold it
  if (type === 'ed25519') throw unsupported('an Ed25519 signature (hashedrekord v0.0.2 needs a prehashed one)');
  throw unsupported(`a ${type ?? 'unknown'} key`);
}

function unsupported(what: string): ChainsmithError {
  return new ChainsmithError('TransparencyFailed', `Rekor v2 cannot record ${what}`);
}

function verifierJson(v: EntryVerifier) {
  const { details } = keyDetailsOf(v.publicKey);
  return {
    keyDetails: details,
    verifier: v.certificate
      ? { $case: 'x509Certificate' as const, x509Certificate: { rawBytes: v.certificate } }
      : {
          $case: 'publicKey' as const,
          publicKey: { rawBytes: v.publicKey.export({ type: 'spki', format: 'der' }) },
        },
  };
}

/** The request for a signature over `payload` (an image signature): its digest, the signature and the verifier. */
export function hashedRekordRequest(payload: Buffer, signature: Buffer, verifier: EntryVerifier): CreateEntryRequest {
  const { hash } = keyDetailsOf(verifier.publicKey);
  return {
    spec: {
      $case: 'hashedRekordRequestV002',
      hashedRekordRequestV002: {
        digest: createHash(hash).update(payload).digest(),
        signature: { content: signature, verifier: verifierJson(verifier) },
      },
    },
  };
}

/**
 * The request for a DSSE envelope (an attestation). Rekor v2 (rekor-tiles v2.3) records only `hashedrekord`: as
 * sigstore-go does, the entry is a hashedrekord of the envelope's first signature over the digest of its PAE.
 */
export function dsseRequest(envelopeJson: Buffer, verifier: EntryVerifier): CreateEntryRequest {
  const env = JSON.parse(envelopeJson.toString('utf8')) as {
    payload: string;
    payloadType: string;
    signatures: Array<{ sig: string }>;
  };
  const sig = env.signatures[0]?.sig;
  if (!sig) throw new ChainsmithError('TransparencyFailed', 'the DSSE envelope has no signature to record');
  return hashedRekordRequest(
    pae(env.payloadType, Buffer.from(env.payload, 'base64')),
    Buffer.from(sig, 'base64'),
    verifier,
  );
}

/** The certificate DER of a PEM chain's first certificate, for an EntryVerifier. */
export function certificateDer(pem: string): Buffer | undefined {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  return first ? new X509Certificate(first).raw : undefined;
}

/** Options of a RekorV2Client. */
export interface RekorV2ClientOptions {
  /** the log's base URL, e.g. https://log2025-1.rekor.sigstore.dev */
  url: string;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  maxResponseBytes?: number;
  caBundle?: string;
}

/** Uploads entries to one Rekor v2 log. */
export class RekorV2Client {
  private readonly base: string;
  private readonly transport: HttpTransport;
  private readonly maxBytes: number;

  constructor(opts: RekorV2ClientOptions) {
    this.base = serviceBase(opts.url, 'the Rekor v2 URL');
    this.maxBytes = opts.maxResponseBytes ?? MAX_REKOR_RESPONSE_BYTES;
    this.transport = new HttpTransport({
      timeoutMs: opts.timeoutMs ?? REKOR_V2_TIMEOUT_MS,
      idleTimeoutMs: opts.idleTimeoutMs ?? Math.max(REKOR_IDLE_TIMEOUT_MS, REKOR_V2_TIMEOUT_MS),
      maxBodyBytes: this.maxBytes,
      ...(opts.caBundle ? { tls: { caBundle: opts.caBundle } } : {}),
    });
  }

  /** Creates the entry. Throws TransparencyFailed: transient for network errors, timeouts, 5xx and 429. */
  async upload(request: CreateEntryRequest): Promise<TlogEntry> {
    let res: HttpResponse;
    try {
      res = await this.transport.send({
        method: 'POST',
        url: `${this.base}/api/v2/log/entries`,
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(CreateEntryRequest.toJSON(request))),
      });
    } catch (err) {
      if (err instanceof ResponseTooLargeError)
        throw this.fail(`the answer is larger than ${this.maxBytes} bytes`, false, err);
      throw this.fail(`POST failed: ${messageOf(err)}`, true, err);
    }
    if (res.status !== 201 && res.status !== 200) {
      const transient = res.status >= 500 || res.status === 429 || res.status === 408;
      const message = serviceMessage(res.body);
      throw this.fail(`creating the entry: HTTP ${res.status}${message ? `: ${message}` : ''}`, transient);
    }
    const entry = parseV2Entry(res.body);
    if (typeof entry === 'string') throw this.fail(`not a transparency log entry: ${entry}`, false);
    return entry;
  }

  private fail(detail: string, transient: boolean, cause?: unknown): ChainsmithError {
    return new ChainsmithError('TransparencyFailed', `rekor v2 ${this.base}: ${detail}`, {
      transient,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/**
 * A Rekor v2 `TransparencyLogEntry` (protobuf JSON) as a TlogEntry: the same fields a v1 entry has, hashes and the
 * log ID in hex, no SET and an integrated time of 0 (Rekor v2 gives neither; a timestamp authority does).
 */
export function parseV2Entry(bytes: Buffer): TlogEntry | string {
  let e: TransparencyLogEntry;
  try {
    e = TransparencyLogEntry.fromJSON(JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    return err instanceof SyntaxError ? 'not JSON' : shorten(messageOf(err));
  }
  const proof = e.inclusionProof;
  const logIndex = Number(e.logIndex);
  if (!Number.isSafeInteger(logIndex) || logIndex < 0) return 'no valid logIndex';
  if (!e.logId || e.logId.keyId.length === 0) return 'no logId';
  if (!e.kindVersion || e.canonicalizedBody.length === 0) return 'no kind or body';
  if (!proof || !proof.checkpoint) return 'no inclusion proof with a checkpoint';
  const hex = (b: Buffer): string => b.toString('hex');
  return {
    uuid: '',
    logIndex,
    logID: hex(e.logId.keyId),
    integratedTime: Number(e.integratedTime),
    body: e.canonicalizedBody.toString('base64'),
    kind: e.kindVersion.kind,
    apiVersion: e.kindVersion.version,
    inclusionProof: {
      logIndex: Number(proof.logIndex),
      rootHash: hex(proof.rootHash),
      treeSize: Number(proof.treeSize),
      hashes: proof.hashes.map(hex),
      checkpoint: proof.checkpoint.envelope,
    },
  };
}
