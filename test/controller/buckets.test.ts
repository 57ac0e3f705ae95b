// Buckets of work shared by replicas through Leases, against an in-memory Lease API and a fake clock: every
// replica ticks once per simulated second, and after every step no two replicas may act on the same bucket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { KubeApiError, type KubeClient } from '../../src/kube/client.js';
import {
  BucketElector,
  bucketLeaseName,
  bucketOf,
  fnv1a32,
  memberLeaseName,
  LEASE_ROLE_LABEL,
} from '../../src/controller/buckets.js';
import { LeaderElector } from '../../src/controller/leader.js';
import { DEFAULT_LEASE_TIMING, type Lease, type LeaseTiming } from '../../src/controller/lease-lock.js';
import {
  LeaderElectionConfigSource,
  configMapNames,
  parseGoDurationMs,
  parseLeaderElection,
  type LeaderElectionConfig,
} from '../../src/controller/leader-config.js';
import { createLogger } from '../../src/observability/logger.js';

const logger = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const NS = 'tekton-chains';
const LEASE = 'chainsmith-controller';
const TIMING: LeaseTiming = DEFAULT_LEASE_TIMING; // 15 s lease, 10 s renew deadline, 2 s retry

/** Leases in one namespace with resourceVersion preconditions and `k=v` label selectors, like the API server. */
class FakeLeases {
  readonly leases = new Map<string, Lease>();
  private rv = 0;
  readonly client = {
    get: async (_r: unknown, _ns: string, name: string) => structuredClone(this.leases.get(name)),
    list: async (_r: unknown, _ns: string, q: { labelSelector?: string } = {}) => {
      const wanted = (q.labelSelector ?? '').split(',').filter((s) => s !== '');
      const items = [...this.leases.values()].filter((l) =>
        wanted.every((w) => {
          const [k, v] = w.split('=');
          return l.metadata.labels?.[k!] === v;
        }),
      );
      return { items: structuredClone(items), metadata: {} };
    },
    create: async (_r: unknown, _ns: string, body: Lease) => {
      if (this.leases.has(body.metadata.name)) throw new KubeApiError(409, 'already exists');
      return this.store(body);
    },
    replace: async (_r: unknown, _ns: string, name: string, body: Lease) => {
      const cur = this.leases.get(name);
      if (!cur) throw new KubeApiError(404, 'not found');
      if (body.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new KubeApiError(409, 'conflict');
      return this.store(body);
    },
    delete: async (_r: unknown, _ns: string, name: string) => this.leases.delete(name),
  } as unknown as KubeClient;

  private store(body: Lease): Lease {
    const stored = structuredClone(body);
    stored.metadata.resourceVersion = String(++this.rv);
    this.leases.set(stored.metadata.name, stored);
    return structuredClone(stored);
  }

  holder(name: string): string | undefined {
    return this.leases.get(name)?.spec.holderIdentity;
  }
}

interface Replica {
  id: string;
  elector: BucketElector;
  /** ticks (alive and running) */
  running: boolean;
  /** the process still exists (a paused one does; a killed one does not) */
  exists: boolean;
  gained: number[];
  lost: number[];
  inFlight: Set<number>;
}

class Cluster {
  readonly api = new FakeLeases();
  readonly clock = { t: 1_000_000 };
  readonly replicas: Replica[] = [];

  constructor(readonly buckets: number) {}

  add(id: string): Replica {
    const r: Replica = {
      id,
      running: true,
      exists: true,
      gained: [],
      lost: [],
      inFlight: new Set(),
      elector: undefined as unknown as BucketElector,
    };
    r.elector = new BucketElector({
      client: this.api.client,
      namespace: NS,
      leaseName: LEASE,
      identity: id,
      buckets: this.buckets,
      timing: TIMING,
      logger,
      now: () => this.clock.t,
      onGained: (i) => r.gained.push(i),
      onLost: (i) => r.lost.push(i),
      busy: (i) => r.inFlight.has(i),
    });
    this.replicas.push(r);
    return r;
  }

  /** Advances the clock by `seconds`, one second at a time; every running replica ticks each second. */
  async run(seconds: number): Promise<void> {
    for (let s = 0; s < seconds; s++) {
      this.clock.t += 1000;
      for (const r of this.replicas) if (r.running) await r.elector.tick();
      this.assertExclusive();
    }
  }

  /** No bucket is acted on by two replicas at once (a paused process counts: it may resume mid-run). */
  assertExclusive(): void {
    for (let i = 0; i < this.buckets; i++) {
      const holders = this.replicas.filter((r) => r.exists && r.elector.holds(i)).map((r) => r.id);
      assert.ok(holders.length <= 1, `bucket ${i} acted on by ${holders.join(' and ')} at t=${this.clock.t}`);
    }
  }

