// The controller's only door to the API server: typed resource paths, one token bucket for every request,
// one error type (status + reason), and a request counter for metrics. Built on @kubernetes/client-node's
// CustomObjectsApi (raw JSON in and out: no date re-serialisation of Leases or Events) and Watch.
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { ChainsmithError } from '../errors.js';
import type { Priority, TokenBucket } from './rate-limiter.js';
import { KeepAliveAuthentication, makeKeepAliveApiClient } from './keep-alive.js';

/** A namespaced resource type, addressed the way the API names it. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const TASKRUNS: ResourceType = { group: 'tekton.dev', version: 'v1', plural: 'taskruns', kind: 'TaskRun' };
export const PIPELINERUNS: ResourceType = { group: 'tekton.dev', version: 'v1', plural: 'pipelineruns', kind: 'PipelineRun' };
export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };
export const EVENTS: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event' };
export const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };

/** An API answer other than 2xx (status 0 = no answer: network error). */
export class KubeApiError extends ChainsmithError {
  readonly status: number;
  constructor(status: number, message: string, cause?: unknown) {
    super(status === 409 ? 'ApiConflict' : 'ApiError', message, {
      transient: status === 0 || status === 409 || status === 429 || status >= 500,
      cause,
    });
    this.status = status;
  }
}

/** A page of a list call. */
export interface ListPage<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

/** A minimal Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export type RequestVerb = 'list' | 'get' | 'patch' | 'create' | 'update' | 'watch';

export interface KubeClientOptions {
  limiter?: TokenBucket;
  /** called once per API request, for metrics */
  onRequest?: (verb: RequestVerb, resource: string) => void;
}

/** Rate-limited JSON access to namespaced resources. */
export class KubeClient {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly watcher: Watch;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly opts: KubeClientOptions = {},
  ) {
    // one keep-alive connection pool instead of client-node's new TLS connection per request (keep-alive.ts)
    const auth = new KeepAliveAuthentication(kubeConfig);
    this.custom = makeKeepAliveApiClient(kubeConfig, auth, CustomObjectsApi);
    this.core = makeKeepAliveApiClient(kubeConfig, auth, CoreV1Api);
    this.watcher = new Watch(kubeConfig);
  }

  /** The URL path of a resource collection (all namespaces when `namespace` is undefined). */
  static collectionPath(res: ResourceType, namespace?: string): string {
    const base = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
    return namespace === undefined ? `${base}/${res.plural}` : `${base}/namespaces/${namespace}/${res.plural}`;
  }

  /** One page of a list (`limit`/`continue` paging). */
  async list<T>(
    res: ResourceType,
    namespace: string | undefined,
    q: { limit?: number; continue?: string; fieldSelector?: string; labelSelector?: string; resourceVersion?: string } = {},
  ): Promise<ListPage<T>> {
    return this.call('list', res, async () => {
      if (res.group === '') {
        if (res.plural !== 'configmaps' || namespace === undefined) throw new Error(`unsupported core list ${res.plural}`);
        return (await this.core.listNamespacedConfigMap({
          namespace,
          limit: q.limit,
          _continue: q.continue,
          fieldSelector: q.fieldSelector,
        })) as unknown as ListPage<T>;
      }
      const common = {
        group: res.group,
        version: res.version,
        plural: res.plural,
        limit: q.limit,
        _continue: q.continue,
        fieldSelector: q.fieldSelector,
        labelSelector: q.labelSelector,
        resourceVersion: q.resourceVersion,
      };
      return (namespace === undefined
        ? await this.custom.listClusterCustomObject(common)
        : await this.custom.listNamespacedCustomObject({ ...common, namespace })) as ListPage<T>;
    });
  }

  /** GET one object; resolves undefined on 404. */
  async get<T>(res: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    try {
      return await this.call('get', res, async () => {
        if (res.group === '') return (await this.core.readNamespacedConfigMap({ namespace, name })) as unknown as T;
        return (await this.custom.getNamespacedCustomObject({ ...this.base(res), namespace, name })) as T;
      });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** JSON merge patch (put `metadata.resourceVersion` in the body for an optimistic-concurrency precondition). */
  async mergePatch<T>(res: ResourceType, namespace: string, name: string, body: object): Promise<T> {
    return this.call('patch', res, async () =>
      (await this.custom.patchNamespacedCustomObject(
        { ...this.base(res), namespace, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as T,
    );
  }

  /** POST a new object; `low` priority yields the rate limit to run reads and writes (Events). */
  async create<T>(res: ResourceType, namespace: string, body: object, priority: Priority = 'normal'): Promise<T> {
    return this.call(
      'create',
      res,
      async () => (await this.custom.createNamespacedCustomObject({ ...this.base(res), namespace, body })) as T,
      priority,
    );
  }

  /** PUT an object (its metadata.resourceVersion is the precondition). */
  async replace<T>(res: ResourceType, namespace: string, name: string, body: object): Promise<T> {
    return this.call('update', res, async () =>
      (await this.custom.replaceNamespacedCustomObject({ ...this.base(res), namespace, name, body })) as T,
    );
  }

  /**
   * Starts a watch; `onEvent` gets each event, `onDone` is called exactly once when the stream ends or fails.
   * Returns a function that stops the watch.
   */
  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    // the watch callback hands over parsed JSON of any shape; callers narrow it
    onEvent: (type: string, obj: KubeObject) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void> {
    this.opts.onRequest?.('watch', path);
    const ctrl = await this.watcher.watch(path, query, (type, obj) => onEvent(type, obj as KubeObject), onDone);
    return () => ctrl.abort();
  }

  private base(res: ResourceType): { group: string; version: string; plural: string } {
    return { group: res.group, version: res.version, plural: res.plural };
  }

  private async call<T>(verb: RequestVerb, res: ResourceType, fn: () => Promise<T>, priority: Priority = 'normal'): Promise<T> {
    if (this.opts.limiter) await this.opts.limiter.take(priority);
    this.opts.onRequest?.(verb, res.plural);
    try {
      return await fn();
    } catch (err) {
      throw toKubeApiError(err, `${verb} ${res.plural}`);
    }
  }
}

/** Normalises client-node errors into KubeApiError with the server's message when there is one. */
export function toKubeApiError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const msg = body && typeof body === 'object' && 'message' in body ? String((body as { message: unknown }).message) : '';
    return new KubeApiError(err.code, `${what}: HTTP ${err.code}${msg ? `: ${msg}` : ''}`, err);
  }
  return new KubeApiError(0, `${what}: ${err instanceof Error ? err.message : String(err)}`, err);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Loads a KubeConfig from `--kubeconfig`, else `KUBECONFIG`, else in-cluster. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else if (process.env.KUBECONFIG) kc.loadFromDefault();
  else if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) kc.loadFromCluster();
  // client-node would otherwise build a config with no server, and every request would fail with "Invalid URL"
  else throw new Error('no Kubernetes configuration: pass --kubeconfig FILE or set KUBECONFIG (not running in a cluster)');
  if (!kc.getCurrentCluster()?.server) throw new Error(`the kubeconfig's current context "${kc.getCurrentContext()}" names no cluster server`);
  return kc;
}
