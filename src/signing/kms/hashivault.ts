// `hashivault://KEY` (alias `openbao://KEY`): a Vault/OpenBao transit key. Requests mirror sigstore's hashivault
// provider (cosign-format.md §5.1) so signatures verify with `cosign verify --key <exported public key>`.
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { ChainsConfig } from '../../config/types.js';
import { ChainsmithError } from '../../errors.js';
import type { Signer } from '../signer.js';
import type { KmsCallOptions } from './call.js';
import type { KmsRef } from './kmsref.js';
import { buildKmsSigner, digestOf, hashLabel, type KmsHash, type KmsKey } from './kms-signer.js';
import { classifyVaultFailure, processEnvironment, VaultClient, type VaultEnvironment } from './vault-client.js';

type HashivaultRef = Extract<KmsRef, { provider: 'hashivault' }>;

/** Transit key types that can sign, and how cosign signs with each (SHA-256 digests; Ed25519 signs the message). */
const KEY_TYPES: Record<string, { name: string; hash: KmsHash }> = {
  'ecdsa-p256': { name: 'ECDSA P-256', hash: 'sha256' },
  'ecdsa-p384': { name: 'ECDSA P-384', hash: 'sha256' },
  'ecdsa-p521': { name: 'ECDSA P-521', hash: 'sha256' },
  'rsa-2048': { name: 'RSA-2048 PKCS#1 v1.5', hash: 'sha256' },
  'rsa-3072': { name: 'RSA-3072 PKCS#1 v1.5', hash: 'sha256' },
  'rsa-4096': { name: 'RSA-4096 PKCS#1 v1.5', hash: 'sha256' },
  ed25519: { name: 'Ed25519', hash: null },
};

const VAULT_HASH_PATH: Record<Exclude<KmsHash, null>, string> = {
  sha256: 'sha2-256',
  sha384: 'sha2-384',
  sha512: 'sha2-512',
};

/** Builds a signer for a transit key: connects, reads the key's latest version and public key once. */
export async function createHashivaultSigner(
  ref: HashivaultRef,
  cfg: ChainsConfig['signers']['kms'],
  opts: KmsCallOptions = {},
  environment: VaultEnvironment = processEnvironment(),
): Promise<Signer> {
  const secrets = new Set<string>(cfg.auth.token ? [cfg.auth.token] : []);
  const mount = (environment.env.TRANSIT_SECRET_ENGINE_PATH || 'transit').replace(/^\/+|\/+$/g, '');
  const setup = { opts, classify: classifyVaultFailure, secrets: () => [...secrets] };
  return buildKmsSigner(ref.ref, setup, async (call) => {
    const client = await call(`connecting to Vault for ${ref.ref}`, (signal) =>
      VaultClient.connect(cfg.auth, environment, secrets, signal),
    );
    return call(`reading transit key ${mount}/keys/${ref.keyName}`, (signal) =>
      readTransitKey(client, mount, ref.keyName, signal),
    );
  });
}

/** Reads `GET /v1/<mount>/keys/<name>` and returns a KmsKey pinned to its latest version. */
export async function readTransitKey(
  client: VaultClient,
  mount: string,
  name: string,
  signal?: AbortSignal,
): Promise<KmsKey> {
  const res = await client.request('GET', `${mount}/keys/${encodeURIComponent(name)}`, undefined, signal);
  const data = res.data ?? {};
  const type = String(data.type ?? '');
  const kind = KEY_TYPES[type];
  if (!kind) {
    throw new ChainsmithError(
      'KmsKeyUnsupported',
      `hashivault: transit key ${name} has type "${type}", which cannot sign for cosign ` +
        `(supported: ${Object.keys(KEY_TYPES).join(', ')})`,
    );
  }
  const version = Number(data.latest_version);
  const keys = data.keys as Record<string, { public_key?: unknown }> | undefined;
  const publicKeyText = keys?.[String(version)]?.public_key;
  if (!Number.isInteger(version) || version < 1 || typeof publicKeyText !== 'string' || !publicKeyText) {
    throw new ChainsmithError(
      'KmsError',
      `hashivault: transit key ${name}: the key read has no public key for its latest version`,
    );
  }
  const publicKey = parseTransitPublicKey(type, publicKeyText);
  const algorithm = `${kind.name}${kind.hash ? ` ${hashLabel(kind.hash)}` : ''}, version ${version}`;
  return {
    publicKey,
    hash: kind.hash,
    algorithm,
    // Signing is pinned to the version whose public key we hold, so keyid and signatures always agree.
    sign: (data, s) => transitSign(client, mount, name, version, kind.hash, data, s),
  };
}

async function transitSign(
  client: VaultClient,
  mount: string,
  name: string,
  version: number,
  hash: KmsHash,
  data: Buffer,
  signal: AbortSignal,
): Promise<Buffer> {
  const path = `${mount}/sign/${encodeURIComponent(name)}${hash ? `/${VAULT_HASH_PATH[hash]}` : ''}`;
  const body = hash
    ? {
        input: digestOf(hash, data).toString('base64'),
        prehashed: true,
        key_version: version,
        signature_algorithm: 'pkcs1v15',
        marshaling_algorithm: 'asn1',
      }
    : // Ed25519: Vault signs the message itself (pure Ed25519), which is what cosign verifies.
      { input: data.toString('base64'), key_version: version };
  const res = await client.request('POST', path, body, signal);
  const signature = res.data?.signature;
  if (typeof signature !== 'string') {
    throw new ChainsmithError('KmsError', `hashivault: sign with ${name} returned no signature`);
  }
  const parsed = stripVaultPrefix(signature);
  if (parsed.version !== version) {
    throw new ChainsmithError(
      'KmsError',
      `hashivault: asked key ${name} version ${version} to sign, Vault signed with version ${parsed.version}`,
    );
  }
  return parsed.signature;
}

/** Splits Vault's `vault:vN:<base64>` signature into the key version and the raw signature bytes. */
export function stripVaultPrefix(signature: string): { version: number; signature: Buffer } {
  const m = /^vault:v(\d+):([A-Za-z0-9+/]+={0,2})$/.exec(signature);
  if (!m) {
    throw new ChainsmithError('KmsError', 'hashivault: signature is not in the form vault:vN:<base64>');
  }
  return { version: Number(m[1]), signature: Buffer.from(m[2]!, 'base64') };
}

/** The public key of a transit key version: PEM, except Ed25519 which Vault returns as raw base64. */
export function parseTransitPublicKey(type: string, text: string): KeyObject {
  try {
    if (type === 'ed25519') {
      const raw = Buffer.from(text, 'base64');
      if (raw.length !== 32) throw new Error(`Ed25519 public key of ${raw.length} bytes`);
      return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    }
    return createPublicKey(text);
  } catch (err) {
    throw new ChainsmithError('KmsError', `hashivault: cannot parse the ${type} public key: ${(err as Error).message}`);
  }
}
