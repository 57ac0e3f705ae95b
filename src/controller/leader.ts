// Leader election with a coordination.k8s.io/v1 Lease, so two replicas never both sign: only the holder runs
// workers. Every write is a PUT carrying the resourceVersion read before it (optimistic concurrency), and a
// standby takes over only after it has seen the holder's record unchanged for a whole lease duration on its
// own clock (as client-go does, so clock skew between nodes does not matter).
import type { Logger } from 'winston';
import { microTime } from '../observability/events.js';
import { KubeApiError, LEASES, type KubeClient } from '../kube/client.js';

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  logger: Logger;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  /** how often a standby retries (default 2 s) */
  retryIntervalMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  now?: () => number;
}

/** Acquires and renews a Lease; calls back on gaining and losing it. */
export class LeaderElector {
  private leader = false;
  private lease: Lease | undefined;
  private lastRenew = 0;
  private observed: { key: string; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly duration: number;
  private readonly now: () => number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.duration = opts.leaseDurationSeconds ?? 15;
    this.now = opts.now ?? Date.now;
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
    if (!this.leader || !this.lease) return;
    const body: Lease = {
      ...this.lease,
      spec: {
        ...this.lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(new Date(this.now())),
      },
    };
    try {
      await this.opts.client.replace(LEASES, this.opts.namespace, this.opts.name, body);
      this.opts.logger.info('released the leader lease', { lease: this.opts.name });
    } catch (err) {
      this.opts.logger.warn('could not release the leader lease', { lease: this.opts.name, error: String(err) });
    }
    this.setLeader(false);
  }

  /** One acquire-or-renew attempt (exported for tests through `tick`). */
  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.logger.warn('leader election request failed', { lease: this.opts.name, error: String(err) });
    }
    // a leader that could not renew for a whole lease duration must assume someone else took over
    if (this.leader && this.now() - this.lastRenew > (this.duration - 5) * 1000) {
      this.opts.logger.error('could not renew the leader lease in time; stepping down', { lease: this.opts.name });
      this.setLeader(false);
    }
    if (this.stopped) return;
    const delay = this.leader ? (this.opts.renewIntervalMs ?? 5000) : (this.opts.retryIntervalMs ?? 2000);
    if (this.timer) clearTimeout(this.timer); // one renewal loop, however tick() was called
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { client, namespace, name, identity } = this.opts;
    const nowIso = microTime(new Date(this.now()));
    let current = this.leader ? this.lease : undefined;
    if (!current) {
      current = await client.get<Lease>(LEASES, namespace, name);
      if (!current) {
        const created = await this.write('create', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: this.duration,
            acquireTime: nowIso,
            renewTime: nowIso,
            leaseTransitions: 0,
          },
        });
        if (created) this.gained(created);
        return;
      }
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== identity) {
      const key = `${holder}|${spec.renewTime ?? ''}|${current.metadata.resourceVersion ?? ''}`;
      if (this.observed?.key !== key) this.observed = { key, at: this.now() };
      const durationMs = (spec.leaseDurationSeconds ?? this.duration) * 1000;
      if (this.now() - this.observed.at < durationMs) return; // someone else holds a live lease
    }
    const mine = holder === identity;
    const updated = await this.write('replace', {
      ...current,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: this.duration,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : nowIso,
        renewTime: nowIso,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    });
    if (updated) this.gained(updated);
  }

  /** Writes the lease; a 409 means someone else wrote first (forget our copy and re-read next time). */
  private async write(how: 'create' | 'replace', body: Lease): Promise<Lease | undefined> {
    try {
      return how === 'create'
        ? await this.opts.client.create<Lease>(LEASES, this.opts.namespace, body)
        : await this.opts.client.replace<Lease>(LEASES, this.opts.namespace, this.opts.name, body);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) {
        this.lease = undefined;
        if (this.leader) {
          this.opts.logger.warn('leader lease was taken over', { lease: this.opts.name });
          this.setLeader(false);
        }
        return undefined;
      }
      throw err;
    }
  }

  private gained(lease: Lease): void {
    this.lease = lease;
    this.lastRenew = this.now();
    this.observed = undefined;
    if (!this.leader) {
      this.opts.logger.info('became the leader', { lease: this.opts.name, identity: this.opts.identity });
      this.setLeader(true);
    }
  }

  private setLeader(v: boolean): void {
    if (this.leader === v) return;
    this.leader = v;
    if (!v) this.lease = undefined;
    try {
      if (v) this.opts.onStartedLeading();
      else this.opts.onStoppedLeading();
    } catch (err) {
      this.opts.logger.error('leader callback failed', { error: String(err) });
    }
  }
}