  /** The buckets each existing replica acts on. */
  shares(): Record<string, number[]> {
    return Object.fromEntries(this.replicas.filter((r) => r.exists).map((r) => [r.id, r.elector.held()]));
  }

  /** Every bucket is held by exactly one live replica, and each holds at most ceil(N / live). */
  assertFair(): void {
    const live = this.replicas.filter((r) => r.running);
    const target = Math.ceil(this.buckets / live.length);
    const all = live.flatMap((r) => r.elector.held()).sort((a, b) => a - b);
    assert.deepEqual(all, [...Array(this.buckets).keys()], `every bucket held once: ${JSON.stringify(this.shares())}`);
    for (const r of live)
      assert.ok(r.elector.held().length <= target, `${r.id} holds more than ${target}: ${r.elector.held().join(',')}`);
    // and the lease records agree with what each replica believes
    for (const r of live)
      for (const i of r.elector.held()) assert.equal(this.api.holder(bucketLeaseName(LEASE, i, this.buckets)), r.id);
  }

  kill(r: Replica): void {
    r.running = false;
    r.exists = false;
  }
}

test('fnv1a32 matches the reference vectors, and a run keeps its bucket', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  assert.equal(bucketOf('team-a', 'build-1', 1), 0);
  const b = bucketOf('team-a', 'build-1', 7);
  for (let k = 0; k < 5; k++) assert.equal(bucketOf('team-a', 'build-1', 7), b);
  // namespace and name are joined with "/": a/bc and ab/c are different runs
  assert.equal(bucketOf('a', 'bc', 10), fnv1a32('a/bc') % 10);
  assert.notEqual(fnv1a32('a/bc'), fnv1a32('ab/c'));
});

test('many run names spread evenly over the buckets', () => {
  const names: Array<[string, string]> = [];
  for (let ns = 0; ns < 20; ns++)
    for (let k = 0; k < 1000; k++) names.push([`team-${ns}`, `build-${k.toString(36)}-run-${(k * 7919) % 10007}`]);
  for (const n of [2, 3, 5, 7, 10]) {
    const counts = new Array<number>(n).fill(0);
    for (const [ns, name] of names) counts[bucketOf(ns, name, n)]!++;
    const mean = names.length / n;
    for (const c of counts) assert.ok(Math.abs(c - mean) < mean * 0.05, `${n} buckets: ${counts.join(',')}`);
  }
});

test('lease names: buckets and membership slots', () => {
  assert.equal(bucketLeaseName('chainsmith-controller', 2, 3), 'chainsmith-controller-bucket-2-of-3');
  assert.equal(memberLeaseName('chainsmith-controller', 0), 'chainsmith-controller-member-0');
});

for (const [replicas, buckets] of [
  [1, 3],
  [2, 3],
  [3, 3],
  [3, 10],
  [2, 10],
] as const) {
  test(`${replicas} replica(s) over ${buckets} buckets converge to a fair split`, async () => {
    const c = new Cluster(buckets);
    for (let k = 0; k < replicas; k++) c.add(`replica-${k}`);
    await c.run(60);
    c.assertFair();
    // and it is stable: another minute moves nothing
    const before = c.shares();
    const moves = c.replicas.map((r) => r.gained.length + r.lost.length);
    await c.run(60);
    assert.deepEqual(c.shares(), before);
    assert.deepEqual(
      c.replicas.map((r) => r.gained.length + r.lost.length),
      moves,
    );
  });
}

test('a replica killed with -9 loses its buckets after the lease duration; the survivors take them', async () => {
  const c = new Cluster(3);
  const [a, b, d] = [c.add('a'), c.add('b'), c.add('d')];
  await c.run(60);
  c.assertFair();
  const orphaned = d.elector.held();
  assert.equal(orphaned.length, 1);
  c.kill(d);
  // nobody takes the orphan before its lease has gone unrenewed for a whole duration
  await c.run(10);
  for (const r of [a, b]) for (const i of orphaned) assert.equal(r.elector.holds(i), false);
  // membership expiry (15 s) then bucket expiry, both observed on the survivors' clocks
  await c.run(30);
  c.assertFair();
  assert.deepEqual([...a.elector.held(), ...b.elector.held()].sort(), [0, 1, 2]);
});

