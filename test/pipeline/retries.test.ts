import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, parseChainsConfig } from '../../src/config/parse.js';
import { recordFailure } from '../../src/pipeline/retries.js';
import { ChainsmithError } from '../../src/errors.js';

const permanent = new ChainsmithError('KeyDecryptFailed', 'cosign.key: wrong password');
const transient = new ChainsmithError('RegistryUnavailable', 'registry: 503', { transient: true });

test('Chains-compatible counter: absent → "0", below the limit → +1, at the limit → failed', () => {
  const now = 1_000_000;
  assert.deepEqual(recordFailure({}, permanent, DEFAULT_CONFIG, now, undefined), {
    kind: 'count',
    annotations: {
      'chains.tekton.dev/retries': '0',
      'chainsmith.dev/last-failure': 'KeyDecryptFailed: cosign.key: wrong password',
    },
  });
  const seq = ['0', '1', '2'].map((r) =>
    recordFailure({ 'chains.tekton.dev/retries': r }, permanent, DEFAULT_CONFIG, now, undefined),
  );
  assert.deepEqual(
    seq.map((o) => (o.kind === 'count' ? o.annotations['chains.tekton.dev/retries'] : o.kind)),
    ['1', '2', '3'],
  );
  const last = recordFailure({ 'chains.tekton.dev/retries': '3' }, permanent, DEFAULT_CONFIG, now, undefined);
  assert.equal(last.kind, 'give-up');
  assert.equal(last.kind === 'give-up' && last.annotations['chains.tekton.dev/signed'], 'failed');
});

test('an unparsable counter gives up, as in Chains', () => {
  assert.equal(
    recordFailure({ 'chains.tekton.dev/retries': 'x' }, permanent, DEFAULT_CONFIG, 0, undefined).kind,
    'give-up',
  );
});

test('chainsmith.max-retries changes the limit', () => {
  const cfg = parseChainsConfig({ 'chainsmith.max-retries': '0' });
  assert.equal(recordFailure({}, permanent, cfg, 0, undefined).kind, 'count');
  assert.equal(recordFailure({ 'chains.tekton.dev/retries': '0' }, permanent, cfg, 0, undefined).kind, 'give-up');
});

test('transient failures inside the retry horizon are not counted; after it they are', () => {
  const start = 5_000_000;
  const horizon = DEFAULT_CONFIG.chainsmith.retryHorizonSeconds * 1000;
  assert.deepEqual(
    recordFailure({ 'chains.tekton.dev/retries': '3' }, transient, DEFAULT_CONFIG, start + horizon - 1, start),
    { kind: 'retry-quietly' },
  );
  assert.equal(
    recordFailure({ 'chains.tekton.dev/retries': '3' }, transient, DEFAULT_CONFIG, start + horizon, start).kind,
    'give-up',
  );
  // a permanent failure counts at once even inside the window
  assert.equal(recordFailure({}, permanent, DEFAULT_CONFIG, start + 1, start).kind, 'count');
});

test('the last-failure annotation is one bounded line', () => {
  const long = new ChainsmithError('StorageFailed', `a\nb ${'x'.repeat(2000)}`);
  const o = recordFailure({}, long, DEFAULT_CONFIG, 0, undefined);
  assert.equal(o.kind, 'count');
  const line = o.kind === 'count' ? o.annotations['chainsmith.dev/last-failure']! : '';
  assert.ok(line.length <= 500 && !line.includes('\n'));
  assert.ok(line.startsWith('StorageFailed: a b '));
});
