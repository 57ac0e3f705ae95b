// `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]` through @google-cloud/kms
// (cosign-format.md §5.3): Application Default Credentials, the hash chosen by the key version's algorithm,
// AsymmetricSign on a digest (Ed25519: on the message), DER signatures.
import { createPublicKey } from 'node:crypto';
import { KeyManagementServiceClient, protos } from '@google-cloud/kms';
import { ChainsmithError } from '../../errors.js';
import type { Signer } from '../signer.js';
import { failureForStatus, networkErrorCode, type KmsCallOptions, type KmsFailure } from './call.js';
import type { KmsRef } from './kmsref.js';
import { buildKmsSigner, digestOf, hashLabel, type KmsHash, type KmsKey } from './kms-signer.js';

type GcpRef = Extract<KmsRef, { provider: 'gcpkms' }>;
/** Options of the KMS client (endpoint, credentials, REST fallback); tests point it at a loopback stand-in. */
export type GcpClientOptions = NonNullable<ConstructorParameters<typeof KeyManagementServiceClient>[0]>;

/** Key version algorithms that can sign for cosign, and the digest each signs. */
const ALGORITHMS: Record<string, { name: string; hash: KmsHash }> = {
  EC_SIGN_P256_SHA256: { name: 'ECDSA P-256', hash: 'sha256' },
  EC_SIGN_P384_SHA384: { name: 'ECDSA P-384', hash: 'sha384' },
  RSA_SIGN_PKCS1_2048_SHA256: { name: 'RSA-2048 PKCS#1 v1.5', hash: 'sha256' },
  RSA_SIGN_PKCS1_3072_SHA256: { name: 'RSA-3072 PKCS#1 v1.5', hash: 'sha256' },
  RSA_SIGN_PKCS1_4096_SHA256: { name: 'RSA-4096 PKCS#1 v1.5', hash: 'sha256' },
  RSA_SIGN_PKCS1_4096_SHA512: { name: 'RSA-4096 PKCS#1 v1.5', hash: 'sha512' },
  EC_SIGN_ED25519: { name: 'Ed25519', hash: null },
};

const AlgorithmEnum = protos.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm;

/** Builds a signer for a Cloud KMS key version: one client; the version and public key read once. */
export async function createGcpKmsSigner(
  ref: GcpRef,
  opts: KmsCallOptions = {},
  clientOptions: GcpClientOptions = {},
): Promise<Signer> {
  const client = new KeyManagementServiceClient(clientOptions);
  return buildKmsSigner(ref.ref, { opts, classify: classifyGcpFailure }, async (call, policy) => {
    // gax's own retries are off: callKms retries, and its timeout bounds each attempt.
    const callOpts: CallOpts = { timeout: policy.timeoutMs, retry: null };
    const name = ref.version
      ? `${ref.cryptoKey}/cryptoKeyVersions/${ref.version}`
      : await call(`finding the enabled version of ${ref.ref}`, () =>
          latestEnabledVersion(client, ref.cryptoKey, callOpts),
        );
    return call(`reading public key of ${ref.ref}`, async () => {
      const [pub] = await client.getPublicKey({ name }, callOpts);
      return gcpKey(client, name, pub, callOpts);
    });
  });
}

type CallOpts = { timeout: number; retry: null };

function gcpKey(
  client: KeyManagementServiceClient,
  name: string,
  pub: protos.google.cloud.kms.v1.IPublicKey,
  call: CallOpts,
): KmsKey {
  const algorithmName = typeof pub.algorithm === 'number' ? AlgorithmEnum[pub.algorithm] : String(pub.algorithm ?? '');
  const alg = ALGORITHMS[algorithmName ?? ''];
  if (!alg) {
    throw new ChainsmithError(
      'KmsKeyUnsupported',
      `gcpkms: key version algorithm ${algorithmName || 'unknown'} cannot sign for cosign ` +
        `(supported: ${Object.keys(ALGORITHMS).join(', ')})`,
    );
  }
  if (!pub.pem) throw new ChainsmithError('KmsError', 'gcpkms: GetPublicKey returned no PEM');
  const publicKey = createPublicKey(pub.pem);
  const version = name.split('/').pop();
  return {
    publicKey,
    hash: alg.hash,
    algorithm: `${alg.name}${alg.hash ? ` ${hashLabel(alg.hash)}` : ''}, version ${version}`,
    sign: async (data) => {
      const request: protos.google.cloud.kms.v1.IAsymmetricSignRequest = alg.hash
        ? { name, digest: { [alg.hash]: digestOf(alg.hash, data) } }
        : { name, data };
      const [res] = await client.asymmetricSign(request, call);
      if (!res.signature || res.signature.length === 0)
        throw new ChainsmithError('KmsError', 'gcpkms: AsymmetricSign returned no signature');
      return Buffer.from(res.signature);
    },
  };
}

