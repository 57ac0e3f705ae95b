// Per-stack setup shared by every arm: the system namespace with chains-config, workload
// namespaces with their default ServiceAccount, and the one signing key both controllers read.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, type ApiClient } from './api.js';

/** Chains reads its key from this fixed path (a Go const); chainsmith gets it as --signing-secrets-dir. */
export const SIGNING_SECRETS_DIR = '/etc/signing-secrets';
export const SYSTEM_NAMESPACE = 'tekton-chains';

/** Creates the ECDSA P-256 x509.pem once (PKCS#8 PEM, what Chains' x509 signer reads). */
export function ensureSigningKey(): string {
  const file = join(SIGNING_SECRETS_DIR, 'x509.pem');
  if (!existsSync(file)) {
    mkdirSync(SIGNING_SECRETS_DIR, { recursive: true });
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], {
      stdio: 'ignore',
    });
  }
  return file;
}

/** Creates a namespace and its `default` ServiceAccount (the stack runs no controller-manager). */
export async function createNamespace(api: ApiClient, name: string): Promise<void> {
  try {
    await api.callRetrying('POST', '/api/v1/namespaces', { metadata: { name } });
    await api.callRetrying('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { metadata: { name: 'default' } });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
  }
}

/** Creates SYSTEM_NAMESPACE with the given chains-config data. */
export async function writeChainsConfig(api: ApiClient, data: Record<string, string>): Promise<void> {
  await createNamespace(api, SYSTEM_NAMESPACE);
  await api.callRetrying('POST', `/api/v1/namespaces/${SYSTEM_NAMESPACE}/configmaps`, {
    metadata: { name: 'chains-config' },
    data,
  });
}
