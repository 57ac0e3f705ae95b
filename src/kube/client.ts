// The controller's only door to the API server: typed resource paths, one token bucket for every request,
// one error type (status + reason), and a request counter for metrics. Raw JSON in and out (no date
// re-serialisation of Leases or Events) over chainsmith's own small HTTP client (src/kube/), which keeps the
// controller's memory at a fraction of what @kubernetes/client-node's generated API costs (bench/findings.md).
import { ChainsmithError } from '../errors.js';
import {
  KubeHttp,
  KubeHttpError,
  type KubeHttpLimits,
  type OnWatchEnd,
  type OnWatchEvent,
  type Query,
} from './http.js';
import { loadClusterConnection, type ClusterConnection } from './kubeconfig.js';
import { assertNamespace, assertObjectName, InvalidKubeNameError } from './names.js';
import type { Priority, TokenBucket } from './rate-limiter.js';

/** A namespaced resource type, addressed the way the API names it. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

// Every resource chainsmith touches is served at v1 of its group ('' is the core group).
function v1(group: string, plural: string, kind: string): ResourceType {
  return { group, version: 'v1', plural, kind };
}

export const TASKRUNS = v1('tekton.dev', 'taskruns', 'TaskRun');
export const PIPELINERUNS = v1('tekton.dev', 'pipelineruns', 'PipelineRun');
export const LEASES = v1('coordination.k8s.io', 'leases', 'Lease');
export const EVENTS = v1('events.k8s.io', 'events', 'Event');
export const CONFIGMAPS = v1('', 'configmaps', 'ConfigMap');
export const SERVICEACCOUNTS = v1('', 'serviceaccounts', 'ServiceAccount');
export const SECRETS = v1('', 'secrets', 'Secret');

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

export type RequestVerb = 'list' | 'get' | 'patch' | 'create' | 'update' | 'watch' | 'delete';

export interface KubeClientOptions {
  limiter?: TokenBucket;
  /** called once per API request, for metrics */
  onRequest?: (verb: RequestVerb, resource: string) => void;
  /** request deadline and answer size caps (default: the constants in src/kube/http.ts) */
  limits?: Partial<KubeHttpLimits>;
}

/** Rate-limited JSON access to namespaced resources. */
export class KubeClient {
  private readonly http: KubeHttp;

  constructor(
    readonly connection: ClusterConnection,
    private readonly opts: KubeClientOptions = {},
  ) {
    this.http = new KubeHttp(connection, undefined, opts.limits);
  }

  /**
   * The URL path of a resource collection (all namespaces when `namespace` is undefined). Throws
   * InvalidKubeNameError for a namespace that is not a DNS-1123 label, so no request is ever sent for it.
   */
  static collectionPath(res: ResourceType, namespace?: string): string {
    const base = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
    if (namespace === undefined) return `${base}/${res.plural}`;
    return `${base}/namespaces/${assertNamespace(namespace)}/${res.plural}`;
  }

  /** One page of a list (`limit`/`continue` paging). */
  async list<T>(
    res: ResourceType,
    namespace: string | undefined,
    q: {
      limit?: number;
      continue?: string;
      fieldSelector?: string;
      labelSelector?: string;
      resourceVersion?: string;
    } = {},
  ): Promise<ListPage<T>> {
    const query: Query = {
      limit: q.limit,
      continue: q.continue,
      fieldSelector: q.fieldSelector,
      labelSelector: q.labelSelector,
      resourceVersion: q.resourceVersion,
    };
    const path = KubeClient.collectionPath(res, namespace);
    return this.call('list', res, () => this.http.request<ListPage<T>>({ method: 'GET', path, query }));
  }

