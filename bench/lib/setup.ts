// Per-stack setup shared by every arm: the system namespace with chains-config, workload
// namespaces with their default ServiceAccount, and the one signing key both controllers read.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/kube/client.js';
import { ensureNamespace, retryTransient } from '../../e2e/lib/kube.js';
import { writeChainsConfig as writeConfigMap } from '../../e2e/lib/scenario.js';

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
export function createNamespace(client: KubeClient, name: string): Promise<void> {
  return retryTransient(() => ensureNamespace(client, name));
}

/** Creates SYSTEM_NAMESPACE with the given chains-config data. */
export async function writeChainsConfig(client: KubeClient, data: Record<string, string>): Promise<void> {
  await createNamespace(client, SYSTEM_NAMESPACE);
  await retryTransient(() => writeConfigMap(SYSTEM_NAMESPACE, data, client));
}
