// Leader election with one coordination.k8s.io/v1 Lease (`buckets: 1`, the default), so two replicas never both
// sign: only the holder runs workers. The Lease logic (optimistic-concurrency PUTs, takeover only after seeing
// the holder's record unchanged for a lease duration on our own clock) is lease-lock.ts, shared with buckets.ts.
import type { Logger } from 'winston';
import type { KubeClient } from '../kube/client.js';
import { DEFAULT_LEASE_TIMING, LeaseLock, renewIntervalMs, type LeaseTiming } from './lease-lock.js';

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  /** lease duration, renew deadline and retry period (default DEFAULT_LEASE_TIMING) */
  timing?: LeaseTiming;
  /** labels put on the Lease when this replica creates it */
  labels?: Record<string, string>;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  now?: () => number;
}

/** Acquires and renews a Lease; calls back on gaining and losing it. */
export class LeaderElector {
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly lock: LeaseLock;
  private readonly timing: LeaseTiming;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.timing = opts.timing ?? DEFAULT_LEASE_TIMING;
    this.lock = new LeaseLock({
      client: opts.client,
      namespace: opts.namespace,
      name: opts.name,
      identity: opts.identity,
      timing: this.timing,
      ...(opts.labels ? { labels: opts.labels } : {}),
      now: opts.now ?? Date.now,
    });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    void this.tick();
  }

  /** Stops trying; when leading, gives the lease up so a standby takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leader) return;
    try {
      await this.lock.release();
      this.opts.logger.info('released the leader lease', { lease: this.opts.name });
    } catch (err) {
      this.opts.logger.warn('could not release the leader lease', { lease: this.opts.name, error: String(err) });
    }
    this.setLeader(false);
  }

  /** One acquire-or-renew attempt, then the next one is scheduled (tests call it directly). */
  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const held = await this.lock.acquireOrRenew();
      if (held && !this.leader) {
        this.opts.logger.info('became the leader', { lease: this.opts.name, identity: this.opts.identity });
        this.setLeader(true);
      } else if (!held && this.leader) {
        this.opts.logger.warn('leader lease was taken over', { lease: this.opts.name });
        this.setLeader(false);
      }
    } catch (err) {
      this.opts.logger.warn('leader election request failed', { lease: this.opts.name, error: String(err) });
    }
    // a leader that could not renew within the renew deadline must assume someone else takes over soon
    if (this.leader && this.lock.overdue) {
      this.opts.logger.error('could not renew the leader lease in time; stepping down', { lease: this.opts.name });
      this.lock.drop();
      this.setLeader(false);
    }
    if (this.stopped) return;
    const delay = this.leader ? renewIntervalMs(this.timing) : this.timing.retryPeriodMs;
    if (this.timer) clearTimeout(this.timer); // one renewal loop, however tick() was called
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private setLeader(v: boolean): void {
    if (this.leader === v) return;
    this.leader = v;
    try {
      if (v) this.opts.onStartedLeading();
      else this.opts.onStoppedLeading();
    } catch (err) {
      this.opts.logger.error('leader callback failed', { error: String(err) });
    }
  }
}