test('a paused replica stops acting before anyone else may take its buckets, and steps back when it resumes', async () => {
  const c = new Cluster(2);
  const [a, b] = [c.add('a'), c.add('b')];
  await c.run(30);
  c.assertFair();
  const paused = b.elector.held();
  b.running = false; // stopped, but the process exists: assertExclusive still counts what it believes
  await c.run(11);
  for (const i of paused) assert.equal(b.elector.holds(i), false, 'the renew deadline has passed');
  await c.run(40);
  assert.deepEqual(a.elector.held(), [0, 1]);
  b.running = true; // wakes up: its renewals conflict, it rejoins and gets its share back
  await c.run(60);
  c.assertFair();
  assert.equal(b.elector.held().length, 1);
});

test('a starved replica whose renewal is only late keeps its buckets: not acted on meanwhile, but still assigned', async () => {
  // the controller keeps such a bucket's runs queued (assigned) instead of dropping them: a renewal that succeeds
  // late fires no onGained, so a dropped run would never be queued again (lost runs seen in the churn e2e)
  const c = new Cluster(2);
  const [a] = [c.add('a'), c.add('b')];
  await c.run(30);
  c.assertFair();
  const mine = a.elector.held();
  const lostBefore = a.lost.length;
  c.clock.t += TIMING.renewDeadlineMs + 500; // no tick for longer than the renew deadline (CPU starvation, GC)
  for (const i of mine) {
    assert.equal(a.elector.holds(i), false, 'past the renew deadline nothing is acted on');
    assert.equal(a.elector.assigned(i), true, 'but the bucket is still this replica’s');
  }
  await a.elector.tick(); // the late renewal succeeds: nobody else had taken it
  for (const i of mine) assert.equal(a.elector.holds(i), true);
  assert.equal(a.lost.length, lostBefore, 'never lost, so no onLost/onGained: the queued runs are what carries on');
  await c.run(5);
  c.assertFair();
});

test('a new replica gets its share: the others give buckets back', async () => {
  const c = new Cluster(10);
  const a = c.add('a');
  await c.run(20);
  assert.equal(a.elector.held().length, 10);
  const b = c.add('b');
  await c.run(30);
  c.assertFair();
  assert.equal(b.elector.held().length, 5);
  const d = c.add('d');
  await c.run(30);
  c.assertFair();
  for (const r of [a, b, d]) assert.ok(r.elector.held().length >= 2 && r.elector.held().length <= 4);
});

test('a bucket given away waits for its in-flight runs (bounded), and stops taking new ones at once', async () => {
  const c = new Cluster(2);
  const a = c.add('a');
  await c.run(10);
  assert.deepEqual(a.elector.held(), [0, 1]);
  a.inFlight.add(0).add(1); // both buckets have a run being signed
  c.add('b');
  await c.run(3);
  assert.equal(a.lost.length, 1, 'one bucket is no longer acted on');
  const given = a.lost[0]!;
  assert.equal(c.api.holder(bucketLeaseName(LEASE, given, 2)), 'a', 'but its Lease is kept while the run finishes');
  a.inFlight.delete(given);
  await c.run(30);
  c.assertFair();
});

test('graceful release hands every bucket over at once and removes the membership', async () => {
  const c = new Cluster(3);
  const [a, b] = [c.add('a'), c.add('b')];
  await c.run(30);
  await b.elector.release();
  b.running = false;
  b.exists = false;
  const slots = [...c.api.leases.values()].filter((l) => l.metadata.labels?.[LEASE_ROLE_LABEL] === 'member');
  assert.deepEqual(slots.map((l) => l.spec.holderIdentity).sort(), ['', 'a'], "b's membership slot is free");
  await c.run(3);
  assert.deepEqual(a.elector.held(), [0, 1, 2], 'taken within a few retry periods, not a lease duration');
});

test('membership slots are reused: replicas that come and go never add more Leases than were ever live at once', async () => {
  const c = new Cluster(3);
  const [, b, d] = [c.add('a'), c.add('b'), c.add('d')];
  await c.run(10);
  c.kill(b); // kill -9: its slot expires
  await d.elector.release(); // graceful: its slot is free at once
  d.running = false;
  d.exists = false;
  await c.run(30);
  for (const id of ['e', 'f']) c.add(id);
  await c.run(30);
  c.assertFair();
  const slots = [...c.api.leases.values()].filter((l) => l.metadata.labels?.[LEASE_ROLE_LABEL] === 'member');
  assert.equal(slots.length, 3);
  assert.deepEqual(slots.map((l) => l.spec.holderIdentity).sort(), ['a', 'e', 'f']);
});

