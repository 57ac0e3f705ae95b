import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from '../../src/oci/keyed-mutex.js';
import { backoffDelay, isRetryableStatus } from '../../src/oci/retry.js';

test('work on one key never interleaves; other keys run alongside', async () => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  const step = (name: string, ms: number) => async () => {
    log.push(`${name}:start`);
    await new Promise((r) => setTimeout(r, ms));
    log.push(`${name}:end`);
  };
  await Promise.all([
    mutex.run('tag', step('a', 30)),
    mutex.run('tag', step('b', 1)),
    mutex.run('other', step('c', 5)),
  ]);
  assert.ok(log.indexOf('a:end') < log.indexOf('b:start'), log.join(' '));
  assert.ok(log.indexOf('c:start') < log.indexOf('a:end'), log.join(' '));
});

test('a failure releases the key for the next writer', async () => {
  const mutex = new KeyedMutex();
  await assert.rejects(
    mutex.run('k', async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await mutex.run('k', async () => 42), 42);
});

test('backoff grows exponentially with jitter, is capped, and honours Retry-After', () => {
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    backoffDelay(1, policy, undefined, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(1, policy, undefined, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, policy, undefined, () => 1),
    400,
  );
  assert.equal(
    backoffDelay(10, policy, undefined, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(1, policy, '0.5', () => 0),
    500,
  );
  assert.equal(
    backoffDelay(1, policy, '30', () => 0),
    1000,
  );
  assert.deepEqual([429, 500, 503, 408, 401, 404, 400].map(isRetryableStatus), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
});
