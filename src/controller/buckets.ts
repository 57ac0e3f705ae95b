// Work shared by replicas through Leases (`buckets: N > 1` in the leader-election ConfigMap). A run belongs to
// bucket fnv1a32("<namespace>/<name>") mod N; each bucket is a Lease `<lease-name>-bucket-<i>-of-<N>`, and a
// replica reconciles only the runs of the buckets it holds. Each replica also holds one membership slot, a Lease
// `<lease-name>-member-<k>` (the first free or expired slot, or a new one), so every replica can count the live
// ones (a slot unchanged for a lease duration on its own clock is dead) and hold its fair share,
// ceil(N / live replicas): above it, it gives buckets back (after their in-flight runs finish); below it, it takes
// free or expired ones. Slots are reused, so no Lease is ever deleted (no `delete` permission) and restarts do
// not leave one Lease per dead pod behind. One LIST of the group's Leases per retry period is the only read.
import { createHash } from 'node:crypto';
import type { Logger } from 'winston';
import { messageOf } from '../errors.js';
import { LEASES, type KubeClient } from '../kube/client.js';
import { LeaseLock, LeaseObservation, renewIntervalMs, type Lease, type LeaseTiming } from './lease-lock.js';

/** Labels on every Lease of a bucket group, so one LIST finds them all. */
export const LEASE_GROUP_LABEL = 'chainsmith.dev/lease-group';
export const LEASE_ROLE_LABEL = 'chainsmith.dev/lease-role';

/** 32-bit FNV-1a of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The bucket of a run: stable across replicas and restarts (it depends on nothing but the name and N). */
export function bucketOf(namespace: string, name: string, buckets: number): number {
  return buckets <= 1 ? 0 : fnv1a32(`${namespace}/${name}`) % buckets;
}

/** The Lease name of bucket `i` of `n`. */
export function bucketLeaseName(leaseName: string, i: number, n: number): string {
  return `${leaseName}-bucket-${i}-of-${n}`;
}

/** The group label's value: the lease name, or a digest of it when longer than a label value may be (63). */
export function leaseGroupValue(leaseName: string): string {
  return leaseName.length <= 63 ? leaseName : createHash('sha256').update(leaseName).digest('hex').slice(0, 40);
}

/** The Lease name of membership slot `k`. */
export function memberLeaseName(leaseName: string, k: number): string {
  return `${leaseName}-member-${k}`;
}

/** The slot number of a membership Lease of this group, or undefined. */
function slotOf(leaseName: string, name: string): number | undefined {
  const prefix = `${leaseName}-member-`;
  if (!name.startsWith(prefix)) return undefined;
  const k = name.slice(prefix.length);
  return /^(0|[1-9][0-9]{0,5})$/.test(k) ? Number(k) : undefined;
}

export interface BucketElectorOptions {
  client: KubeClient;
  namespace: string;
  leaseName: string;
  identity: string;
  buckets: number;
  timing: LeaseTiming;
  logger: Logger;
  /** this replica may now reconcile the runs of bucket `i` */
  onGained: (i: number) => void;
  /** this replica must stop taking runs of bucket `i` (in-flight ones finish) */
  onLost: (i: number) => void;
  /** whether runs of bucket `i` are being reconciled right now (a bucket given away waits for them) */
  busy?: (i: number) => boolean;
  /** the longest a bucket being given away waits for its in-flight runs (default 30 s) */
  drainLimitMs?: number;
  now?: () => number;
}

/** Holds this replica's fair share of the buckets. */
export class BucketElector {
  private readonly locks: LeaseLock[];
  /** the membership slot this replica holds, once it has one */
  private member: LeaseLock | undefined;
  private readonly slots = new Map<number, LeaseLock>();
  private readonly memberSeen = new Map<string, LeaseObservation>();
  /** buckets this replica acts on (held, renewed in time, not being given away) */
  private readonly active = new Set<number>();
  /** buckets being given away → since when (still renewed until their in-flight runs finish) */
  private readonly draining = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly labels: Record<string, string>;
  /** the round in progress, which a graceful stop waits for before giving everything back */
  private ticking: Promise<void> | undefined;