test('buckets: 1 is the single legacy Lease named --lease-name, one leader and standbys', async () => {
  const cfg: LeaderElectionConfig = parseLeaderElection({}).config;
  assert.equal(cfg.buckets, 1);
  assert.deepEqual(cfg.timing, DEFAULT_LEASE_TIMING);
  const api = new FakeLeases();
  const clock = { t: 5_000_000 };
  const leading = { a: false, b: false };
  const elector = (id: 'a' | 'b') =>
    new LeaderElector({
      client: api.client,
      namespace: NS,
      name: LEASE,
      identity: id,
      timing: cfg.timing,
      logger,
      now: () => clock.t,
      onStartedLeading: () => (leading[id] = true),
      onStoppedLeading: () => (leading[id] = false),
    });
  const [ea, eb] = [elector('a'), elector('b')];
  await ea.tick();
  await eb.tick();
  assert.deepEqual([...api.leases.keys()], [LEASE]);
  assert.deepEqual(leading, { a: true, b: false });
  await ea.release();
  await eb.release();
});

test('the leader-election ConfigMap: buckets, Go durations, and bad values falling back with a reason', () => {
  assert.deepEqual(
    parseLeaderElection({ buckets: '3', 'lease-duration': '8s', 'renew-deadline': '6s', 'retry-period': '1s' }),
    {
      config: { buckets: 3, timing: { leaseDurationMs: 8000, renewDeadlineMs: 6000, retryPeriodMs: 1000 } },
      problems: [],
    },
  );
  for (const bad of ['0', '11', 'three', '2.5', '-1']) {
    const p = parseLeaderElection({ buckets: bad });
    assert.equal(p.config.buckets, 1);
    assert.match(p.problems[0]!, /buckets: .* not a whole number from 1 to 10/);
  }
  const swapped = parseLeaderElection({ 'lease-duration': '5s', 'renew-deadline': '10s' });
  assert.deepEqual(swapped.config.timing, DEFAULT_LEASE_TIMING);
  assert.match(swapped.problems[0]!, /retry-period < renew-deadline < lease-duration/);
  assert.equal(parseLeaderElection({ 'lease-duration': 'soon' }).problems.length, 1);
  assert.equal(parseGoDurationMs('1m30s'), 90_000);
  assert.equal(parseGoDurationMs('1.5s'), 1500);
  assert.equal(parseGoDurationMs('250ms'), 250);
  assert.equal(parseGoDurationMs('15'), undefined);
  assert.deepEqual(configMapNames(undefined), ['tekton-chains-config-leader-election', 'config-leader-election']);
  assert.deepEqual(configMapNames('config-leader-election'), ['config-leader-election']);
  assert.deepEqual(configMapNames('mine'), ['mine', 'config-leader-election']);
});

test("the ConfigMap is found under Chains' name, else knative's; an invalid value is an Event and falls back", async () => {
  const stored: Record<string, { metadata: { name: string; uid: string }; data: Record<string, string> }> = {};
  const client = { get: async (_r: unknown, _ns: string, name: string) => stored[name] } as unknown as KubeClient;
  const events: string[] = [];
  const sink = {
    record: (t: { name: string }, type: string, reason: string, note: string) =>
      events.push(`${t.name} ${type} ${reason}: ${note}`),
    flush: async () => {},
  };
  const load = (name?: string) =>
    new LeaderElectionConfigSource({
      client,
      namespace: NS,
      ...(name ? { name } : {}),
      logger,
      events: sink as never,
      watchChanges: false,
    }).load();
  assert.equal((await load()).buckets, 1, 'no ConfigMap: defaults');
  stored['config-leader-election'] = {
    metadata: { name: 'config-leader-election', uid: 'u1' },
    data: { buckets: '4' },
  };
  assert.equal((await load()).buckets, 4, "knative's name when Chains' is absent");
  stored['tekton-chains-config-leader-election'] = {
    metadata: { name: 'tekton-chains-config-leader-election', uid: 'u2' },
    data: { buckets: '12', 'lease-duration': '8s', 'renew-deadline': '6s', 'retry-period': '1s' },
  };
  const cfg = await load();
  assert.equal(cfg.buckets, 1, 'out of range: 1');
  assert.equal(cfg.timing.leaseDurationMs, 8000, 'the valid keys still apply');
  assert.equal(events.length, 1);
  assert.match(events[0]!, /^tekton-chains-config-leader-election Warning InvalidConfig: .*buckets: "12"/);
  assert.equal((await load('config-leader-election')).buckets, 4, 'CONFIG_LEADERELECTION_NAME wins');
});
