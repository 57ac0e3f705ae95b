import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeToken, parseToken, readIdentityToken, tokenSourceProblem } from '../../src/sigstore/identity-token.js';

const jwt = (claims: Record<string, unknown>) =>
  [
    Buffer.from('{"alg":"RS256"}').toString('base64url'),
    Buffer.from(JSON.stringify(claims)).toString('base64url'),
    'c2ln',
  ].join('.');
const NOW = new Date('2026-12-03T12:00:00Z');
const exp = NOW.getTime() / 1000 + 600;
const k8s = {
  iss: 'https://127.0.0.1:6443',
  sub: 'system:serviceaccount:tekton-chains:chains',
  aud: ['sigstore'],
  exp,
};

test('the token file is read on every call and its claims give the proof-of-possession subject', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'token-'));
  try {
    const file = join(dir, 'oidc-token');
    writeFileSync(file, `${jwt(k8s)}\n`);
    const t = await readIdentityToken({ tokenFile: file }, {}, NOW);
    assert.equal(t.issuer, k8s.iss);
    assert.equal(t.challenge, k8s.sub, 'a Kubernetes token has no email: the subject is signed');
    assert.deepEqual(t.audience, ['sigstore']);
    writeFileSync(file, jwt({ ...k8s, sub: 'system:serviceaccount:x:rotated' }));
    assert.equal((await readIdentityToken({ tokenFile: file }, {}, NOW)).subject, 'system:serviceaccount:x:rotated');
    // the description names the claims, never the token
    assert.doesNotMatch(describeToken(t), /eyJ/);
    assert.match(describeToken(t), /iss https:\/\/127\.0\.0\.1:6443, sub system:serviceaccount:tekton-chains:chains/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing, empty and expired tokens are transient KeylessFailed errors saying so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'token-'));
  try {
    const file = join(dir, 'oidc-token');
    await assert.rejects(readIdentityToken({ tokenFile: file }, {}, NOW), {
      reason: 'KeylessFailed',
      transient: true,
      message: /cannot read the identity token .*no such file/,
    });
    writeFileSync(file, '\n');
    await assert.rejects(readIdentityToken({ tokenFile: file }, {}, NOW), { transient: true, message: /is empty/ });
    writeFileSync(file, jwt({ ...k8s, exp: NOW.getTime() / 1000 - 1 }));
    await assert.rejects(readIdentityToken({ tokenFile: file }, {}, NOW), {
      transient: true,
      message: /expired at 2026-12-03T11:59:59\.000Z/,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('providers: filesystem and envvar are read, cloud and SPIFFE providers are refused with the reason', async () => {
  assert.equal(tokenSourceProblem({ provider: 'filesystem' }), '');
  assert.equal(tokenSourceProblem({ provider: 'filesystem-custom-path' }), '');
  assert.match(tokenSourceProblem({ provider: 'spiffe' }), /not supported by chainsmith \(it reads a SPIFFE/);
  assert.match(tokenSourceProblem({ provider: 'google' }), /not supported/);
  assert.match(tokenSourceProblem({ provider: 'githb-actions' }), /unknown/);
  const t = await readIdentityToken({ provider: 'envvar' }, { SIGSTORE_ID_TOKEN: jwt(k8s) }, NOW);
  assert.equal(t.source, 'the SIGSTORE_ID_TOKEN environment variable');
  await assert.rejects(readIdentityToken({ provider: 'envvar' }, {}, NOW), { transient: false, message: /empty/ });
  await assert.rejects(readIdentityToken({ provider: 'spiffe' }, {}, NOW), { reason: 'KeylessFailed' });
});

test('malformed tokens are named, and an email is the challenge only when verified (cosign’s rule)', () => {
  assert.throws(() => parseToken('not-a-jwt', 'f'), /is not a JWT/);
  assert.throws(() => parseToken('a.b.c', 'f'), /has no readable claims/);
  assert.throws(() => parseToken(jwt({ sub: 'x' }), 'f'), /no "iss" claim/);
  assert.throws(() => parseToken(jwt({ iss: 'i' }), 'f'), /neither "sub" nor "email"/);
  assert.throws(() => parseToken(jwt({ iss: 'i', sub: 's', email: 'a@b' }), 'f'), /did not verify/);
  assert.equal(parseToken(jwt({ iss: 'i', sub: 's', email: 'a@b', email_verified: true }), 'f').challenge, 'a@b');
  assert.deepEqual(parseToken(jwt({ iss: 'i', sub: 's', aud: 'one' }), 'f').audience, ['one']);
});
