// The ECR keychain: `GetAuthorizationToken` through the official AWS SDK (@aws-sdk/client-ecr) for
// `<account>.dkr.ecr.<region>.amazonaws.com`, with the SDK's default credential chain (IRSA / EKS Pod Identity web
// identity tokens, instance roles, environment) — what amazon-ecr-credential-helper does for Chains.
// The SDK honours AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL itself.
import type { ECRClient, ECRClientConfig } from '@aws-sdk/client-ecr';
import { keychainError, type Keychain, type ResolvedCredential } from '../keychain.js';
import { ecrRegion } from './hosts.js';

export const ECR_SOURCE = 'ECR keychain (AWS SDK default credentials, GetAuthorizationToken)';

export class EcrKeychain implements Keychain {
  private readonly clients = new Map<string, ECRClient>();

  /** `clientConfig`: extra ECRClient settings (tests); region always comes from the registry host. */
  constructor(private readonly clientConfig: Omit<ECRClientConfig, 'region'> = {}) {}

  async resolve(registry: string): Promise<ResolvedCredential | undefined> {
    const region = ecrRegion(registry);
    if (region === undefined) return undefined;
    // Loaded on the first ECR registry only: the SDK is large.
    const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
    let client = this.clients.get(region);
    if (!client) {
      client = new ECRClient({ ...this.clientConfig, region });
      this.clients.set(region, client);
    }
    let data;
    try {
      data = (await client.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0];
    } catch (err) {
      const e = err as {
        name?: string;
        message?: string;
        $retryable?: unknown;
        $metadata?: { httpStatusCode?: number };
      };
      // no AWS identity where the controller runs: not an ECR user, the next keychain (or anonymous) applies
      if (e?.name === 'CredentialsProviderError') return undefined;
      const status = e?.$metadata?.httpStatusCode;
      const transient =
        e?.$retryable !== undefined ||
        e?.name === 'ThrottlingException' ||
        e?.name === 'TimeoutError' ||
        (status !== undefined && status >= 500) ||
        (status === undefined && typeof (err as { code?: unknown }).code === 'string');
      const detail = `${e?.name ?? 'error'}: ${(e?.message ?? String(err)).split('\n')[0]}`.slice(0, 300);
      throw keychainError(`${ECR_SOURCE} in ${region}`, registry, detail, transient);
    }
    const token = data?.authorizationToken ? Buffer.from(data.authorizationToken, 'base64').toString('utf8') : '';
    const colon = token.indexOf(':');
    if (colon < 0)
      throw keychainError(`${ECR_SOURCE} in ${region}`, registry, 'the answer holds no authorization token', false);
    return {
      credential: { kind: 'basic', username: token.slice(0, colon), password: token.slice(colon + 1) },
      source: `${ECR_SOURCE} in ${region}`,
      ...(data?.expiresAt ? { expiresAt: data.expiresAt.getTime() } : {}),
    };
  }
}
