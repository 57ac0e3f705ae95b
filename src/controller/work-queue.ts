// A work queue keyed by run UID, shaped like client-go's: a key is queued at most once, a key being processed
// is never handed to a second worker (a new event marks it dirty and it is queued again when the worker is
// done), failed keys come back after an exponential per-key delay. Two lanes: `live` (events seen after the
// initial list — fresh completions) is always served before `backlog` (runs found by the initial list), so a
// new run never waits behind thousands of historical ones (user-pains §1A #1).

export type Lane = 'live' | 'backlog';

export interface WorkQueueOptions {
  /** first retry delay in ms */
  baseDelayMs?: number;
  /** retry delay cap in ms */
  maxDelayMs?: number;
  now?: () => number;
}

/** A deduplicating two-lane queue with per-key exponential backoff. */
export class WorkQueue {
  private readonly lanes: Record<Lane, string[]> = { live: [], backlog: [] };
  /** key → lane while queued (not yet handed out) */
  private readonly queued = new Map<string, Lane>();
  /** key → when it was first queued since last handed out (for the oldest-pending metric) */
  private readonly since = new Map<string, number>();
  private readonly processing = new Set<string>();
  /** keys re-added while processing, and the lane they asked for */
  private readonly dirty = new Map<string, Lane>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 5 * 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Queues a key (no-op when already queued in the same or a faster lane; `live` promotes a backlog entry). */
  add(key: string, lane: Lane = 'live'): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      const prev = this.dirty.get(key);
      this.dirty.set(key, prev === 'live' ? 'live' : lane);
      return;
    }
    const current = this.queued.get(key);
    if (current !== undefined) {
      if (current === 'backlog' && lane === 'live') {
        const q = this.lanes.backlog;
        q.splice(q.indexOf(key), 1);
        this.lanes.live.push(key);
        this.queued.set(key, 'live');
      }
      return;
    }
    this.queued.set(key, lane);
    if (!this.since.has(key)) this.since.set(key, this.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      this.handOut(key);
      waiter(key);
      return;
    }
    this.lanes[lane].push(key);
  }

  /** Queues a key after a delay (replaces an earlier pending delay for the same key). */
  addAfter(key: string, delayMs: number, lane: Lane = 'live'): void {
    if (this.shuttingDown) return;
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.add(key, lane);
      },
      Math.max(0, delayMs),
    );
    this.timers.set(key, timer);
  }

  /** Queues a key after its next exponential backoff delay; returns the delay used. */
  addRateLimited(key: string, lane: Lane = 'live'): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
    this.addAfter(key, delay, lane);
    return delay;
  }

  /** Resets a key's backoff (after success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times a key has failed in a row. */
  retriesOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key (live lane first); undefined once shut down and drained. */
  get(): Promise<string | undefined> {
    const key = this.lanes.live.shift() ?? this.lanes.backlog.shift();
    if (key !== undefined) {
      this.handOut(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key finished; a key re-added meanwhile is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    const lane = this.dirty.get(key);
    if (lane !== undefined) {
      this.dirty.delete(key);
      this.add(key, lane);
    }
  }

  /** Stops handing out work: waiting `get()` calls resolve undefined, pending delays are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    this.lanes.live.length = 0;
    this.lanes.backlog.length = 0;
    this.queued.clear();
    this.since.clear();
  }

  /** Keys waiting per lane (excludes delayed and in-flight keys). */
  depth(): Record<Lane, number> {
    return { live: this.lanes.live.length, backlog: this.lanes.backlog.length };
  }

  /** Keys being processed right now. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Keys waiting for a backoff delay. */
  get delayed(): number {
    return this.timers.size;
  }

  /** Age in ms of the oldest key waiting in either lane (0 when empty). */
  oldestPendingMs(): number {
    let oldest = Infinity;
    for (const key of this.queued.keys()) oldest = Math.min(oldest, this.since.get(key) ?? Infinity);
    return oldest === Infinity ? 0 : this.now() - oldest;
  }

  private handOut(key: string): void {
    this.queued.delete(key);
    this.since.delete(key);
    this.processing.add(key);
  }
}
