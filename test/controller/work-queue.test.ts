import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../src/controller/work-queue.js';

test('a key added many times is handed out once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('a', 'backlog');
  q.add('b');
  assert.deepEqual(q.depth(), { live: 2, backlog: 0 });
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.deepEqual(q.depth(), { live: 0, backlog: 0 });
});

test('live completions are served before the whole backlog', async () => {
  const q = new WorkQueue();
  for (let i = 0; i < 1000; i++) q.add(`old-${i}`, 'backlog');
  assert.equal(await q.get(), 'old-0');
  q.add('fresh', 'live');
  assert.equal(await q.get(), 'fresh');
  assert.equal(await q.get(), 'old-1');
});

test('a live event promotes a key already waiting in the backlog', async () => {
  const q = new WorkQueue();
  q.add('x', 'backlog');
  q.add('y', 'backlog');
  q.add('y', 'live');
  assert.deepEqual(q.depth(), { live: 1, backlog: 1 });
  assert.equal(await q.get(), 'y');
  assert.equal(await q.get(), 'x');
});

test('a key re-added while being processed is not handed to a second worker, and comes back after done()', async () => {
  const q = new WorkQueue();
  q.add('a');
  const k = await q.get();
  q.add('a');
  assert.deepEqual(q.depth(), { live: 0, backlog: 0 }, 'not queued while in flight');
  let second: string | undefined;
  const waiting = q.get().then((key) => (second = key));
  await new Promise((r) => setImmediate(r));
  assert.equal(second, undefined);
  q.done(k!);
  await waiting;
  assert.equal(second, 'a');
});

test('a waiting get() receives the next added key', async () => {
  const q = new WorkQueue();
  const p = q.get();
  q.add('later', 'backlog');
  assert.equal(await p, 'later');
});

test('per-key backoff grows exponentially up to the cap and resets on forget()', () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
  const delays = [1, 2, 3, 4, 5].map(() => q.addRateLimited('k'));
  assert.deepEqual(delays, [10, 20, 40, 50, 50]);
  assert.equal(q.retriesOf('k'), 5);
  q.forget('k');
  assert.equal(q.addRateLimited('k'), 10);
  q.shutDown();
});

test('addAfter delivers the key after the delay', async () => {
  const q = new WorkQueue();
  const t0 = Date.now();
  q.addAfter('d', 30);
  assert.equal(q.delayed, 1);
  assert.equal(await q.get(), 'd');
  assert.ok(Date.now() - t0 >= 25);
});

test('oldest pending age tracks the longest-waiting key', () => {
  let now = 1000;
  const q = new WorkQueue({ now: () => now });
  q.add('a', 'backlog');
  now = 1500;
  q.add('b');
  now = 4000;
  assert.equal(q.oldestPendingMs(), 3000);
});

test('shutDown releases waiting workers with undefined', async () => {
  const q = new WorkQueue();
  const p = q.get();
  q.shutDown();
  assert.equal(await p, undefined);
  q.add('ignored');
  assert.equal(await q.get(), undefined);
});
