// `awskms://[HOST[:PORT]]/KEY-ID | alias/NAME | ARN` through @aws-sdk/client-kms (cosign-format.md §5.2).
// Credentials and region come from the SDK's default chain; AWS_ENDPOINT_URL(_KMS) is honoured by the SDK itself,
// and a host in the reference becomes https://HOST as in sigstore.
import { createPublicKey } from 'node:crypto';
import {
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  type KMSClientConfig,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { ChainsmithError } from '../../errors.js';
import type { Signer } from '../signer.js';
import { failureForStatus, networkErrorCode, type KmsCallOptions, type KmsFailure } from './call.js';
import type { KmsRef } from './kmsref.js';
import { buildKmsSigner, digestOf, hashLabel, type KmsHash, type KmsKey } from './kms-signer.js';

type AwsRef = Extract<KmsRef, { provider: 'awskms' }>;

/** Key specs that can sign for cosign, with the algorithm sigstore uses for each. */
const KEY_SPECS: Record<string, { name: string; algorithm: SigningAlgorithmSpec; hash: Exclude<KmsHash, null> }> = {
  ECC_NIST_P256: { name: 'ECDSA P-256', algorithm: 'ECDSA_SHA_256', hash: 'sha256' },
  ECC_NIST_P384: { name: 'ECDSA P-384', algorithm: 'ECDSA_SHA_384', hash: 'sha384' },
  ECC_NIST_P521: { name: 'ECDSA P-521', algorithm: 'ECDSA_SHA_512', hash: 'sha512' },
  // RSA: PKCS#1 v1.5 with SHA-256, the scheme `cosign verify --key` checks RSA keys with.
  RSA_2048: { name: 'RSA-2048 PKCS#1 v1.5', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
  RSA_3072: { name: 'RSA-3072 PKCS#1 v1.5', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
  RSA_4096: { name: 'RSA-4096 PKCS#1 v1.5', algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', hash: 'sha256' },
};

/** Builds a signer for an AWS KMS key: one client, the public key and key spec read once. */
export async function createAwsKmsSigner(
  ref: AwsRef,
  opts: KmsCallOptions = {},
  clientConfig: KMSClientConfig = {},
): Promise<Signer> {
  const region = clientConfig.region ?? regionFromArn(ref.keyId);
  const client = new KMSClient({
    // Retries are ours (callKms), so a slow KMS is not retried twice over.
    maxAttempts: 1,
    ...(ref.endpoint ? { endpoint: `https://${ref.endpoint}` } : {}),
    ...(region ? { region } : {}),
    ...clientConfig,
  });
  return buildKmsSigner(ref.ref, { opts, classify: classifyAwsFailure }, (call) =>
    call(`reading public key of ${ref.ref}`, async (abortSignal) => {
      const out = await client.send(new GetPublicKeyCommand({ KeyId: ref.keyId }), { abortSignal });
      return awsKey(client, ref, out);
    }),
  );
}

function awsKey(
  client: KMSClient,
  ref: AwsRef,
  out: { PublicKey?: Uint8Array; KeySpec?: string; KeyUsage?: string; SigningAlgorithms?: string[] },
): KmsKey {
  if (out.KeyUsage && out.KeyUsage !== 'SIGN_VERIFY') {
    throw new ChainsmithError('KmsKeyUnsupported', `key usage is ${out.KeyUsage}, not SIGN_VERIFY`);
  }
  const spec = KEY_SPECS[out.KeySpec ?? ''];
  if (!spec) {
    throw new ChainsmithError(
      'KmsKeyUnsupported',
      `key spec ${out.KeySpec ?? 'unknown'} cannot sign for cosign (supported: ${Object.keys(KEY_SPECS).join(', ')})`,
    );
  }
  if (out.SigningAlgorithms && out.SigningAlgorithms.length > 0 && !out.SigningAlgorithms.includes(spec.algorithm)) {
    throw new ChainsmithError(
      'KmsKeyUnsupported',
      `key does not offer ${spec.algorithm} (offers ${out.SigningAlgorithms.join(', ')})`,
    );
  }
  if (!out.PublicKey) throw new ChainsmithError('KmsError', 'GetPublicKey returned no public key');
  const publicKey = createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' });
  return {
    publicKey,
    hash: spec.hash,
    algorithm: `${spec.name} ${hashLabel(spec.hash)}`,
    sign: async (data, abortSignal) => {
      const res = await client.send(
        new SignCommand({
          KeyId: ref.keyId,
          Message: digestOf(spec.hash, data),
          MessageType: 'DIGEST',
          SigningAlgorithm: spec.algorithm,
        }),
        { abortSignal },
      );
      if (!res.Signature) throw new ChainsmithError('KmsError', 'Sign returned no signature');
      return Buffer.from(res.Signature);
    },
  };
}

/** The region named by an ARN key reference, so ARNs work without AWS_REGION. */
function regionFromArn(keyId: string): string | undefined {
  const m = /^arn:[^:]+:kms:([^:]+):/.exec(keyId);
  return m?.[1];
}

const PERMISSION = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'CredentialsProviderError',
]);
const UNSUPPORTED = new Set([
  'DisabledException',
  'KMSInvalidStateException',
  'InvalidKeyUsageException',
  'UnsupportedOperationException',
]);
const TRANSIENT = new Set([
  'ThrottlingException',
  'LimitExceededException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'InternalFailure',
]);

/** Classifies an AWS SDK error (by its exception name, then HTTP status, then network code). */
export function classifyAwsFailure(err: unknown): KmsFailure {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? '';
  const detail = `${name || 'error'}: ${e?.message ?? String(err)}`.slice(0, 300);
  if (name === 'NotFoundException') return { reason: 'KmsKeyNotFound', transient: false, detail };
  if (PERMISSION.has(name)) return { reason: 'KmsPermissionDenied', transient: false, detail };
  if (UNSUPPORTED.has(name)) return { reason: 'KmsKeyUnsupported', transient: false, detail };
  if (TRANSIENT.has(name)) return { reason: 'KmsUnavailable', transient: true, detail };
  const code = networkErrorCode(err);
  if (code) return { reason: 'KmsUnavailable', transient: true, detail: `cannot reach AWS KMS (${code})` };
  if (/region is missing/i.test(e?.message ?? '')) {
    return {
      reason: 'KmsError',
      transient: false,
      detail: 'no AWS region: set AWS_REGION or use an ARN key reference',
    };
  }
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number') return failureForStatus(status, detail);
  return { reason: 'KmsError', transient: false, detail };
}
