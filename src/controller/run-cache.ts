// The informer cache of runs, kept small: for each run only the fields the controller needs to decide what to
// do (done?, signed?, finalizers, children), plus the full object only for done-but-unsigned runs, within a
// budget. That keeps 10,000 signed runs (whose payload annotations are large) at a few hundred bytes each.
import { isDone } from '../tekton/accessors.js';
import type { Run } from '../tekton/types.js';
import {
  isDecisionAnnotation,
  MARK_SIGNATURE_ANNOTATION,
  SIGNED_ANNOTATION,
  type RunKind,
} from '../tekton/annotations.js';
import { EVIDENCE_ONLY, type MarkTrust } from '../pipeline/mark-trust.js';

/** What the controller remembers of one run. */
export interface CachedRun {
  kind: RunKind;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  done: boolean;
  completionTime?: string;
  deleting: boolean;
  finalizers: string[];
  /** only the small decision annotations (`signed`, `retries`, `chainsmith.dev/*`), never payloads */
  annotations: Record<string, string>;
  managedBy?: string;
  /** PipelineRun: `status.childReferences` (kind + name) */
  childRefs?: Array<{ kind?: string; name: string }>;
  /** TaskRun: the PipelineRun that controls it, if any */
  parentName?: string;
  /** the whole object, kept only while the run is done and not yet signed (see RunCache.maxFull) */
  full?: Run;
}

/** True when a `signed` annotation says the run needs nothing more (`true` or `failed`, as Chains reads it). */
export function isReconciled(annotations: Record<string, string> | undefined): boolean {
  const v = annotations?.[SIGNED_ANNOTATION];
  return v === 'true' || v === 'failed';
}

// shared, frozen: most cached runs have no decision annotations beyond `signed` and no finalizers
const NO_ANNOTATIONS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_FINALIZERS: string[] = Object.freeze([]) as unknown as string[];
// one string per namespace instead of one copy per run
const namespaces = new Map<string, string>();
function intern(ns: string): string {
  let v = namespaces.get(ns);
  if (v === undefined) namespaces.set(ns, (v = ns));
  return v;
}
const SIGNED_TRUE: Record<string, string> = Object.freeze({ [SIGNED_ANNOTATION]: 'true' }) as Record<string, string>;

// the mark signature is checked while summarising and not needed after: not kept (hundreds of bytes per run)
function keepAnnotation(key: string): boolean {
  if (key === MARK_SIGNATURE_ANNOTATION) return false;
  return isDecisionAnnotation(key);
}

/**
 * The decision fields of a run (no full object). A `signed: "true"` mark that `marks` does not trust is dropped,
 * so the run is decided on as if unsigned (docs/reliability.md, forged marks). The check runs only for runs
 * carrying the mark, once per summarised version.
 */
export function summarise(run: Run, marks: MarkTrust = EVIDENCE_ONLY): CachedRun {
  const m = run.metadata;
  let annotations: Record<string, string> = {};
  let kept = 0;
  const untrustedMark = m.annotations?.[SIGNED_ANNOTATION] === 'true' && !marks.trusted(run);
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    if (untrustedMark && k === SIGNED_ANNOTATION) continue; // decided on as if unsigned
    if (keepAnnotation(k)) {
      annotations[k] = v;
      kept++;
    }
  }
  if (kept === 0) annotations = NO_ANNOTATIONS;
  else if (kept === 1 && annotations[SIGNED_ANNOTATION] === 'true') annotations = SIGNED_TRUE;
  const summary: CachedRun = {
    kind: run.kind,
    namespace: intern(m.namespace ?? ''),
    name: m.name ?? '',
    uid: m.uid ?? '',
    resourceVersion: m.resourceVersion ?? '',
    done: isDone(run),
    deleting: m.deletionTimestamp !== undefined,
    finalizers: m.finalizers && m.finalizers.length > 0 ? [...m.finalizers] : NO_FINALIZERS,
    annotations,
  };
  if (run.status?.completionTime) summary.completionTime = run.status.completionTime;
  if (run.spec?.managedBy !== undefined) summary.managedBy = run.spec.managedBy;
  if (run.kind === 'PipelineRun') {
    summary.childRefs = (run.status?.childReferences ?? []).map((c) => ({ kind: c.kind, name: c.name }));
  } else {
    const owner = m.ownerReferences?.find((o) => o.controller && o.kind === 'PipelineRun');
    if (owner) summary.parentName = owner.name;
  }
  return summary;
}

/** Removes what no decision or payload needs before an object is kept whole. */
export function stripForCache(run: Run): Run {
  const { managedFields: _dropped, ...metadata } = run.metadata;
  return { ...run, metadata } as Run;
}

/** Runs by UID and by kind/namespace/name. */
export class RunCache {
  private readonly byUid = new Map<string, CachedRun>();
  private readonly byName = new Map<string, string>();
  private fullCount = 0;

  /**
   * `maxFull`: how many whole objects of done-but-unsigned runs to keep; the rest are fetched when signed.
   * `marks`: which signed marks to believe (the controller passes its MarkVerifier).
   */
  constructor(
    private readonly maxFull = 2000,
    readonly marks: MarkTrust = EVIDENCE_ONLY,
  ) {}

  /** The decision fields of a run, with this cache's mark check (use it for every run the controller reads). */
  summarise(run: Run): CachedRun {
    return summarise(run, this.marks);
  }

  static nameKey(kind: RunKind, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  /** Stores the run; returns the previous entry. */
  upsert(run: Run): { prev?: CachedRun; cur: CachedRun } {
    const cur = summarise(run, this.marks);
    const prev = this.byUid.get(cur.uid);
    if (prev?.full) this.fullCount--;
    if (cur.done && !isReconciled(cur.annotations) && this.fullCount < this.maxFull) {
      cur.full = stripForCache(run);
      this.fullCount++;
    }
    this.byUid.set(cur.uid, cur);
    this.byName.set(RunCache.nameKey(cur.kind, cur.namespace, cur.name), cur.uid);
    return { prev, cur };
  }

  /** Forgets a run; returns what was known of it. */
  delete(uid: string): CachedRun | undefined {
    const prev = this.byUid.get(uid);
    if (!prev) return undefined;
    if (prev.full) this.fullCount--;
    this.byUid.delete(uid);
    const key = RunCache.nameKey(prev.kind, prev.namespace, prev.name);
    if (this.byName.get(key) === uid) this.byName.delete(key);
    return prev;
  }

  get(uid: string): CachedRun | undefined {
    return this.byUid.get(uid);
  }

  findByName(kind: RunKind, namespace: string, name: string): CachedRun | undefined {
    const uid = this.byName.get(RunCache.nameKey(kind, namespace, name));
    return uid === undefined ? undefined : this.byUid.get(uid);
  }

  /** Every cached run of one kind (all kinds when undefined). */
  *values(kind?: RunKind): IterableIterator<CachedRun> {
    for (const r of this.byUid.values()) if (kind === undefined || r.kind === kind) yield r;
  }

  /** UIDs currently cached for a kind (used to find runs that vanished across a relist). */
  uids(kind: RunKind, namespaces?: Set<string>): string[] {
    const out: string[] = [];
    for (const r of this.byUid.values()) {
      if (r.kind === kind && (namespaces === undefined || namespaces.has(r.namespace))) out.push(r.uid);
    }
    return out;
  }

  get size(): number {
    return this.byUid.size;
  }

  get fullObjects(): number {
    return this.fullCount;
  }
}
