// One coordination.k8s.io/v1 Lease held by this replica: the acquire/renew/release logic shared by the leader
// elector (leader.ts, `buckets: 1`) and the bucket elector (buckets.ts). Every write is a PUT carrying the
// resourceVersion read before it (optimistic concurrency), and a Lease held by someone else is taken only after
// this replica has seen its record unchanged for a whole lease duration on its own clock (as client-go does, so
// clock skew between nodes does not matter).
import { microTime } from '../observability/events.js';
import { KubeApiError, LEASES, type KubeClient } from '../kube/client.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: LeaseSpec;
}

/** The leader-election timings (the keys of the leader-election ConfigMap). */
export interface LeaseTiming {
  /** how long a Lease unchanged on our clock stays someone else's */
  leaseDurationMs: number;
  /** a holder that could not renew for this long stops acting as the holder (shorter than the lease duration) */
  renewDeadlineMs: number;
  /** how often a replica that does not hold a Lease tries again */
  retryPeriodMs: number;
}

/** The timings chainsmith has always used: 15 s lease, stop acting after 10 s without a renewal, retry every 2 s. */
export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** A holder renews every half renew deadline, so one failed renewal never costs it the Lease. */
export function renewIntervalMs(t: LeaseTiming): number {
  return Math.max(1, Math.floor(t.renewDeadlineMs / 2));
}

/** Remembers when a Lease record was first seen in its current state, on this replica's clock. */
export class LeaseObservation {
  private seen: { key: string; at: number } | undefined;

  /** How long (ms) the record has been seen unchanged; 0 when it just changed. */
  unchangedFor(lease: Lease, now: number): number {
    const s = lease.spec ?? {};
    const key = `${s.holderIdentity ?? ''}|${s.renewTime ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (this.seen?.key !== key) this.seen = { key, at: now };
    return now - this.seen.at;
  }

  /** True while `lease` names a holder other than `identity` whose record changed within its duration. */
  heldByOther(lease: Lease, identity: string, now: number, defaultDurationMs: number): boolean {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder === '' || holder === identity) return false;
    const durationMs = (lease.spec.leaseDurationSeconds ?? defaultDurationMs / 1000) * 1000;
    return this.unchangedFor(lease, now) < durationMs;
  }
}

export interface LeaseLockOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  timing: LeaseTiming;
  /** labels put on the Lease when this replica creates it (so a group can be listed) */
  labels?: Record<string, string>;
  now: () => number;
}

/** One Lease this replica competes for. */
export class LeaseLock {
  /** the Lease as we last wrote it, while we hold it */
  private mine: Lease | undefined;
  private lastRenew = 0;
  private readonly observation = new LeaseObservation();

  constructor(private readonly o: LeaseLockOptions) {}

  get name(): string {
    return this.o.name;
  }

  /** We hold the Lease as far as our last write knows. */
  get held(): boolean {
    return this.mine !== undefined;
  }

  /** Held, but not renewed within the renew deadline: someone else may take it soon, stop acting on it. */
  get overdue(): boolean {
    return this.held && this.o.now() - this.lastRenew > this.o.timing.renewDeadlineMs;
  }

  /** Held and due for a renewal. */
  get renewDue(): boolean {
    return this.held && this.o.now() - this.lastRenew >= renewIntervalMs(this.o.timing);
  }

  /** Forgets that we hold it (after stepping down); the next attempt reads the Lease again. */
  drop(): void {
    this.mine = undefined;
  }

  /** Whether `lease` (as just read) could be ours now: free, already ours, or unrenewed for its whole duration. */
  claimable(lease: Lease | undefined): boolean {
    if (!lease) return true;
    return !this.observation.heldByOther(lease, this.o.identity, this.o.now(), this.o.timing.leaseDurationMs);
  }

  /**
   * One acquire-or-renew attempt; resolves whether we hold the Lease afterwards. Renewals write over our own copy;
   * otherwise the Lease is read first, unless `listed` brings it (from a LIST: `{ lease: undefined }` = absent).
   */
  async acquireOrRenew(listed?: { lease: Lease | undefined }): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    // the renew deadline counts from before the request: the server's copy can only be newer than this
    const started = this.o.now();
    const nowIso = microTime(new Date(started));
    const current = this.mine ?? (listed ? listed.lease : await client.get<Lease>(LEASES, namespace, name));
    if (!current) {
      const created = await this.write('create', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace, ...(this.o.labels ? { labels: this.o.labels } : {}) },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: this.durationSeconds(),
          acquireTime: nowIso,
          renewTime: nowIso,
          leaseTransitions: 0,
        },
      });
      return this.wrote(created, started);
    }
    if (!this.claimable(current)) return false; // someone else holds a live lease
    const spec = current.spec ?? {};
    const mine = spec.holderIdentity === identity;
    const updated = await this.write('replace', {
      ...current,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: this.durationSeconds(),
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : nowIso,
        renewTime: nowIso,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    });
    return this.wrote(updated, started);
  }

  /** Gives the Lease up so another replica may take it at once (holder cleared, 1 s duration). */
  async release(): Promise<void> {
    const lease = this.mine;
    this.mine = undefined;
    if (!lease) return;
    const body: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(new Date(this.o.now())),
      },
    };
    await this.o.client.replace(LEASES, this.o.namespace, this.o.name, body);
  }

  /** Deletes the Lease (a membership record on shutdown); absent is fine. */
  async remove(): Promise<void> {
    this.mine = undefined;
    await this.o.client.delete(LEASES, this.o.namespace, this.o.name);
  }

  private durationSeconds(): number {
    return Math.max(1, Math.ceil(this.o.timing.leaseDurationMs / 1000));
  }

  private wrote(lease: Lease | undefined, at: number): boolean {
    if (!lease) return false;
    this.mine = lease;
    this.lastRenew = at;
    return true;
  }

  /**
   * Writes the Lease. A 409 means someone else wrote first, a 404 that it was deleted: either way it is not ours
   * any more (forget our copy; the next attempt reads it again).
   */
  private async write(how: 'create' | 'replace', body: Lease): Promise<Lease | undefined> {
    try {
      return how === 'create'
        ? await this.o.client.create<Lease>(LEASES, this.o.namespace, body)
        : await this.o.client.replace<Lease>(LEASES, this.o.namespace, this.o.name, body);
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 409 || err.status === 404)) {
        this.mine = undefined;
        return undefined;
      }
      throw err;
    }
  }
}
