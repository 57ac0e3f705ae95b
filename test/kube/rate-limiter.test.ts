import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/kube/rate-limiter.js';

test('the burst is served at once, then requests are paced at qps', async () => {
  const bucket = new TokenBucket(50, 5);
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) await bucket.take();
  assert.ok(performance.now() - t0 < 15, 'burst without waiting');
  for (let i = 0; i < 5; i++) await bucket.take();
  const elapsed = performance.now() - t0;
  // 5 more tokens at 50/s need ~100 ms
  assert.ok(elapsed >= 80, `paced: ${elapsed} ms`);
});

test('invalid limits are rejected', () => {
  assert.throws(() => new TokenBucket(0, 1));
  assert.throws(() => new TokenBucket(1, 0));
});

test('low-priority requests (Events) wait until no normal request is waiting', async () => {
  const bucket = new TokenBucket(100, 1);
  await bucket.take(); // empty the bucket
  const order: string[] = [];
  const low = bucket.take('low').then(() => order.push('event'));
  const normal = [1, 2, 3].map((i) => bucket.take().then(() => order.push(`patch-${i}`)));
  await Promise.all([low, ...normal]);
  assert.deepEqual(order, ['patch-1', 'patch-2', 'patch-3', 'event']);
});
