import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainsmithError } from '../../../src/errors.js';
import {
  callKms,
  callPolicy,
  failureForStatus,
  networkErrorCode,
  redact,
  type KmsFailure,
} from '../../../src/signing/kms/call.js';

const transient: KmsFailure = { reason: 'KmsUnavailable', transient: true, detail: 'HTTP 503' };
const denied: KmsFailure = { reason: 'KmsPermissionDenied', transient: false, detail: 'HTTP 403: permission denied' };

describe('callKms', () => {
  it('retries transient failures with backoff and returns the first success', async () => {
    let calls = 0;
    const out = await callKms(
      'signing',
      callPolicy({ backoffMs: 1 }),
      () => transient,
      async () => {
        calls++;
        if (calls < 3) throw new Error('503');
        return 'sig';
      },
    );
    assert.equal(out, 'sig');
    assert.equal(calls, 3);
  });

  it('gives up after the configured retries with a transient KmsUnavailable naming the attempts', async () => {
    let calls = 0;
    await assert.rejects(
      callKms(
        'signing with hashivault://k',
        callPolicy({ retries: 2, backoffMs: 1 }),
        () => transient,
        async () => {
          calls++;
          throw new Error('503');
        },
      ),
      (e: unknown) => {
        assert.ok(e instanceof ChainsmithError);
        assert.equal(e.reason, 'KmsUnavailable');
        assert.equal(e.transient, true);
        assert.equal(e.message, 'signing with hashivault://k: HTTP 503 (after 3 attempts)');
        return true;
      },
    );
    assert.equal(calls, 3);
  });

  it('does not retry a permanent failure', async () => {
    let calls = 0;
    await assert.rejects(
      callKms(
        'signing',
        callPolicy({ backoffMs: 1 }),
        () => denied,
        async () => {
          calls++;
          throw new Error('403');
        },
      ),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsPermissionDenied' && !e.transient,
    );
    assert.equal(calls, 1);
  });

  it('aborts an attempt that outlives the timeout and reports KmsUnavailable', async () => {
    let aborted = false;
    const started = Date.now();
    await assert.rejects(
      callKms(
        'reading key',
        callPolicy({ timeoutMs: 50, retries: 0 }),
        () => denied,
        (signal) =>
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('aborted'));
            });
          }),
      ),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsUnavailable' && /no answer within 50 ms/.test(e.message),
    );
    assert.ok(aborted, 'the operation saw the abort signal');
    assert.ok(Date.now() - started < 2000);
  });

  it('keeps the reason of a ChainsmithError raised inside the call', async () => {
    await assert.rejects(
      callKms(
        'reading key',
        callPolicy(),
        () => transient,
        async () => {
          throw new ChainsmithError('KmsKeyUnsupported', 'hashivault: key type aes256-gcm96 cannot sign');
        },
      ),
      (e: unknown) =>
        e instanceof ChainsmithError &&
        e.reason === 'KmsKeyUnsupported' &&
        e.message === 'reading key: key type aes256-gcm96 cannot sign',
    );
  });

  it('scrubs secrets from the final message', async () => {
    const token = 'hvs.SUPERSECRETTOKEN';
    await assert.rejects(
      callKms(
        'signing',
        callPolicy({ retries: 0 }, () => [token]),
        () => ({ ...denied, detail: `bad token ${token}` }),
        async () => {
          throw new Error('x');
        },
      ),
      (e: unknown) => e instanceof Error && !e.message.includes(token) && e.message.includes('[redacted]'),
    );
  });
});

describe('helpers', () => {
  it('redact replaces every occurrence and ignores empty secrets', () => {
    assert.equal(redact('a tok1234 b tok1234', ['tok1234', '']), 'a [redacted] b [redacted]');
  });

  it('maps HTTP statuses to reasons', () => {
    assert.equal(failureForStatus(403, 'x').reason, 'KmsPermissionDenied');
    assert.equal(failureForStatus(401, 'x').reason, 'KmsPermissionDenied');
    assert.equal(failureForStatus(404, 'x').reason, 'KmsKeyNotFound');
    assert.deepEqual(failureForStatus(429, 'x'), { reason: 'KmsUnavailable', transient: true, detail: 'x' });
    assert.equal(failureForStatus(503, 'x').transient, true);
    assert.deepEqual(failureForStatus(400, 'x'), { reason: 'KmsError', transient: false, detail: 'x' });
  });

  it("finds a network error code behind fetch's TypeError", () => {
    const err = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    assert.equal(networkErrorCode(err), 'ECONNREFUSED');
    assert.equal(networkErrorCode(new Error('plain')), undefined);
  });
});
