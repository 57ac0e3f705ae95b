// Per-stack setup shared by every arm: the system namespace with chains-config, workload
// namespaces with their default ServiceAccount, and the one signing key both controllers read.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KubeApiError, SERVICEACCOUNTS, type KubeClient, type ResourceType } from '../../src/kube/client.js';
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

/** The controller's ServiceAccount in SYSTEM_NAMESPACE, as the manifests name it: the keyless identity of every arm. */
export const CONTROLLER_SERVICE_ACCOUNT = 'tekton-chains-controller';

/** The TokenRequest subresource of one ServiceAccount, addressed like a collection of the namespace. */
const tokenRequests = (sa: string): ResourceType => ({
  group: '',
  version: 'v1',
  plural: `serviceaccounts/${sa}/token`,
  kind: 'TokenRequest',
});

/**
 * Writes to `file` what a projected ServiceAccount token volume would hold for the controller: a token of
 * CONTROLLER_SERVICE_ACCOUNT (created if missing) from the TokenRequest API, audience `sigstore`, valid `seconds`.
 * Fulcio's `kubernetes` issuer gives it https://kubernetes.io/namespaces/tekton-chains/serviceaccounts/… as identity.
 */
export async function writeIdentityToken(client: KubeClient, file: string, seconds = 3600): Promise<void> {
  await createNamespace(client, SYSTEM_NAMESPACE);
  await retryTransient(async () => {
    try {
      await client.create(SERVICEACCOUNTS, SYSTEM_NAMESPACE, { metadata: { name: CONTROLLER_SERVICE_ACCOUNT } });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  });
  const body = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { audiences: ['sigstore'], expirationSeconds: seconds },
  };
  const res = await retryTransient(() =>
    client.create<{ status: { token: string } }>(tokenRequests(CONTROLLER_SERVICE_ACCOUNT), SYSTEM_NAMESPACE, body),
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, res.status.token, { mode: 0o600 });
}