  constructor(private readonly o: BucketElectorOptions) {
    this.now = o.now ?? Date.now;
    this.labels = { [LEASE_GROUP_LABEL]: leaseGroupValue(o.leaseName) };
    this.lock = (name: string, role: string) =>
      new LeaseLock({
        client: o.client,
        namespace: o.namespace,
        name,
        identity: o.identity,
        timing: o.timing,
        labels: { ...this.labels, [LEASE_ROLE_LABEL]: role },
        now: this.now,
      });
    this.locks = Array.from({ length: o.buckets }, (_, i) =>
      this.lock(bucketLeaseName(o.leaseName, i, o.buckets), 'bucket'),
    );
  }

  private readonly lock: (name: string, role: string) => LeaseLock;

  /** Whether this replica may reconcile runs of bucket `i` now. */
  holds(i: number): boolean {
    return this.active.has(i) && !this.locks[i]!.overdue;
  }

  /**
   * Whether bucket `i` is still this replica's, even if its renewal is overdue right now (`holds` is false then): its
   * runs are kept queued, not dropped, because a renewal that succeeds late never "gains" the bucket again.
   */
  assigned(i: number): boolean {
    return this.active.has(i);
  }

  /** The buckets this replica acts on, ascending. */
  held(): number[] {
    return [...this.active].sort((a, b) => a - b);
  }

  get total(): number {
    return this.o.buckets;
  }

  start(): void {
    void this.loop();
  }

