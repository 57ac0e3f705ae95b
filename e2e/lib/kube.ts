// Admin access to a test stack's kube-apiserver through chainsmith's own client (src/kube/client.ts), the one
// Kubernetes client of e2e/ and bench/: typed resource paths, raw JSON, a KubeApiError with the HTTP status. On
// top of it, what tests need: per-test namespaces, the core/v1 view of Events, retries through a loaded API
// server, and the controller's own list-then-watch for following objects.
import { randomBytes } from 'node:crypto';
import { Informer } from '../../src/controller/informer.js';
import {
  KubeApiError,
  KubeClient,
  loadKubeConfig,
  SERVICEACCOUNTS,
  type KubeClientOptions,
  type KubeObject,
  type ResourceType,
} from '../../src/kube/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { stackEnv } from './env.js';

/** Namespaces (cluster-scoped: created with `createClusterScoped`, listed with namespace undefined). */
export const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };

/**
 * Events as core/v1 serves them (`involvedObject`, `message`), as `kubectl describe` shows them. The controller
 * writes events.k8s.io/v1 Events (`regarding`, `note`); the API server serves one object in both shapes.
 */
export const CORE_EVENTS: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event' };

/** A core/v1 Event, the fields tests read. */
export interface CoreEvent {
  metadata: { name: string; namespace: string };
  involvedObject: { kind?: string; name?: string; namespace?: string; uid?: string };
  type?: string;
  reason?: string;
  message?: string;
}

/** A client with the credentials of `kubeconfig` (a stack's admin); `opts.onRequest` counts what it sends. */
export function adminClient(kubeconfig: string, opts: KubeClientOptions = {}): KubeClient {
  return new KubeClient(loadKubeConfig(kubeconfig), opts);
}

// one client, so one keep-alive connection pool, per test process and stack
const stackClients = new Map<string, KubeClient>();

/** The admin client (system:masters) of the shared test stack. */
export function kube(): KubeClient {
  const file = stackEnv().kubeconfig;
  let client = stackClients.get(file);
  if (!client) stackClients.set(file, (client = adminClient(file)));
  return client;
}

/** A short random lowercase suffix for object names. */
export function randomSuffix(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * Makes sure namespace `name` and its `default` ServiceAccount exist (the stack runs no kube-controller-manager,
 * which would otherwise create it); what exists already is left as it is, so a retry is safe.
 */
export async function ensureNamespace(
  client: KubeClient,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await ignoreConflict(client.createClusterScoped(NAMESPACES, { metadata: { name, labels } }));
  await ignoreConflict(client.create(SERVICEACCOUNTS, name, { metadata: { name: 'default' } }));
}

// 409 AlreadyExists
async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
  }
}

/**
 * Creates a fresh namespace `<prefix>-<random>` (with its `default` ServiceAccount) on the shared stack and
 * returns its name. Namespaces are never deleted: without the namespace controller they would stay Terminating.
 */
export async function createNamespace(prefix: string): Promise<string> {
  const base =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'e2e';
  const name = `${base}-${randomSuffix()}`;
  await ensureNamespace(kube(), name, { 'chainsmith.dev/e2e': 'true' });
  return name;
}

/**
 * The core/v1 Events of `ns` (every namespace when undefined) about the object `about` names: by name, or by
 * uid (a run deleted and created again under the same name has a new one).
 */
export async function eventsOf(
  ns: string | undefined,
  about: { name?: string; uid?: string } = {},
): Promise<CoreEvent[]> {
  const selectors = [
    ...(about.name ? [`involvedObject.name=${about.name}`] : []),
    ...(about.uid ? [`involvedObject.uid=${about.uid}`] : []),
  ];
  const fieldSelector = selectors.length > 0 ? selectors.join(',') : undefined;
  return (await kube().list<CoreEvent>(CORE_EVENTS, ns, { fieldSelector })).items;
}

/**
 * Retries `fn` while it fails with a transient API error (no answer, 409, 429, 5xx), up to `attempts` times with a
 * growing pause: the harness loads the API server on purpose.
 */
export async function retryTransient<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof KubeApiError && err.transient) || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** A running list-then-watch: `synced` resolves after the first full list. */
export interface ObjectWatch {
  synced: Promise<void>;
  stop(): void;
}

/**
 * Hands `onObject` every object of `res` in `namespace` (all namespaces when undefined) as it is listed, added or
 * changed, until `stop()`. It is the controller's own Informer: a dropped stream reconnects from the last
 * resourceVersion and an expired one (410) relists, so no change is missed; its warnings go to stderr.
 */
export function watchObjects<T = KubeObject>(
  client: KubeClient,
  res: ResourceType,
  namespace: string | undefined,
  onObject: (obj: T) => void,
): ObjectWatch {
  const informer = new Informer({
    client,
    resource: res,
    namespace,
    logger: createLogger({ level: 'warn', stream: process.stderr, defaultMeta: { component: 'e2e-watch' } }),
    handlers: { upsert: (obj) => onObject(obj as T), remove: () => undefined },
  });
  return { synced: informer.start(), stop: () => informer.stop() };
}
