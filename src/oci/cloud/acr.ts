// The ACR keychain: a Microsoft Entra token from DefaultAzureCredential (AKS workload identity, managed identity,
// environment) through the official @azure/identity, exchanged at the registry's `/oauth2/exchange` for an ACR
// refresh token, which the registry client then trades for access tokens at the registry's token realm — what the
// ACR credential helper does for Chains. User name 00000000-0000-0000-0000-000000000000, as ACR requires.
import type { TokenCredential } from '@azure/identity';
import { keychainError, type Keychain, type ResolvedCredential } from '../keychain.js';
import { HttpTransport } from '../transport.js';
import { isAzureRegistry } from './hosts.js';

export const ACR_SOURCE = 'ACR keychain (Azure identity, exchanged at the registry)';
const SCOPE = 'https://containerregistry.azure.net/.default';
export const ACR_USER = '00000000-0000-0000-0000-000000000000';

export class AcrKeychain implements Keychain {
  private credential: TokenCredential | undefined;
  private readonly transport: HttpTransport;

  constructor(opts: { credential?: TokenCredential; caBundle?: string } = {}) {
    this.credential = opts.credential;
    this.transport = new HttpTransport({
      timeoutMs: 30_000,
      ...(opts.caBundle === undefined ? {} : { tls: { caBundle: opts.caBundle } }),
    });
  }

  async resolve(registry: string): Promise<ResolvedCredential | undefined> {
    if (!isAzureRegistry(registry)) return undefined;
    let entra;
    try {
      if (!this.credential) {
        // Loaded on the first Azure registry only: @azure/identity pulls in MSAL.
        const { DefaultAzureCredential } = await import('@azure/identity');
        this.credential = new DefaultAzureCredential();
      }
      entra = await this.credential.getToken(SCOPE);
    } catch (err) {
      const e = err as { name?: string; message?: string };
      // no Azure identity where the controller runs: the next keychain (or anonymous) applies
      if (e?.name === 'CredentialUnavailableError') return undefined;
      const detail = `${e?.name ?? 'error'}: ${(e?.message ?? String(err)).split('\n')[0]}`.slice(0, 300);
      throw keychainError(ACR_SOURCE, registry, detail, e?.name !== 'AuthenticationError');
    }
    if (!entra) return undefined;
    const url = `https://${registry}/oauth2/exchange`;
    const form = new URLSearchParams({ grant_type: 'access_token', service: registry, access_token: entra.token });
    const tenant = process.env.AZURE_TENANT_ID;
    if (tenant) form.set('tenant', tenant);
    let res;
    try {
      res = await this.transport.send({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
        maxBodyBytes: 64 * 1024,
      });
    } catch (err) {
      throw keychainError(ACR_SOURCE, registry, `POST ${url}: ${String((err as Error).message ?? err)}`, true);
    }
    if (res.status !== 200)
      throw keychainError(
        ACR_SOURCE,
        registry,
        `POST ${url}: HTTP ${res.status}`,
        res.status >= 500 || res.status === 429,
      );
    let refresh: unknown;
    try {
      refresh = (JSON.parse(res.body.toString('utf8')) as { refresh_token?: unknown }).refresh_token;
    } catch {
      // handled below
    }
    if (typeof refresh !== 'string' || refresh === '')
      throw keychainError(ACR_SOURCE, registry, `POST ${url}: the answer holds no refresh_token`, false);
    return {
      credential: { kind: 'refresh-token', username: ACR_USER, refreshToken: refresh },
      source: ACR_SOURCE,
      expiresAt: entra.expiresOnTimestamp,
    };
  }
}
