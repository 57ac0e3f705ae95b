// An in-memory stand-in for the API server's object store, for reconciler tests: JSON merge patch (RFC 7386)
// with the metadata.resourceVersion precondition, 409 on a stale version, and a count of writes.
import { KubeApiError, type ResourceType } from '../../src/kube/client.js';

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

  private key(res: ResourceType, ns: string, name: string): string {
    return `${res.plural}/${ns}/${name}`;
  }

  put(res: ResourceType, obj: Obj): Obj {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.objects.set(this.key(res, obj.metadata.namespace, obj.metadata.name), stored);
    return structuredClone(stored);
  }

  async get<T>(res: ResourceType, ns: string, name: string): Promise<T | undefined> {
    this.reads.push(`get ${res.plural}/${name}`);
    const o = this.objects.get(this.key(res, ns, name));
    return o ? (structuredClone(o) as T) : undefined;
  }

  /** One page holding every match; supports `key=value` label selectors only. */
  async list<T>(
    res: ResourceType,
    ns: string,
    q: { labelSelector?: string } = {},
  ): Promise<{ items: T[]; metadata: Record<string, string> }> {
    this.reads.push(`list ${res.plural}?${q.labelSelector ?? ''}`);
    const [k, v] = (q.labelSelector ?? '').split('=');
    const items = [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${res.plural}/${ns}/`))
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
