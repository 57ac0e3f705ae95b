// Client-side API rate limiting (`--kube-api-qps` / `--kube-api-burst`): a token bucket shared by every
// request the controller makes, so a burst of completions cannot overload the API server. Two priorities:
// `low` (Events) only gets a token when no `normal` request (reads and writes of runs) is waiting, so under a
// burst the informational Events queue up behind the work that signs runs instead of slowing it down.

export type Priority = 'normal' | 'low';

/** A token bucket: `burst` tokens, refilled at `qps` per second; `take()` waits for a token. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: Array<() => void> = [];
  private readonly lowWaiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`invalid rate limit qps=${qps} burst=${burst}`);
    this.tokens = burst;
    this.last = this.now();
  }

  /** Resolves when a token is available (FIFO within a priority; `normal` before `low`). */
  take(priority: Priority = 'normal'): Promise<void> {
    this.refill();
    const ahead = priority === 'normal' ? this.waiters.length : this.waiters.length + this.lowWaiters.length;
    if (ahead === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      (priority === 'normal' ? this.waiters : this.lowWaiters).push(resolve);
      this.schedule();
    });
  }

  /** Requests waiting for a token. */
  get waiting(): number {
    return this.waiters.length + this.lowWaiters.length;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.qps) * 1000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiting > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        (this.waiters.shift() ?? this.lowWaiters.shift())!();
      }
      if (this.waiting > 0) this.schedule();
    }, wait);
  }
}