  /** GET one object; resolves undefined on 404. */
  async get<T>(res: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    const path = objectPath(res, namespace, name);
    try {
      return await this.call('get', res, () => this.http.request<T>({ method: 'GET', path }));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** JSON merge patch (put `metadata.resourceVersion` in the body for an optimistic-concurrency precondition). */
  async mergePatch<T>(res: ResourceType, namespace: string, name: string, body: object): Promise<T> {
    const path = objectPath(res, namespace, name);
    const contentType = 'application/merge-patch+json';
    return this.call('patch', res, () => this.http.request<T>({ method: 'PATCH', path, body, contentType }));
  }

  /** POST a new object; `low` priority yields the rate limit to run reads and writes (Events). */
  async create<T>(res: ResourceType, namespace: string, body: object, priority: Priority = 'normal'): Promise<T> {
    const path = KubeClient.collectionPath(res, namespace);
    return this.call('create', res, () => this.http.request<T>({ method: 'POST', path, body }), priority);
  }

  /** PUT an object (its metadata.resourceVersion is the precondition). */
  async replace<T>(res: ResourceType, namespace: string, name: string, body: object): Promise<T> {
    const path = objectPath(res, namespace, name);
    return this.call('update', res, () => this.http.request<T>({ method: 'PUT', path, body }));
  }

  /**
   * Starts a watch; `onEvent` gets each event, `onDone` is called exactly once when the stream ends or fails
   * (with `statusCode` on the error when the server answered, e.g. 410 Gone). Returns a function that stops it.
   * The objects are parsed JSON of any shape; callers narrow them.
   */
  async watch(path: string, query: Query, onEvent: OnWatchEvent<KubeObject>, onDone: OnWatchEnd): Promise<() => void> {
    this.opts.onRequest?.('watch', path);
    return this.http.watch(path, query, (type, obj) => onEvent(type, obj as KubeObject), onDone);
  }

  /** JSON merge patch of an object's `status` subresource (what the object's own controller writes). */
  async mergePatchStatus<T>(res: ResourceType, namespace: string, name: string, body: object): Promise<T> {
    const path = `${objectPath(res, namespace, name)}/status`;
    const contentType = 'application/merge-patch+json';
    return this.call('patch', res, () => this.http.request<T>({ method: 'PATCH', path, body, contentType }));
  }

  /** POST to a subresource of an object, e.g. a ServiceAccount's `token` (the TokenRequest API). */
  async createSubresource<T>(
    res: ResourceType,
    namespace: string,
    name: string,
    sub: string,
    body: object,
  ): Promise<T> {
    const path = `${objectPath(res, namespace, name)}/${sub}`;
    return this.call('create', res, () => this.http.request<T>({ method: 'POST', path, body }));
  }

  /** POST a new cluster-scoped object (a Namespace): the collection has no namespace in its path. */
  async createClusterScoped<T>(res: ResourceType, body: object): Promise<T> {
    const path = KubeClient.collectionPath(res);
    return this.call('create', res, () => this.http.request<T>({ method: 'POST', path, body }));
  }

  /** DELETE one object; resolves false when there was none (404). */
  async delete(res: ResourceType, namespace: string, name: string): Promise<boolean> {
    const path = objectPath(res, namespace, name);
    try {
      await this.call('delete', res, () => this.http.request<unknown>({ method: 'DELETE', path }));
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /** Closes the pooled connections (shutdown). */
  close(): void {
    this.http.close();
  }

  private async call<T>(
    verb: RequestVerb,
    res: ResourceType,
    fn: () => Promise<T>,
    priority: Priority = 'normal',
  ): Promise<T> {
    if (this.opts.limiter) await this.opts.limiter.take(priority);
    this.opts.onRequest?.(verb, res.plural);
    try {
      return await fn();
    } catch (err) {
      // a refused name is the caller's input, not an API failure: never retried as one
      if (err instanceof InvalidKubeNameError) throw err;
      throw toKubeApiError(err, `${verb} ${res.plural}`);
    }
  }
}

// the name is checked before it is joined, so the path can only address this one object
function objectPath(res: ResourceType, namespace: string, name: string): string {
  return `${KubeClient.collectionPath(res, namespace)}/${assertObjectName(name)}`;
}

/** Normalises transport errors into KubeApiError, keeping the server's message when there is one. */
export function toKubeApiError(err: unknown, what: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof KubeHttpError) {
    const status = err.statusCode === 0 ? '' : ` HTTP ${err.statusCode}${err.detail ? ':' : ''}`;
    return new KubeApiError(err.statusCode, `${what}:${status} ${err.detail}`.trimEnd(), err);
  }
  return new KubeApiError(0, `${what}: ${err instanceof Error ? err.message : String(err)}`, err);
}

/** Loads the connection from `--kubeconfig`, else `KUBECONFIG`, else in-cluster. */
export function loadKubeConfig(file?: string, context?: string): ClusterConnection {
  return loadClusterConnection(file, process.env, context);
}
