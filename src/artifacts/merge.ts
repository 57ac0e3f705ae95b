// The §2.7 merge shared by subjects and materials (Chains' AppendSubjects/AppendMaterials): a new item merges into
// the FIRST kept item with the same key (name/uri) that shares an `alg: hex` entry — Go reads a missing entry as
// "", so a kept `{alg: ""}` also matches an item without `alg` — and its digest entries are copied in; other items
// are appended. Chains scans every kept item for every new one, which is quadratic: 20,000 steps pulling the same
// image at different digests took half a minute. Here each (key, alg, hex) has a min-heap of the positions that
// hold it, so finding the first match costs O(log n), and an entry overwritten by a merge is dropped lazily.

/** Chains' artifactEqual: same name and at least one `alg` whose value in `b` (missing reads as "") equals `a`'s. */
export function sameArtifact(
  aName: string,
  a: Record<string, string>,
  bName: string,
  b: Record<string, string>,
): boolean {
  if (aName !== bName) return false;
  for (const alg in a) if (Object.hasOwn(a, alg) && lookup(b, alg) === a[alg]) return true;
  return false;
}

/** Go map lookup: a missing key reads as "". */
function lookup(m: Record<string, string>, k: string): string {
  return Object.hasOwn(m, k) ? m[k]! : '';
}

/** A binary min-heap ordered by `rank`. */
class MinHeap<T> {
  private readonly a: T[] = [];
  constructor(private readonly rank: (t: T) => number) {}

  get size(): number {
    return this.a.length;
  }

  peek(): T | undefined {
    return this.a[0];
  }

  push(t: T): void {
    const a = this.a;
    let i = a.push(t) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.rank(a[parent]!) <= this.rank(a[i]!)) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.rank(a[l]!) < this.rank(a[m]!)) m = l;
      if (r < a.length && this.rank(a[r]!) < this.rank(a[m]!)) m = r;
      if (m === i) return top;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
  }
}

interface EmptyEntry {
  pos: number;
  alg: string;
}

/** The index of the kept items that share one key. */
interface Bucket {
  /** alg → hex → positions of items that held `alg: hex` when it was written (possibly overwritten since) */
  holders: Map<string, Map<string, MinHeap<number>>>;
  /** for each alg some item holds with an empty value: its earliest holder, as last computed */
  emptyFirst: Map<string, number>;
  /** the emptyFirst entries, earliest first (superseded entries are skipped lazily) */
  emptyOrder: MinHeap<EmptyEntry>;
}

/**
 * The §2.7 merge as an accumulator. Items are copied on the way in, so callers' objects are never modified;
 * first-seen positions are kept. `add` costs O(d log n) per item (d digest entries), whatever the input.
 */
export class ArtifactAccumulator<T extends { digest: Record<string, string> }> {
  private readonly items: T[] = [];
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly keyOf: (t: T) => string,
    private readonly copy: (t: T) => T,
  ) {}

  /** Merges or appends each item, in order. */
  add(list: readonly T[]): this {
    for (const item of list) {
      const key = this.keyOf(item);
      const bucket = this.bucket(key);
      const pos = this.firstMatch(bucket, item.digest);
      if (pos === undefined) {
        this.append(bucket, item);
        continue;
      }
      const digest = this.items[pos]!.digest;
      // Object.assign's order and [[Set]] semantics, recording each entry that changed
      for (const alg of Object.keys(item.digest)) {
        const hex = item.digest[alg]!;
        if (this.holds(pos, alg, hex)) continue;
        digest[alg] = hex;
        if (this.holds(pos, alg, hex)) this.record(bucket, pos, alg, hex);
      }
    }
    return this;
  }

  /** Appends each item without merging, as Chains copies the `original` list of AppendSubjects/AppendMaterials. */
  addVerbatim(list: readonly T[]): this {
    for (const item of list) this.append(this.bucket(this.keyOf(item)), item);
    return this;
  }

  /** The merged list (owned by the caller from now on). */
  toArray(): T[] {
    return this.items;
  }

  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { holders: new Map(), emptyFirst: new Map(), emptyOrder: new MinHeap((e) => e.pos) };
      this.buckets.set(key, b);
    }
    return b;
  }

  private append(bucket: Bucket, item: T): void {
    const c = this.copy(item);
    const pos = this.items.push(c) - 1;
    for (const alg of Object.keys(c.digest)) this.record(bucket, pos, alg, c.digest[alg]!);
  }

  private holds(pos: number, alg: string, hex: string): boolean {
    const d = this.items[pos]!.digest;
    return Object.hasOwn(d, alg) && d[alg] === hex;
  }

  private record(bucket: Bucket, pos: number, alg: string, hex: string): void {
    let byHex = bucket.holders.get(alg);
    if (!byHex) bucket.holders.set(alg, (byHex = new Map()));
    let heap = byHex.get(hex);
    if (!heap) byHex.set(hex, (heap = new MinHeap((n) => n)));
    heap.push(pos);
    if (hex !== '') return;
    const first = bucket.emptyFirst.get(alg);
    if (first === undefined || pos < first) {
      bucket.emptyFirst.set(alg, pos);
      bucket.emptyOrder.push({ pos, alg });
    }
  }

  /** The earliest position that still holds `alg: hex`, dropping overwritten ones. */
  private earliest(bucket: Bucket, alg: string, hex: string): number | undefined {
    const heap = bucket.holders.get(alg)?.get(hex);
    if (!heap) return undefined;
    while (heap.size > 0 && !this.holds(heap.peek()!, alg, hex)) heap.pop();
    return heap.peek();
  }

  /** The position of the first kept item that sameArtifact(kept, new) accepts. */
  private firstMatch(bucket: Bucket, digest: Record<string, string>): number | undefined {
    let best: number | undefined;
    // Entries the new item has: a kept item with the same `alg: hex`.
    for (const alg of Object.keys(digest)) {
      const p = this.earliest(bucket, alg, digest[alg]!);
      if (p !== undefined && (best === undefined || p < best)) best = p;
    }
    // Entries it lacks: a kept item with `alg: ""`. Only the earliest holder of each alg is listed, so at most
    // one entry per alg the new item has (non-empty) is passed over.
    const passed: EmptyEntry[] = [];
    const order = bucket.emptyOrder;
    while (order.size > 0 && (best === undefined || order.peek()!.pos < best)) {
      const e = order.pop()!;
      if (bucket.emptyFirst.get(e.alg) !== e.pos) continue; // superseded by an earlier holder
      if (!this.holds(e.pos, e.alg, '')) {
        // overwritten by a merge: list the next holder of that alg instead
        const next = this.earliest(bucket, e.alg, '');
        if (next === undefined) bucket.emptyFirst.delete(e.alg);
        else {
          bucket.emptyFirst.set(e.alg, next);
          order.push({ pos: next, alg: e.alg });
        }
        continue;
      }
      passed.push(e);
      if (lookup(digest, e.alg) === '') {
        best = e.pos;
        break;
      }
    }
    for (const e of passed) order.push(e);
    return best;
  }
}
