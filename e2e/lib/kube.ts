// Admin access to the test stack's kube-apiserver and per-test namespaces.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { stackEnv } from './env.js';

export interface Kube {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

/** A KubeConfig and API clients for the stack's admin (system:masters). */
export function kube(): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(stackEnv().kubeconfig);
  return { kc, custom: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) };
}

/** A short random lowercase suffix for object names. */
export function randomSuffix(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * Creates a fresh namespace `<prefix>-<random>` with a `default` ServiceAccount (the stack runs no
 * kube-controller-manager, which would otherwise create it) and returns its name.
 * Namespaces are never deleted: without the namespace controller they would stay Terminating.
 */
export async function createNamespace(prefix: string): Promise<string> {
  const base =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'e2e';
  const name = `${base}-${randomSuffix()}`;
  const { core } = kube();
  await core.createNamespace({ body: { metadata: { name, labels: { 'chainsmith.dev/e2e': 'true' } } } });
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
  return name;
}
