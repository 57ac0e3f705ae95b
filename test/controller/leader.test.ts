import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { KubeApiError, type KubeClient } from '../../src/kube/client.js';
import { LeaderElector } from '../../src/controller/leader.js';
import { createLogger } from '../../src/observability/logger.js';

const logger = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });

/** One Lease object with resourceVersion preconditions, like the API server. */
function leaseStore() {
  let lease: { metadata: { resourceVersion?: string }; spec: Record<string, unknown> } | undefined;
  let rv = 0;
  const client = {
    async get() {
      return lease ? structuredClone(lease) : undefined;
    },
    async create(_r: unknown, _ns: string, body: typeof lease) {
      if (lease) throw new KubeApiError(409, 'exists');
      lease = { ...structuredClone(body)!, metadata: { ...body!.metadata, resourceVersion: String(++rv) } };
      return structuredClone(lease);
    },
    async replace(_r: unknown, _ns: string, _n: string, body: NonNullable<typeof lease>) {
      if (!lease || body.metadata.resourceVersion !== lease.metadata.resourceVersion)
        throw new KubeApiError(409, 'conflict');
      lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      return structuredClone(lease);
    },
  } as unknown as KubeClient;
  return { client, holder: () => lease?.spec.holderIdentity };
}

function elector(client: KubeClient, identity: string, clock: { t: number }, state: { leading: boolean }) {
  return new LeaderElector({
    client,
    namespace: 'tekton-chains',
    name: 'chainsmith-controller',
    identity,
    logger,
    now: () => clock.t,
    onStartedLeading: () => (state.leading = true),
    onStoppedLeading: () => (state.leading = false),
  });
}

/** Replicas 'a' and 'b' over one Lease at time `t`, each having ticked once ('a' first). */
async function twoReplicas(t: number) {
  const store = leaseStore();
  const clock = { t };
  const a = { leading: false };
  const b = { leading: false };
  const ea = elector(store.client, 'a', clock, a);
  const eb = elector(store.client, 'b', clock, b);
  await ea.tick();
  await eb.tick();
  return { store, clock, a, b, ea, eb };
}

test('only one replica leads; a standby takes over only after the lease has gone unrenewed for its whole duration', async () => {
  const { store, clock, a, b, ea, eb } = await twoReplicas(1_000_000);
  assert.equal(a.leading, true);
  assert.equal(b.leading, false);
  assert.equal(store.holder(), 'a');
  // a renews; b keeps watching
  for (let i = 0; i < 5; i++) {
    clock.t += 5000;
    await ea.tick();
    await eb.tick();
  }
  assert.equal(b.leading, false);
  // a hangs (no renewals): b must wait a full lease duration from when it last saw a change
  clock.t += 10_000;
  await eb.tick();
  assert.equal(b.leading, false, 'not before 15 s without a renewal');
  clock.t += 5_001;
  await eb.tick();
  assert.equal(b.leading, true);
  assert.equal(store.holder(), 'b');
  // a wakes up: its write conflicts and it steps down instead of signing alongside b
  await ea.tick();
  assert.equal(a.leading, false);
  ea.release();
  await eb.release();
});

test('release hands the lease over at once', async () => {
  const { store, a, b, ea, eb } = await twoReplicas(5_000_000);
  await ea.release();
  assert.equal(a.leading, false);
  assert.equal(store.holder(), '');
  await eb.tick();
  assert.equal(b.leading, true);
  await eb.release();
});
