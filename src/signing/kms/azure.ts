// `azurekms://VAULT-HOST/KEY[/VERSION]` through @azure/keyvault-keys (cosign-format.md §5.4): the vault URL is
// https://VAULT-HOST/, credentials from DefaultAzureCredential, ES256/384/512 or RS256 by key type, and Key Vault's
// raw r||s ECDSA signatures converted to DER as sigstore does.
import { createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto';
import {
  CryptographyClient,
  KeyClient,
  type KeyClientOptions,
  type KeyVaultKey,
  type SignatureAlgorithm,
} from '@azure/keyvault-keys';
import { ChainsmithError } from '../../errors.js';
import type { Signer } from '../signer.js';
import { failureForStatus, networkErrorCode, type KmsCallOptions, type KmsFailure } from './call.js';
import { ecdsaRawToDer } from './ecdsa-der.js';
import type { KmsRef } from './kmsref.js';
import { buildKmsSigner, digestOf, hashLabel, type KmsHash, type KmsKey } from './kms-signer.js';

type AzureRef = Extract<KmsRef, { provider: 'azurekms' }>;
/** A Key Vault credential (Azure's TokenCredential), named through the client so we depend on no transitive package. */
export type TokenCredential = ConstructorParameters<typeof KeyClient>[1];

/** How the Azure signer reaches Key Vault; tests replace the credential and the vault URL (no Azure runs here). */
export interface AzureClientSettings {
  credential?: TokenCredential;
  /** overrides https://VAULT-HOST/ from the reference (tests only) */
  vaultUrl?: string;
  clientOptions?: KeyClientOptions;
}

const EC_CURVES: Record<string, { name: string; algorithm: SignatureAlgorithm; hash: Exclude<KmsHash, null> }> = {
  'P-256': { name: 'ECDSA P-256', algorithm: 'ES256', hash: 'sha256' },
  'P-384': { name: 'ECDSA P-384', algorithm: 'ES384', hash: 'sha384' },
  'P-521': { name: 'ECDSA P-521', algorithm: 'ES512', hash: 'sha512' },
};

/** Builds a signer for a Key Vault key: one key client and one cryptography client, the key read once. */
export async function createAzureKmsSigner(
  ref: AzureRef,
  opts: KmsCallOptions = {},
  settings: AzureClientSettings = {},
): Promise<Signer> {
  const tokens = new Set<string>();
  const credential = remembering(settings.credential ?? (await defaultCredential()), tokens);
  const vaultUrl = settings.vaultUrl ?? ref.vaultUrl;
  // Retries are ours (callKms); Key Vault hosts are often custom domains, which the SDK's challenge check rejects.
  const clientOptions: KeyClientOptions = {
    retryOptions: { maxRetries: 0 },
    disableChallengeResourceVerification: true,
    ...settings.clientOptions,
  };
  const keys = new KeyClient(vaultUrl, credential, clientOptions);
  const setup = { opts, classify: classifyAzureFailure, secrets: () => [...tokens] };
  return buildKmsSigner(ref.ref, setup, async (call) => {
    const vaultKey = await call(`reading key ${ref.ref}`, (abortSignal) =>
      keys.getKey(ref.keyName, { ...(ref.version ? { version: ref.version } : {}), abortSignal }),
    );
    return azureKey(vaultKey, credential, clientOptions);
  });
}

function azureKey(vaultKey: KeyVaultKey, credential: TokenCredential, clientOptions: KeyClientOptions): KmsKey {
  const jwk = vaultKey.key;
  if (!jwk || !vaultKey.id) throw new ChainsmithError('KmsError', 'azurekms: the key read returned no key material');
  if (vaultKey.properties.enabled === false)
    throw new ChainsmithError('KmsKeyUnsupported', `azurekms: key ${vaultKey.name} is disabled`);
  if (jwk.keyOps && jwk.keyOps.length > 0 && !jwk.keyOps.includes('sign')) {
    throw new ChainsmithError(
      'KmsKeyUnsupported',
      `azurekms: key ${vaultKey.name} does not permit "sign" (key_ops: ${jwk.keyOps.join(', ')})`,
    );
  }
  const b64 = (u?: Uint8Array): string => Buffer.from(u ?? []).toString('base64url');
  let spec: { name: string; algorithm: SignatureAlgorithm; hash: Exclude<KmsHash, null>; ec: boolean };
  let nodeJwk: NodeJwk;
  if (jwk.kty === 'EC' || jwk.kty === 'EC-HSM') {
    const curve = EC_CURVES[jwk.crv ?? ''];
    if (!curve)
      throw new ChainsmithError(
        'KmsKeyUnsupported',
        `azurekms: curve ${jwk.crv ?? 'unknown'} cannot sign for cosign (supported: P-256, P-384, P-521)`,
      );
    spec = { ...curve, ec: true };
    nodeJwk = { kty: 'EC', crv: jwk.crv, x: b64(jwk.x), y: b64(jwk.y) };
  } else if (jwk.kty === 'RSA' || jwk.kty === 'RSA-HSM') {
    const bits = (jwk.n?.length ?? 0) * 8;
    spec = { name: `RSA-${bits} PKCS#1 v1.5`, algorithm: 'RS256', hash: 'sha256', ec: false };
    nodeJwk = { kty: 'RSA', n: b64(jwk.n), e: b64(jwk.e) };
  } else {
    throw new ChainsmithError(
      'KmsKeyUnsupported',
      `azurekms: key type ${jwk.kty ?? 'unknown'} cannot sign (supported: EC, RSA)`,
    );
  }
  const publicKey = createPublicKey({ key: nodeJwk, format: 'jwk' });
  // Built from the key just read: its id names that version, so every signature is made by the key whose public
  // half we hold, and the client need not fetch the key again before its first signature.
  const crypto = new CryptographyClient(vaultKey, credential, clientOptions);
  return {
    publicKey,
    hash: spec.hash,
    algorithm: `${spec.name} ${hashLabel(spec.hash)}, version ${vaultKey.properties.version ?? 'latest'}`,
    sign: async (data, abortSignal) => {
      const res = await crypto.sign(spec.algorithm, digestOf(spec.hash, data), { abortSignal });
      if (!res.result || res.result.length === 0)
        throw new ChainsmithError('KmsError', 'azurekms: sign returned no signature');
      // Key Vault returns JOSE-style r||s for ECDSA; cosign verifies ASN.1 DER.
      return spec.ec ? ecdsaRawToDer(res.result) : Buffer.from(res.result);
    },
  };
}

/** Wraps a credential so every access token it hands out can be scrubbed from error messages. */
function remembering(credential: TokenCredential, tokens: Set<string>): TokenCredential {
  return {
    getToken: async (scopes, options) => {
      const token = await credential.getToken(scopes, options);
      if (token?.token) tokens.add(token.token);
      return token;
    },
  };
}

async function defaultCredential(): Promise<TokenCredential> {
  // Loaded only when an azurekms signer is built: @azure/identity is large and pulls in MSAL.
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** Classifies a Key Vault or identity error (HTTP status, credential errors, network codes). */
export function classifyAzureFailure(err: unknown): KmsFailure {
  const e = err as { name?: string; statusCode?: number; code?: unknown; message?: string };
  // Only the first line: RestError messages can carry response bodies; never the request (it holds the token).
  const detail = `${e?.name ?? 'error'}: ${(e?.message ?? String(err)).split('\n')[0]}`.slice(0, 300);
  if (
    e?.name === 'CredentialUnavailableError' ||
    e?.name === 'AuthenticationError' ||
    e?.name === 'AggregateAuthenticationError'
  ) {
    return { reason: 'KmsPermissionDenied', transient: false, detail };
  }
  if (e?.code === 'KeyNotFound') return { reason: 'KmsKeyNotFound', transient: false, detail };
  if (typeof e?.statusCode === 'number') return failureForStatus(e.statusCode, detail);
  if (e?.code === 'REQUEST_SEND_ERROR') return { reason: 'KmsUnavailable', transient: true, detail };
  const net = networkErrorCode(err);
  if (net) return { reason: 'KmsUnavailable', transient: true, detail: `cannot reach Key Vault (${net})` };
  return { reason: 'KmsError', transient: false, detail };
}
