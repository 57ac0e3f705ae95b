// A minimal Vault/OpenBao HTTP client: the three JSON calls the transit signer needs (key read, sign, JWT login).
// Address and token resolution follow Chains + sigstore (chains-behaviour.md §5.3, cosign-format.md §5.1).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ChainsConfig } from '../../config/types.js';
import { ChainsmithError } from '../../errors.js';
import { failureForStatus, networkErrorCode, type KmsFailure } from './call.js';

type KmsAuth = ChainsConfig['signers']['kms']['auth'];

/** Chains' default for `signers.kms.auth.oidc.token-path`: the pod's service-account token. */
export const DEFAULT_OIDC_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** What the Vault client reads from outside the config; injectable so tests need no real files or env. */
export interface VaultEnvironment {
  env: NodeJS.ProcessEnv;
  readFile: (path: string) => Promise<string>;
  fetch: typeof fetch;
}

export const processEnvironment = (): VaultEnvironment => ({
  env: process.env,
  readFile: (p) => readFile(p, 'utf8'),
  fetch: globalThis.fetch,
});

/** A non-2xx answer from Vault: its status and the `errors` array it returned. */
export class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    what: string,
  ) {
    super(`${what}: HTTP ${status}${errors.length ? `: ${errors.join('; ')}` : ''}`);
    this.name = 'VaultHttpError';
  }
}

/** Where a token came from; only OIDC-login tokens can be renewed by logging in again. */
type TokenSource = 'config' | 'oidc';

/** Talks to one Vault server with one token; created once per signer. */
export class VaultClient {
  private token = '';
  private tokenSource: TokenSource = 'config';

  private constructor(
    readonly address: string,
    private readonly auth: KmsAuth,
    private readonly vault: VaultEnvironment,
    private readonly secretSink: Set<string>,
  ) {}

  /**
   * Resolves the address and a token (config, env, ~/.vault-token, or a JWT login). Every token and JWT it
   * reads is added to `secretSink`, so error messages can be scrubbed even when connecting fails half-way.
   */
  static async connect(
    auth: KmsAuth,
    vault: VaultEnvironment,
    secretSink: Set<string>,
    signal?: AbortSignal,
  ): Promise<VaultClient> {
    const address = (auth.address || vault.env.VAULT_ADDR || vault.env.BAO_ADDR || '').replace(/\/+$/, '');
    if (!address) {
      throw new ChainsmithError('KmsError', 'hashivault: no Vault address: set signers.kms.auth.address or VAULT_ADDR');
    }
    if (!/^https?:\/\//.test(address)) {
      throw new ChainsmithError(
        'KmsError',
        `hashivault: Vault address "${address}" must start with http:// or https://`,
      );
    }
    if (auth.spire.sock) {
      throw new ChainsmithError(
        'KmsError',
        'hashivault: signers.kms.auth.spire.* is not supported by chainsmith; use a token, token-path or oidc login',
      );
    }
    const client = new VaultClient(address, auth, vault, secretSink);
    await client.resolveToken(signal);
    return client;
  }

