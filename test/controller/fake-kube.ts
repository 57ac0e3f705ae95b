// An in-memory stand-in for the API server's object store, for reconciler tests: JSON merge patch (RFC 7386)
// with the metadata.resourceVersion precondition, 409 on a stale version, and a count of writes. For informer-driven
// tests (policy-store.test.ts): watches fed by put/remove/status writes, a status subresource, cluster-scoped objects
// (namespace ''), lists across namespaces, and resources the server does not serve (404, as without a CRD).
import { KubeApiError, type KubeObject, type ResourceType } from '../../src/kube/client.js';

type Obj = {
  metadata: { name: string; namespace: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
};

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeKube {
  readonly objects = new Map<string, Obj>();
  readonly writes: Array<{ verb: string; name: string; body: unknown }> = [];
  /** reads, as `get <plural>/<name>` or `list <plural>?<labelSelector>` */
  readonly reads: string[] = [];
  private rv = 100;
  /** called before each patch is applied (to simulate a concurrent writer) */
  beforePatch: ((name: string) => void) | undefined;
  /** plurals the server does not serve: list and watch answer 404 (a CRD not installed) */
  readonly missing = new Set<string>();
  /** open watches */
  private readonly watchers = new Set<{
    plural: string;
    namespace: string | undefined;
    onEvent: (type: string, obj: KubeObject) => void;
  }>();

  private key(res: ResourceType, ns: string, name: string): string {
    return `${res.plural}/${ns}/${name}`;
  }

  put(res: ResourceType, obj: Obj): Obj {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    const k = this.key(res, obj.metadata.namespace, obj.metadata.name);
    const existed = this.objects.has(k);
    this.objects.set(k, stored);
    this.emit(res.plural, existed ? 'MODIFIED' : 'ADDED', stored);
    return structuredClone(stored);
  }

  /** Deletes an object (watchers see DELETED); false when there was none. */
  remove(res: ResourceType, ns: string, name: string): boolean {
    const k = this.key(res, ns, name);
    const cur = this.objects.get(k);
    if (!cur) return false;
    this.objects.delete(k);
    this.emit(res.plural, 'DELETED', cur);
    return true;
  }

  /** Watches `path` (KubeClient.collectionPath); events arrive asynchronously, as from a server. */
  async watch(
    path: string,
    _query: unknown,
    onEvent: (type: string, obj: KubeObject) => void,
    _onDone: (err: unknown) => void,
  ): Promise<() => void> {
    const m = /\/namespaces\/([^/]+)\/([^/]+)$/.exec(path);
    const plural = m ? m[2]! : path.slice(path.lastIndexOf('/') + 1);
    if (this.missing.has(plural)) throw new KubeApiError(404, `the server could not find ${plural}`);
    const w = { plural, namespace: m?.[1], onEvent };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** JSON merge patch of the status subresource: only `status` changes (not metadata.generation). */
  async mergePatchStatus<T>(res: ResourceType, ns: string, name: string, body: { status?: unknown }): Promise<T> {
    this.writes.push({ verb: 'patch-status', name, body: structuredClone(body) });
    const k = this.key(res, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw new KubeApiError(404, 'not found');
    const next = structuredClone(cur);
    if (body.status !== undefined) next.status = mergePatch(cur.status, body.status);
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, next);
    this.emit(res.plural, 'MODIFIED', next);
    return structuredClone(next) as T;
  }

  private emit(plural: string, type: string, obj: Obj): void {
    for (const w of this.watchers) {
      if (w.plural !== plural || (w.namespace !== undefined && w.namespace !== obj.metadata.namespace)) continue;
      const copy = structuredClone(obj) as KubeObject;
      setImmediate(() => {
        if (this.watchers.has(w)) w.onEvent(type, copy);
      });
    }
  }

  async get<T>(res: ResourceType, ns: string, name: string): Promise<T | undefined> {
    this.reads.push(`get ${res.plural}/${name}`);
    const o = this.objects.get(this.key(res, ns, name));
    return o ? (structuredClone(o) as T) : undefined;
  }

  /**
   * One page holding every match; supports `key=value` label selectors only. `ns` undefined: every namespace
   * (and cluster-scoped objects, stored under namespace '').
   */
  async list<T>(
    res: ResourceType,
    ns: string | undefined,
    q: { labelSelector?: string } = {},
  ): Promise<{ items: T[]; metadata: Record<string, string> }> {
    this.reads.push(`list ${res.plural}?${q.labelSelector ?? ''}`);
    if (this.missing.has(res.plural)) throw new KubeApiError(404, `the server could not find ${res.plural}`);
    const [k, v] = (q.labelSelector ?? '').split('=');
    const prefix = ns === undefined ? `${res.plural}/` : `${res.plural}/${ns}/`;
    const items = [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, o]) => o)
      .filter((o) => !k || (o.metadata.labels as Record<string, string> | undefined)?.[k] === v);
    return { items: structuredClone(items) as T[], metadata: {} };
  }

  async mergePatch<T>(
    res: ResourceType,
    ns: string,
    name: string,
    body: { metadata?: { resourceVersion?: string } },
  ): Promise<T> {
    this.beforePatch?.(name);
    this.writes.push({ verb: 'patch', name, body: structuredClone(body) });
    const k = this.key(res, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw new KubeApiError(404, 'not found');
    const want = body.metadata?.resourceVersion;
    if (want !== undefined && want !== cur.metadata.resourceVersion)
      throw new KubeApiError(409, 'the object has been modified');
    const next = mergePatch(cur, body) as Obj;
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(k, next);
    return structuredClone(next) as T;
  }

  async create<T>(_res: ResourceType, _ns: string, body: unknown): Promise<T> {
    this.writes.push({ verb: 'create', name: '', body });
    return body as T;
  }
}