  /** Stops; gives every bucket and the membership slot back at once (graceful shutdown, after draining). */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking; // a round still in flight could take a bucket after we gave them back
    for (const i of [...this.active]) this.lose(i, 'shutting down');
    await Promise.all(
      this.locks.map(async (l, i) => {
        if (!l.held) return;
        try {
          await l.release();
        } catch (err) {
          this.o.logger.warn('could not release a bucket lease', { bucket: i, lease: l.name, error: messageOf(err) });
        }
      }),
    );
    try {
      await this.member?.release();
    } catch (err) {
      this.o.logger.warn('could not release the membership lease', { lease: this.member?.name, error: messageOf(err) });
    }
  }

  /** One round: renew the membership, read the group, keep the fair share (tests drive it with a fake clock). */
  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.round();
    } catch (err) {
      this.o.logger.warn('bucket lease request failed', { error: messageOf(err) });
    }
    // a bucket that could not be renewed within the renew deadline may be taken by another replica soon
    for (const [i, l] of this.locks.entries()) {
      if (l.held && l.overdue) {
        this.o.logger.error('could not renew a bucket lease in time; letting it go', { bucket: i, lease: l.name });
        l.drop();
        this.draining.delete(i);
        this.lose(i, 'renewal overdue');
      }
    }
  }

  private async loop(): Promise<void> {
    this.ticking = this.tick();
    await this.ticking;
    if (this.stopped) return;
    const anyHeld = this.locks.some((l) => l.held);
    const delay = Math.min(this.o.timing.retryPeriodMs, anyHeld ? renewIntervalMs(this.o.timing) : Infinity);
    this.timer = setTimeout(() => void this.loop(), delay);
  }

  private async round(): Promise<void> {
    const { client, namespace } = this.o;
    const listed = await client.list<Lease>(LEASES, namespace, {
      labelSelector: `${LEASE_GROUP_LABEL}=${leaseGroupValue(this.o.leaseName)}`,
    });
    const byName = new Map(listed.items.map((l) => [l.metadata.name, l]));
    await this.keepMembership(byName);
    const dead: Lease[] = [];
    const live = this.countLive(listed.items, dead);
    await this.freeSlots(dead);
    const target = Math.ceil(this.o.buckets / live);

    // renew what we hold (including buckets being given away: their runs are still finishing)
    for (const [i, l] of this.locks.entries()) {
      if (!l.held || !l.renewDue) continue;
      if (!(await l.acquireOrRenew())) {
        this.draining.delete(i);
        this.lose(i, 'taken over by another replica');
      }
    }

    // above the fair share: give the highest buckets away, each once its in-flight runs are done
    const keeping = this.held().filter((i) => !this.draining.has(i));
    for (const i of keeping.slice(target).reverse()) {
      this.draining.set(i, this.now());
      this.lose(i, `above the fair share of ${target} (${live} live replicas)`);
    }
    for (const [i, since] of [...this.draining]) {
      const limit = this.o.drainLimitMs ?? 30_000;
      if ((this.o.busy?.(i) ?? false) && this.now() - since < limit) continue;
      this.draining.delete(i);
      await this.locks[i]!.release();
      this.o.logger.info('gave a bucket back', { bucket: i, lease: this.locks[i]!.name });
    }

    // every bucket held by someone else is watched on every round, so its expiry is known as soon as we need it
    const claimable = this.locks.map((l) => !l.held && l.claimable(byName.get(l.name)));
    // below the fair share: take free or expired buckets, from an offset of our own so replicas rarely collide
    let need = this.stopped ? 0 : target - this.active.size - this.draining.size;
    const offset = fnv1a32(this.o.identity) % this.o.buckets;
    for (let k = 0; k < this.o.buckets && need > 0; k++) {
      const i = (offset + k) % this.o.buckets;
      const l = this.locks[i]!;
      if (!claimable[i]) continue;
      const lease = byName.get(l.name);
      if (await l.acquireOrRenew({ lease })) {
        need--;
        this.gain(i, live, target);
      }
    }
  }

  /** Renews our membership slot, or takes the first free or expired one, or a new one after the last. */
  private async keepMembership(byName: Map<string, Lease>): Promise<void> {
    if (this.member?.held) {
      if (this.member.renewDue && !(await this.member.acquireOrRenew())) this.member = undefined;
      if (this.member) return;
    }
    const taken: number[] = [];
    for (const name of byName.keys()) {
      const k = slotOf(this.o.leaseName, name);
      if (k !== undefined) taken.push(k);
    }
    taken.sort((a, b) => a - b);
    for (const k of [...taken, (taken.at(-1) ?? -1) + 1]) {
      let slot = this.slots.get(k);
      if (!slot) this.slots.set(k, (slot = this.lock(memberLeaseName(this.o.leaseName, k), 'member')));
      const lease = byName.get(slot.name);
      if (!slot.claimable(lease)) continue;
      if (await slot.acquireOrRenew({ lease })) {
        this.member = slot;
        this.o.logger.info('joined the replicas sharing the buckets', { lease: slot.name, identity: this.o.identity });
        return;
      }
    }
  }

  /** Replicas whose membership slot is held and changed within its duration on our clock (ourselves always). */
  private countLive(items: Lease[], dead: Lease[]): number {
    const now = this.now();
    let live = 1;
    const names = new Set<string>();
    for (const lease of items) {
      const name = lease.metadata.name;
      if (lease.metadata.labels?.[LEASE_ROLE_LABEL] !== 'member' || name === this.member?.name) continue;
      if ((lease.spec?.holderIdentity ?? '') === '' || lease.spec.holderIdentity === this.o.identity) continue;
      names.add(name);
      let seen = this.memberSeen.get(name);
      if (!seen) this.memberSeen.set(name, (seen = new LeaseObservation()));
      const durationMs = (lease.spec.leaseDurationSeconds ?? this.o.timing.leaseDurationMs / 1000) * 1000;
      if (seen.unchangedFor(lease, now) < durationMs) live++;
      else dead.push(lease);
    }
    for (const name of this.memberSeen.keys()) if (!names.has(name)) this.memberSeen.delete(name);
    return live;
  }

  /**
   * Marks the slots of replicas that died without a word (kill -9) free, so a new replica reuses them at once
   * instead of adding a Lease. A PUT on the version we judged dead: if its owner renewed meanwhile, it is a 409.
   */
  private async freeSlots(dead: Lease[]): Promise<void> {
    for (const lease of dead) {
      try {
        await this.o.client.replace(LEASES, this.o.namespace, lease.metadata.name, {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 },
        });
        this.o.logger.info('freed the membership slot of a replica that stopped renewing', {
          lease: lease.metadata.name,
          holder: lease.spec.holderIdentity,
        });
      } catch (err) {
        this.o.logger.debug('could not free a membership slot', { lease: lease.metadata.name, error: messageOf(err) });
      }
    }
  }

  private gain(i: number, live: number, target: number): void {
    if (this.active.has(i)) return;
    this.active.add(i);
    this.o.logger.info('gained a bucket', {
      bucket: i,
      buckets: this.o.buckets,
      lease: this.locks[i]!.name,
      liveReplicas: live,
      fairShare: target,
    });
    this.o.onGained(i);
  }

  private lose(i: number, why: string): void {
    if (!this.active.delete(i)) return;
    this.o.logger.info('lost a bucket', { bucket: i, buckets: this.o.buckets, lease: this.locks[i]!.name, why });
    this.o.onLost(i);
  }
}
