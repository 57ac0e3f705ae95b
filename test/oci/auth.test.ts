import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type DockerConfigJson,
  credentialFor,
  credentialIdentity,
  parseWwwAuthenticate,
  repositoryScope,
  TokenCache,
} from '../../src/oci/auth.js';

test('Bearer challenge with a comma inside the quoted scope', () => {
  const [ch] = parseWwwAuthenticate(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
  );
  assert.deepEqual(ch, {
    scheme: 'bearer',
    params: {
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:samalba/my-app:pull,push',
    },
  });
});

test('several challenges in one header, unquoted and escaped values', () => {
  const chs = parseWwwAuthenticate(
    'Basic realm="Registry \\"Realm\\"", Bearer realm=https://t.example/token, service=reg',
  );
  assert.equal(chs.length, 2);
  assert.deepEqual(chs[0], { scheme: 'basic', params: { realm: 'Registry "Realm"' } });
  assert.deepEqual(chs[1], { scheme: 'bearer', params: { realm: 'https://t.example/token', service: 'reg' } });
});

test('docker config: base64 auth, username/password, identity token, first config wins', () => {
  const auth = Buffer.from('alice:s3:cret').toString('base64');
  const configs: DockerConfigJson[] = [
    { auths: { 'https://index.docker.io/v1/': { auth } } },
    {
      auths: {
        'ghcr.io': { username: 'bob', password: 'pw' },
        'index.docker.io': { username: 'later', password: 'x' },
      },
    },
    { auths: { 'quay.io': { identitytoken: 'refresh-me', username: '<token>' } } },
  ];
  assert.deepEqual(credentialFor(configs, 'index.docker.io'), {
    kind: 'basic',
    username: 'alice',
    password: 's3:cret',
  });
  assert.deepEqual(credentialFor(configs, 'docker.io'), { kind: 'basic', username: 'alice', password: 's3:cret' });
  assert.deepEqual(credentialFor(configs, 'ghcr.io'), { kind: 'basic', username: 'bob', password: 'pw' });
  assert.deepEqual(credentialFor(configs, 'quay.io'), {
    kind: 'refresh-token',
    username: '<token>',
    refreshToken: 'refresh-me',
  });
  assert.equal(credentialFor(configs, 'gcr.io'), undefined);
});

test('auth keys with scheme and path match by host and port', () => {
  const configs = [{ auths: { 'http://127.0.0.1:5000/v2/': { username: 'u', password: 'p' } } }];
  assert.deepEqual(credentialFor(configs, '127.0.0.1:5000'), { kind: 'basic', username: 'u', password: 'p' });
  assert.equal(credentialFor(configs, '127.0.0.1:5001'), undefined);
});

test('scopes, and token identities that do not reveal secrets', () => {
  assert.equal(repositoryScope('demo/app', ['pull', 'push']), 'repository:demo/app:pull,push');
  const id = credentialIdentity({ kind: 'basic', username: 'alice', password: 'secret' });
  assert.ok(!id.includes('secret') && !id.includes('alice'));
  assert.notEqual(id, credentialIdentity({ kind: 'basic', username: 'alice', password: 'other' }));
  assert.equal(credentialIdentity(undefined), 'anonymous');
});

test('token cache expires tokens before the registry does', () => {
  let now = 0;
  const cache = new TokenCache(() => now);
  cache.set('k', 'tok', 300);
  now = 289_000;
  assert.equal(cache.get('k'), 'tok');
  now = 291_000;
  assert.equal(cache.get('k'), undefined);
  cache.set('k2', 't2', 60);
  cache.delete('k2');
  assert.equal(cache.get('k2'), undefined);
});

test('token cache: requests asking at the same time share one token fetch; a failed fetch is not cached', async () => {
  const cache = new TokenCache();
  let fetches = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const fetch = async (): Promise<{ token: string; expiresIn: number }> => {
    fetches++;
    await gate;
    return { token: `tok-${fetches}`, expiresIn: 300 };
  };
  const waiting = [cache.obtain('k', fetch), cache.obtain('k', fetch), cache.obtain('k', fetch)];
  release();
  assert.deepEqual(await Promise.all(waiting), ['tok-1', 'tok-1', 'tok-1']);
  assert.equal(fetches, 1);
  assert.equal(await cache.obtain('k', fetch), 'tok-1', 'then served from the cache');
  assert.equal(fetches, 1);

  await assert.rejects(
    cache.obtain('bad', () => Promise.reject(new Error('token endpoint down'))),
    /token endpoint down/,
  );
  assert.equal(await cache.obtain('bad', async () => ({ token: 'later', expiresIn: 300 })), 'later');
});