  /** GET/POST a Vault API path (without /v1) and return the parsed JSON body. */
  async request(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<VaultResponse> {
    try {
      return await this.send(method, path, body, this.token, signal);
    } catch (err) {
      // A login token may have expired between signatures: log in again once, then retry the request.
      if (err instanceof VaultHttpError && err.status === 403 && this.tokenSource === 'oidc') {
        await this.oidcLogin(signal);
        return this.send(method, path, body, this.token, signal);
      }
      throw err;
    }
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    token: string,
    signal?: AbortSignal,
  ): Promise<VaultResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['x-vault-token'] = token;
    const ns = this.vault.env.VAULT_NAMESPACE || this.vault.env.BAO_NAMESPACE;
    if (ns) headers['x-vault-namespace'] = ns;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.vault.fetch(`${this.address}/v1/${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const errors = Array.isArray((json as { errors?: unknown })?.errors)
        ? (json as { errors: unknown[] }).errors.map(String)
        : text
          ? [text.slice(0, 200)]
          : [];
      throw new VaultHttpError(res.status, errors, `${method} /v1/${path}`);
    }
    if (json === undefined || typeof json !== 'object' || json === null) {
      throw new VaultHttpError(res.status, ['response is not JSON'], `${method} /v1/${path}`);
    }
    return json as VaultResponse;
  }

  private async resolveToken(signal?: AbortSignal): Promise<void> {
    const { auth, vault } = this;
    let token = '';
    if (auth.tokenPath) {
      token = (await readSecretFile(vault, auth.tokenPath, 'signers.kms.auth.token-path')).replace(/\r?\n$/, '');
      this.secretSink.add(token);
    } else if (auth.token) {
      token = auth.token;
    }
    if (!token && auth.oidc.path && auth.oidc.role) {
      await this.oidcLogin(signal);
      return;
    }
    token ||= vault.env.VAULT_TOKEN || vault.env.BAO_TOKEN || '';
    if (!token) {
      const home = vault.env.HOME || homedir();
      token = (await vault.readFile(join(home, '.vault-token')).catch(() => '')).trim();
    }
    if (!token) {
      throw new ChainsmithError(
        'KmsPermissionDenied',
        'hashivault: no Vault token: ' +
          'set signers.kms.auth.token-path, signers.kms.auth.token, signers.kms.auth.oidc.* or VAULT_TOKEN',
      );
    }
    this.secretSink.add(token);
    this.token = token;
    this.tokenSource = 'config';
  }

  /** `POST /v1/auth/<path>/login {role, jwt}` with the OIDC token file; keeps the returned client token. */
  private async oidcLogin(signal?: AbortSignal): Promise<void> {
    const { oidc } = this.auth;
    const jwtPath = oidc.tokenPath || DEFAULT_OIDC_TOKEN_PATH;
    const jwt = (await readSecretFile(this.vault, jwtPath, 'signers.kms.auth.oidc.token-path')).trim();
    if (!jwt) {
      throw new ChainsmithError('KmsPermissionDenied', `hashivault: the OIDC token file ${jwtPath} is empty`);
    }
    this.secretSink.add(jwt);
    const mount = (oidc.path || 'jwt').replace(/^\/+|\/+$/g, '');
    const res = await this.send('POST', `auth/${mount}/login`, { role: oidc.role, jwt }, '', signal);
    const clientToken = (res.auth as { client_token?: unknown } | undefined)?.client_token;
    if (typeof clientToken !== 'string' || !clientToken) {
      throw new ChainsmithError('KmsPermissionDenied', `hashivault: login at auth/${mount} returned no client token`);
    }
    this.secretSink.add(clientToken);
    this.token = clientToken;
    this.tokenSource = 'oidc';
  }
}

/** The parts of a Vault JSON response we read. */
export interface VaultResponse {
  data?: Record<string, unknown>;
  auth?: Record<string, unknown>;
}

async function readSecretFile(vault: VaultEnvironment, path: string, key: string): Promise<string> {
  try {
    return await vault.readFile(path);
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    // The path is config, not secret; the file's contents never appear in a message.
    throw new ChainsmithError('KmsPermissionDenied', `hashivault: cannot read ${key} ${path} (${code})`);
  }
}

/** Classifies a failure of a Vault call (HTTP status, network error) into a KMS reason. */
export function classifyVaultFailure(err: unknown): KmsFailure {
  if (err instanceof VaultHttpError) {
    const text = err.errors.join('; ').toLowerCase();
    // Vault answers 400 (not 404) for signing with a key that does not exist, and 400 for a key type that cannot sign.
    if (err.status === 400 && text.includes('not found'))
      return { reason: 'KmsKeyNotFound', transient: false, detail: err.message };
    if (err.status === 400 && text.includes('does not support signing')) {
      return { reason: 'KmsKeyUnsupported', transient: false, detail: err.message };
    }
    return failureForStatus(err.status, err.message);
  }
  const code = networkErrorCode(err);
  if (code) return { reason: 'KmsUnavailable', transient: true, detail: `cannot reach Vault (${code})` };
  return { reason: 'KmsError', transient: false, detail: err instanceof Error ? err.message : String(err) };
}
