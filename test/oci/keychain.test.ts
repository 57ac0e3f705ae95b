// Which credential a registry gets (src/oci/keychain.ts): docker configs as the docker CLI reads them, keychains in
// order, and cloud credentials kept until shortly before they expire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CachingKeychain,
  DockerConfigKeychain,
  MultiKeychain,
  renewAt,
  type CredentialHelperGet,
  type ResolvedCredential,
} from '../../src/oci/keychain.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('one docker config: its credHelpers entry, else its credsStore, else its auths entry (as the docker CLI)', async () => {
  const asked: string[] = [];
  const helpers: CredentialHelperGet = async (helper, server) => {
    asked.push(`${helper} ${server}`);
    if (helper === 'ecr-login') return { username: 'AWS', secret: 'from-ecr-login' };
    if (helper === 'desktop' && server === 'https://index.docker.io/v1/') return { username: '<token>', secret: 'rt' };
    return undefined;
  };
  const config = {
    auths: {
      '123456789012.dkr.ecr.us-east-1.amazonaws.com': { auth: b64('shadowed:by-helper') },
      'https://index.docker.io/v1/': { auth: b64('shadowed:by-store') },
    },
    credHelpers: { '123456789012.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login' },
    credsStore: 'desktop',
  };
  const keychain = new DockerConfigKeychain([{ config, source: 'docker config /c.json' }], helpers);
  assert.deepEqual(await keychain.resolve('123456789012.dkr.ecr.us-east-1.amazonaws.com'), {
    credential: { kind: 'basic', username: 'AWS', password: 'from-ecr-login' },
    source: 'docker config /c.json (docker-credential-ecr-login)',
  });
  // Docker Hub is asked under its legacy index URL; `<token>` means an identity (refresh) token
  assert.deepEqual(await keychain.resolve('docker.io'), {
    credential: { kind: 'refresh-token', username: '', refreshToken: 'rt' },
    source: 'docker config /c.json (docker-credential-desktop)',
  });
  // the store has nothing for quay.io: the next config (none) is asked, not this config's auths
  assert.equal(await keychain.resolve('quay.io'), undefined);
  assert.deepEqual(asked, [
    'ecr-login 123456789012.dkr.ecr.us-east-1.amazonaws.com',
    'desktop https://index.docker.io/v1/',
    'desktop quay.io',
  ]);
});

test('a config without helpers (a run namespace Secret) never runs a program: its helper names are ignored', async () => {
  const config = { auths: { 'ghcr.io': { username: 'u', password: 'p' } }, credsStore: 'evil' };
  const keychain = new DockerConfigKeychain([{ config, source: 'ServiceAccount ns/sa secret s' }]);
  assert.deepEqual(await keychain.resolve('ghcr.io'), {
    credential: { kind: 'basic', username: 'u', password: 'p' },
    source: 'ServiceAccount ns/sa secret s',
  });
});

test('keychains are asked in order and the first credential wins', async () => {
  const fixed = (source: string, registry: string) => ({
    async resolve(r: string): Promise<ResolvedCredential | undefined> {
      return r === registry ? { credential: { kind: 'bearer', token: source }, source } : undefined;
    },
  });
  const chain = new MultiKeychain([fixed('first', 'a.test'), fixed('second', 'a.test'), fixed('third', 'b.test')]);
  assert.equal((await chain.resolve('a.test'))?.source, 'first');
  assert.equal((await chain.resolve('b.test'))?.source, 'third');
  assert.equal(await chain.resolve('c.test'), undefined);
});

test('a cloud credential is reused until 5 minutes before it expires (half its life when shorter), then minted again', async () => {
  assert.equal(renewAt(0, 12 * 3600_000), 12 * 3600_000 - 300_000);
  assert.equal(renewAt(1000, 1000 + 120_000), 1000 + 60_000);
  let now = 0;
  let minted = 0;
  const cloud = new CachingKeychain(
    {
      async resolve() {
        minted++;
        return { credential: { kind: 'bearer', token: `t${minted}` }, source: 's', expiresAt: now + 3600_000 };
      },
    },
    { now: () => now },
  );
  const token = async () => ((await cloud.resolve('r.test'))?.credential as { token: string }).token;
  assert.deepEqual(
    await Promise.all([token(), token(), token()]),
    ['t1', 't1', 't1'],
    'one request for concurrent asks',
  );
  now = 3600_000 - 300_001;
  assert.equal(await token(), 't1');
  now = 3600_000 - 300_000;
  assert.equal(await token(), 't2');
  cloud.forget('r.test');
  assert.equal(await token(), 't3', 'a refused credential is minted again');
});

test('"no identity here" is remembered for a while; a failure is not', async () => {
  let now = 0;
  let asked = 0;
  let fail = true;
  const none = new CachingKeychain(
    {
      async resolve() {
        asked++;
        if (fail) throw new Error('token endpoint down');
        return undefined;
      },
    },
    { now: () => now, negativeTtlMs: 1000 },
  );
  await assert.rejects(none.resolve('r.test'), /token endpoint down/);
  fail = false;
  assert.equal(await none.resolve('r.test'), undefined);
  assert.equal(await none.resolve('r.test'), undefined);
  assert.equal(asked, 2);
  now = 1001;
  await none.resolve('r.test');
  assert.equal(asked, 3);
});
