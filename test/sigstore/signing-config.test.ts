// Service selection from a sigstore SigningConfig (src/sigstore/signing-config.ts), as the protobuf-specs comments and
// sigstore-go define it: valid now, a supported API version, the highest version first, then the selector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../../src/errors.js';
import { signingServices, SIGNING_CONFIG_MEDIA_TYPE } from '../../src/sigstore/signing-config.js';

const NOW = new Date('2026-12-03T12:00:00Z');
const service = (url: string, majorApiVersion: number, start = '2025-01-01T00:00:00Z', end?: string) => ({
  url,
  majorApiVersion,
  validFor: { start, ...(end ? { end } : {}) },
  operator: 'test',
});
const config = (extra: Record<string, unknown>) =>
  JSON.stringify({
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [],
    oidcUrls: [],
    rekorTlogUrls: [],
    tsaUrls: [],
    ...extra,
  });
const invalid = (re: RegExp) => (e: unknown) =>
  e instanceof ChainsmithError && e.reason === 'InvalidConfig' && re.test(e.message);

test('the highest supported Rekor API version valid now is chosen, and the TSA with it', () => {
  const json = config({
    rekorTlogUrls: [
      service('http://rekor-v1.test', 1),
      service('http://rekor-v3.test', 3),
      service('http://rekor-v2-old.test/', 2, '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
      service('http://rekor-v2.test/', 2),
    ],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [service('http://tsa.test/api/v1/timestamp', 1)],
    tsaConfig: { selector: 'ANY' },
  });
  assert.deepEqual(signingServices(json, 'f.json', NOW), {
    rekor: { url: 'http://rekor-v2.test', majorApiVersion: 2 },
    tsa: { url: 'http://tsa.test/api/v1/timestamp', majorApiVersion: 1 },
  });
});

test('a config without logs or timestamp authorities selects none', () => {
  assert.deepEqual(signingServices(config({}), 'f.json', NOW), {});
});

test('what chainsmith cannot honour is refused, naming the file and the reason', () => {
  assert.throws(() => signingServices('{', 'bad.json', NOW), invalid(/signing config bad\.json: not JSON/));
  assert.throws(
    () => signingServices(JSON.stringify({ mediaType: 'application/json' }), 'f.json', NOW),
    invalid(/mediaType is "application\/json"/),
  );
  // ALL of two logs: chainsmith records each signature in one log
  const two = config({
    rekorTlogUrls: [service('http://a.test', 2), service('http://b.test', 2)],
    rekorTlogConfig: { selector: 'ALL' },
  });
  assert.throws(() => signingServices(two, 'f.json', NOW), invalid(/asks for 2 services; chainsmith uses one/));
  const expired = config({
    rekorTlogUrls: [service('http://a.test', 2, '2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z')],
  });
  assert.throws(() => signingServices(expired, 'f.json', NOW), invalid(/no rekorTlogUrls service is valid now/));
  const exact = config({ tsaUrls: [service('http://t.test', 1)], tsaConfig: { selector: 'EXACT', count: 2 } });
  assert.throws(() => signingServices(exact, 'f.json', NOW), invalid(/asks for 2 services and 1 are usable/));
});