/** The enabled version with the highest number, as sigstore picks when the reference names none. */
async function latestEnabledVersion(
  client: KeyManagementServiceClient,
  cryptoKey: string,
  call: CallOpts,
): Promise<string> {
  const [versions] = await client.listCryptoKeyVersions(
    { parent: cryptoKey, filter: 'state=ENABLED' },
    { ...call, autoPaginate: true },
  );
  let best: { n: number; name: string } | undefined;
  for (const v of versions) {
    const n = Number(v.name?.split('/').pop());
    if (v.name && Number.isInteger(n) && (!best || n > best.n)) best = { n, name: v.name };
  }
  if (!best) throw new ChainsmithError('KmsKeyNotFound', `gcpkms: ${cryptoKey} has no enabled key version`);
  return best.name;
}

// google.rpc.Code values (gax reports them as `code`, for gRPC and for the REST fallback alike).
const NOT_FOUND = 5;
const PERMISSION = new Set([7 /* PERMISSION_DENIED */, 16 /* UNAUTHENTICATED */]);
const TRANSIENT = new Set([
  4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 13 /* INTERNAL */, 14 /* UNAVAILABLE */,
]);
const FAILED_PRECONDITION = 9;

/** Classifies a Cloud KMS client error by its status code, then by network error code. */
export function classifyGcpFailure(err: unknown): KmsFailure {
  const e = err as { code?: unknown; details?: unknown; message?: string; status?: unknown; response?: unknown };
  // REST (fallback) mode: the auth client's fetch rejects non-2xx answers with the HTTP status and the JSON body
  // as message. Its `code` is then the HTTP status too, not a google.rpc.Code, so it is read first.
  if (e?.response !== undefined && typeof e.status === 'number') {
    return failureForStatus(e.status, httpErrorMessage(e.message ?? '', e.status));
  }
  const detail = (typeof e?.details === 'string' && e.details ? e.details : (e?.message ?? String(err))).slice(0, 300);
  if (typeof e?.code === 'number') {
    if (e.code === NOT_FOUND) return { reason: 'KmsKeyNotFound', transient: false, detail };
    if (PERMISSION.has(e.code)) return { reason: 'KmsPermissionDenied', transient: false, detail };
    if (TRANSIENT.has(e.code)) return { reason: 'KmsUnavailable', transient: true, detail };
    // e.g. the key version is disabled or destroyed
    if (e.code === FAILED_PRECONDITION) return { reason: 'KmsKeyUnsupported', transient: false, detail };
    return { reason: 'KmsError', transient: false, detail };
  }
  const net = networkErrorCode(err);
  if (net) return { reason: 'KmsUnavailable', transient: true, detail: `cannot reach Cloud KMS (${net})` };
  if (/could not load the default credentials/i.test(detail))
    return { reason: 'KmsPermissionDenied', transient: false, detail };
  return { reason: 'KmsError', transient: false, detail };
}

/** The `error.message` of a Google JSON error body, else the body's first 200 characters. */
function httpErrorMessage(body: string, status: number): string {
  try {
    const msg = (JSON.parse(body) as { error?: { message?: unknown; status?: unknown } }).error;
    if (msg && typeof msg.message === 'string')
      return `HTTP ${status}${typeof msg.status === 'string' ? ` ${msg.status}` : ''}: ${msg.message}`;
  } catch {
    // not JSON: fall through to the raw text
  }
  return `HTTP ${status}: ${body.slice(0, 200)}`;
}
