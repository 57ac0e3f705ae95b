// readIdentityToken with `fetch`: a SigningPolicy's keyless identity (a TokenRequest for the tenant's ServiceAccount).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../../src/errors.js';
import { readIdentityToken } from '../../src/sigstore/identity-token.js';

const jwt = (claims: Record<string, unknown>) =>
  [
    Buffer.from('{"alg":"RS256"}').toString('base64url'),
    Buffer.from(JSON.stringify(claims)).toString('base64url'),
    'c2ln',
  ].join('.');
const NOW = new Date('2026-12-04T09:00:00Z');
const SOURCE = 'a token of ServiceAccount team-b/release-signer for audience sigstore';
const CLAIMS = {
  iss: 'https://kubernetes.default.svc',
  sub: 'system:serviceaccount:team-b:release-signer',
  aud: 'sigstore',
  exp: NOW.getTime() / 1000 + 600,
};

async function failure(p: Promise<unknown>): Promise<ChainsmithError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ChainsmithError, String(err));
  return err;
}

test('fetch: the token is asked for on every read, its claims parsed, the source named; no file is read', async () => {
  const tokens = [jwt(CLAIMS), jwt({ ...CLAIMS, sub: 'system:serviceaccount:team-b:rotated' })];
  let calls = 0;
  const cfg = {
    tokenFile: '/nonexistent/oidc-token',
    fetch: { source: SOURCE, get: async () => `${tokens[calls++]}\n` },
  };
  const t = await readIdentityToken(cfg, {}, NOW);
  assert.equal(t.source, SOURCE);
  assert.equal(t.issuer, CLAIMS.iss);
  assert.equal(t.subject, CLAIMS.sub);
  assert.equal(t.challenge, CLAIMS.sub);
  assert.deepEqual(t.audience, ['sigstore']);
  assert.equal(t.jwt, tokens[0], 'trimmed');
  assert.equal((await readIdentityToken(cfg, {}, NOW)).subject, 'system:serviceaccount:team-b:rotated');
  assert.equal(calls, 2);
});

test('fetch: a failing TokenRequest is a transient KeylessFailed naming the source', async () => {
  const err = await failure(
    readIdentityToken(
      {
        fetch: {
          source: SOURCE,
          get: async () => {
            throw new Error(
              'serviceaccounts "release-signer" is forbidden: cannot create resource "serviceaccounts/token"',
            );
          },
        },
      },
      {},
      NOW,
    ),
  );
  assert.equal(err.reason, 'KeylessFailed');
  assert.equal(err.transient, true);
  assert.equal(
    err.message,
    `cannot obtain the identity token (${SOURCE}): serviceaccounts "release-signer" is forbidden: ` +
      'cannot create resource "serviceaccounts/token"',
  );
});

test('fetch: an empty answer is transient, saying the source returned none', async () => {
  const err = await failure(readIdentityToken({ fetch: { source: SOURCE, get: async () => ' \n' } }, {}, NOW));
  assert.equal(err.reason, 'KeylessFailed');
  assert.equal(err.transient, true);
  assert.equal(err.message, `no identity token: ${SOURCE} returned none`);
});

test('fetch: an expired or malformed token is named by its source, never quoted', async () => {
  const expired = jwt({ ...CLAIMS, exp: NOW.getTime() / 1000 - 1 });
  const e1 = await failure(readIdentityToken({ fetch: { source: SOURCE, get: async () => expired } }, {}, NOW));
  assert.equal(e1.transient, true);
  assert.match(e1.message, new RegExp(`^the identity token from ${SOURCE} expired at 2026-12-04T08:59:59\\.000Z`));
  assert.ok(!e1.message.includes(expired));

  const secret = 'sekrit-not-a-jwt-value';
  const e2 = await failure(readIdentityToken({ fetch: { source: SOURCE, get: async () => secret } }, {}, NOW));
  assert.equal(e2.reason, 'KeylessFailed');
  assert.equal(e2.transient, false);
  assert.match(e2.message, /is not a JWT/);
  assert.ok(!e2.message.includes(secret));

  const noIss = jwt({ sub: 'x' });
  const e3 = await failure(readIdentityToken({ fetch: { source: SOURCE, get: async () => noIss } }, {}, NOW));
  assert.match(e3.message, /has no "iss" claim/);
  assert.ok(!e3.message.includes(noIss));
});
