import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainsmithError } from '../../src/errors.js';
import { KubeApiError } from '../../src/kube/client.js';
import type { PolicyBinding, PolicyConfig } from '../../src/policy/types.js';
import { readIdentityToken } from '../../src/sigstore/identity-token.js';
import { encryptCosignKey } from '../../src/signing/cosign-key.js';
import {
  SignerRegistry,
  type KeylessSignerConfig,
  type SecretKeyData,
  type SignerRegistryOptions,
} from '../../src/signing/index.js';
import { keyIdOf } from '../../src/signing/ssh-key.js';
import type { Signer } from '../../src/signing/signer.js';
import { ephemeralSigner, fixtureFile, fixturePublicKey, testConfig } from './fixtures.js';

/** A signing-secrets directory holding one x509.pem fixture (the controller's own key). */
function mountedDir(fixture = 'x509-ecdsa-p384'): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainsmith-policy-secrets-'));
  writeFileSync(join(dir, 'x509.pem'), fixtureFile(fixture, 'x509.pem'));
  return dir;
}

function policyConfig(binding: Partial<PolicyBinding> = {}, base = testConfig()): PolicyConfig {
  return { ...base, policy: { namespace: 'team-a', name: 'payments', generation: 1, ...binding } };
}

/** A Secret store the registry reads through `secretReader`; counts reads per name. */
function secrets(initial: Record<string, SecretKeyData> = {}) {
  const store = new Map(Object.entries(initial));
  const reads: string[] = [];
  let failWith: Error | undefined;
  return {
    store,
    reads,
    fail(err: Error | undefined) {
      failWith = err;
    },
    reader: async (name: string): Promise<SecretKeyData | undefined> => {
      reads.push(name);
      if (failWith) throw failWith;
      const s = store.get(name);
      return s && { version: s.version, data: { ...s.data } };
    },
  };
}

const x509Secret = (fixture: string, version: string): SecretKeyData => ({
  version,
  data: { 'x509.pem': fixtureFile(fixture, 'x509.pem') },
});

function registry(opts: Partial<SignerRegistryOptions> = {}): SignerRegistry {
  return new SignerRegistry({ secretsDir: mountedDir(), pollIntervalMs: 60_000, ...opts });
}

test('a policy’s x509 Secret is read through secretReader and its x509.pem signs; chains-config runs use the mounted files', async () => {
  const s = secrets({ 'team-a-signing': x509Secret('x509-ecdsa-p256', '7') });
  const r = registry({ secretReader: s.reader });
  try {
    const signer = await r.get('x509', policyConfig({ secretName: 'team-a-signing' }));
    assert.deepEqual(s.reads, ['team-a-signing']);
    assert.equal(keyIdOf(signer.publicKey()), keyIdOf(fixturePublicKey('x509-ecdsa-p256')));

    const own = await r.get('x509', testConfig());
    assert.equal(keyIdOf(own.publicKey()), keyIdOf(fixturePublicKey('x509-ecdsa-p384')), 'the mounted key');
    // a policy without a Secret of its own (a builderId-only or KMS policy) signs x509 with the mounted key too
    const noSecret = await r.get('x509', policyConfig());
    assert.equal(noSecret, own);
    assert.deepEqual(s.reads, ['team-a-signing'], 'no Secret read for either');
  } finally {
    r.close();
  }
});

test('cosign.key with cosign.password from a Secret', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = await encryptCosignKey(privateKey, 'team-a-pass');
  const s = secrets({
    'team-a-cosign': {
      version: '1',
      data: { 'cosign.key': Buffer.from(key), 'cosign.password': Buffer.from('team-a-pass') },
    },
    fixture: {
      version: '1',
      data: {
        'cosign.key': fixtureFile('cosign-ecdsa-p256', 'cosign.key'),
        'cosign.password': fixtureFile('cosign-ecdsa-p256', 'cosign.password'),
      },
    },
  });
  const r = registry({ secretReader: s.reader });
  try {
    const signer = await r.get('x509', policyConfig({ secretName: 'team-a-cosign' }));
    assert.equal(keyIdOf(signer.publicKey()), keyIdOf(publicKey));
    const fromFixture = await r.get('x509', policyConfig({ secretName: 'fixture' }));
    assert.equal(keyIdOf(fromFixture.publicKey()), keyIdOf(fixturePublicKey('cosign-ecdsa-p256')));
  } finally {
    r.close();
  }
});

test('the signer is reused within secretRecheckMs: one read, one build', async () => {
  const s = secrets({ k: x509Secret('x509-ecdsa-p256', '1') });
  const r = registry({ secretReader: s.reader, secretRecheckMs: 60_000 });
  try {
    const cfg = policyConfig({ secretName: 'k' });
    const [a, b] = await Promise.all([r.get('x509', cfg), r.get('x509', cfg)]);
    const c = await r.get('x509', cfg);
    assert.equal(a, b);
    assert.equal(a, c);
    assert.deepEqual(s.reads, ['k'], 'concurrent first uses share one read');
  } finally {
    r.close();
  }
});

test('after secretRecheckMs the Secret is read again; the signer is rebuilt only when its version changes', async () => {
  const s = secrets({ k: x509Secret('x509-ecdsa-p256', '1') });
  const logged: string[] = [];
  const r = registry({
    secretReader: s.reader,
    secretRecheckMs: 0,
    logger: { info: (m) => logged.push(m), warn: (m) => logged.push(m) },
  });
  try {
    const cfg = policyConfig({ secretName: 'k' });
    const first = await r.get('x509', cfg);
    const same = await r.get('x509', cfg);
    assert.equal(s.reads.length, 2, 'read again');
    assert.equal(same, first, 'same version: the same signer');
    assert.deepEqual(logged, []);

    // rotated: a new key under a new resourceVersion
    s.store.set('k', x509Secret('x509-ed25519', '2'));
    const rotated = await r.get('x509', cfg);
    assert.notEqual(rotated, first);
    assert.equal(keyIdOf(rotated.publicKey()), keyIdOf(fixturePublicKey('x509-ed25519')));
    assert.deepEqual(logged, ['a SigningPolicy Secret changed; reloading its signer']);

    // the same bytes under the same version are not rebuilt
    assert.equal(await r.get('x509', cfg), rotated);
  } finally {
    r.close();
  }
});

test('a missing Secret is a transient KeyNotFound naming the Secret (never a policy: the signer is shared by every policy granted it); once created it signs at the next use', async () => {
  const s = secrets();
  const r = registry({ secretReader: s.reader, secretRecheckMs: 60_000 });
  try {
    const cfg = policyConfig({ secretName: 'team-a-signing' });
    const err = await r.get('x509', cfg).then(
      () => assert.fail('no Secret, no signer'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ChainsmithError);
    assert.equal(err.reason, 'KeyNotFound');
    assert.equal(err.transient, true);
    assert.equal(
      err.message,
      'the SigningPolicy\'s Secret "team-a-signing" does not exist in the controller\'s namespace',
    );
    // looked up again at the next use, not after secretRecheckMs
    s.store.set('team-a-signing', x509Secret('x509-ecdsa-p256', '1'));
    const signer = await r.get('x509', cfg);
    assert.equal(keyIdOf(signer.publicKey()), keyIdOf(fixturePublicKey('x509-ecdsa-p256')));
    assert.equal(s.reads.length, 2);
  } finally {
    r.close();
  }
});

test('a wrong cosign.password is a permanent error, kept until the Secret changes', async () => {
  const s = secrets({
    bad: {
      version: '1',
      data: {
        'cosign.key': fixtureFile('cosign-ecdsa-p256', 'cosign.key'),
        'cosign.password': Buffer.from('not-the-password'),
      },
    },
  });
  const r = registry({ secretReader: s.reader, secretRecheckMs: 0 });
  try {
    const cfg = policyConfig({ secretName: 'bad' });
    await assert.rejects(r.get('x509', cfg), (e: unknown) => {
      assert.ok(e instanceof ChainsmithError);
      assert.equal(e.reason, 'KeyDecryptFailed');
      assert.equal(e.transient, false);
      assert.doesNotMatch(e.message, /not-the-password/);
      return true;
    });
    await assert.rejects(r.get('x509', cfg), { reason: 'KeyDecryptFailed' });
    s.store.set('bad', {
      version: '2',
      data: {
        'cosign.key': fixtureFile('cosign-ecdsa-p256', 'cosign.key'),
        'cosign.password': fixtureFile('cosign-ecdsa-p256', 'cosign.password'),
      },
    });
    const fixed = await r.get('x509', cfg);
    assert.equal(keyIdOf(fixed.publicKey()), keyIdOf(fixturePublicKey('cosign-ecdsa-p256')));
  } finally {
    r.close();
  }
});

test('a Secret without a key, or cosign.key without its password, names the Secret, not a policy', async () => {
  const s = secrets({
    empty: { version: '1', data: { other: Buffer.from('x') } },
    nopass: { version: '1', data: { 'cosign.key': fixtureFile('cosign-ecdsa-p256', 'cosign.key') } },
  });
  const r = registry({ secretReader: s.reader });
  try {
    await assert.rejects(r.get('x509', policyConfig({ secretName: 'empty' })), {
      reason: 'KeyNotFound',
      message: /no valid private key found in Secret "empty" of the controller's namespace, looked for/,
    });
    await assert.rejects(r.get('x509', policyConfig({ secretName: 'nopass' })), {
      reason: 'KeyNotFound',
      message: /cosign.password is missing/,
    });
  } finally {
    r.close();
  }
});

test('the API failing to answer is a transient error naming the Secret (never a policy: the signer is shared by every policy granted it), tried again at the next use', async () => {
  const s = secrets({ k: x509Secret('x509-ecdsa-p256', '1') });
  const r = registry({ secretReader: s.reader, secretRecheckMs: 60_000 });
  try {
    const cfg = policyConfig({ secretName: 'k' });
    // what the controller's reader throws when the API server does not answer (client.get → KubeApiError)
    s.fail(new KubeApiError(503, 'GET secrets/k: 503 Service Unavailable'));
    await assert.rejects(r.get('x509', cfg), (e: unknown) => {
      assert.ok(e instanceof ChainsmithError);
      assert.equal(e.transient, true);
      assert.equal(e.reason, 'KeyNotFound');
      assert.match(e.message, /reading Secret "k" of the controller's namespace: .*503/);
      return true;
    });
    s.fail(undefined);
    const signer = await r.get('x509', cfg);
    assert.equal(keyIdOf(signer.publicKey()), keyIdOf(fixturePublicKey('x509-ecdsa-p256')));
    assert.equal(s.reads.length, 2, 'not cached for secretRecheckMs');
  } finally {
    r.close();
  }
});

test('without a secretReader a policy Secret is a clear error; the mounted files still sign chains-config runs', async () => {
  const r = registry();
  try {
    await assert.rejects(r.get('x509', policyConfig({ secretName: 'team-a-signing' })), {
      reason: 'KeyNotFound',
      message: 'SigningPolicy team-a/payments names Secret "team-a-signing", but this process reads no Secrets',
    });
    const own = await r.get('x509', testConfig());
    assert.equal(keyIdOf(own.publicKey()), keyIdOf(fixturePublicKey('x509-ecdsa-p384')));
  } finally {
    r.close();
  }
});

test('KMS: two references are both kept (no rebuild when runs alternate); beyond the bound the least recently used goes', async () => {
  const built: string[] = [];
  const r = registry({
    kmsFactory: async (cfg) => {
      built.push(cfg.kmsref ?? '');
      return ephemeralSigner();
    },
  });
  try {
    const a = testConfig({ kmsref: 'hashivault://team-a' });
    const b = testConfig({ kmsref: 'hashivault://team-b' });
    const sa = await r.get('kms', a);
    const sb = await r.get('kms', b);
    assert.notEqual(sa, sb);
    for (let i = 0; i < 3; i++) {
      assert.equal(await r.get('kms', a), sa);
      assert.equal(await r.get('kms', b), sb);
    }
    assert.deepEqual(built, ['hashivault://team-a', 'hashivault://team-b']);

    // 64 signers are kept: touching team-a keeps it; 63 more refs push out team-b (least recently used)
    await r.get('kms', a);
    for (let i = 0; i < 63; i++) await r.get('kms', testConfig({ kmsref: `hashivault://k${i}` }));
    built.length = 0;
    assert.equal(await r.get('kms', a), sa, 'recently used: kept');
    assert.notEqual(await r.get('kms', b), sb, 'least recently used: dropped and built again');
    assert.deepEqual(built, ['hashivault://team-b']);
  } finally {
    r.close();
  }
});

const TOKEN = [
  Buffer.from('{"alg":"RS256"}').toString('base64url'),
  Buffer.from(
    JSON.stringify({
      iss: 'https://kubernetes.default.svc',
      sub: 'system:serviceaccount:team-a:builder',
      aud: 'sigstore',
    }),
  ).toString('base64url'),
  'c2ln',
].join('.');

test('keyless under a policy: the factory gets a tokenFetch for the tenant’s ServiceAccount, never the token file', async () => {
  const seen: KeylessSignerConfig[] = [];
  const requests: string[] = [];
  const r = registry({
    keylessFactory: (cfg) => {
      seen.push(cfg);
      return { ...ephemeralSigner(), keyless: true } as Signer;
    },
    tokenRequester: async (ns, sa, aud) => {
      requests.push(`${ns}/${sa}/${aud}`);
      if (sa === 'gone') throw new Error('serviceaccounts "gone" not found');
      return TOKEN;
    },
  });
  try {
    const base = testConfig({ fulcioEnabled: true });
    base.signers.x509.identityTokenFile = '/var/run/controller-token';
    base.signers.x509.fulcioProvider = 'filesystem';
    await r.get('x509', policyConfig({ keyless: { serviceAccount: 'builder', audience: 'sigstore' } }, base));
    const cfg = seen[0]!;
    assert.equal(cfg.tokenFile, undefined, 'never the controller’s own token');
    assert.equal(cfg.provider, undefined);
    assert.equal(cfg.address, base.signers.x509.fulcioAddress);
    assert.ok(cfg.tokenFetch);
    assert.equal(cfg.tokenFetch.source, 'a token of ServiceAccount team-a/builder for audience sigstore');
    assert.deepEqual(requests, [], 'asked for only when a certificate is needed');
    assert.equal(await cfg.tokenFetch.get(), TOKEN);
    assert.deepEqual(requests, ['team-a/builder/sigstore']);
    // what the keyless signer does with it: the token's claims, the source named
    const token = await readIdentityToken({ fetch: cfg.tokenFetch }, {}, new Date('2026-12-04T09:00:00Z'));
    assert.equal(token.subject, 'system:serviceaccount:team-a:builder');
    assert.equal(token.source, cfg.tokenFetch.source);

    // a ServiceAccount that cannot be asked for a token: transient, naming the source, never a token
    await r.get('x509', policyConfig({ keyless: { serviceAccount: 'gone', audience: 'fulcio' } }, base));
    await assert.rejects(readIdentityToken({ fetch: seen[1]!.tokenFetch! }), {
      reason: 'KeylessFailed',
      transient: true,
      message:
        'cannot obtain the identity token (a token of ServiceAccount team-a/gone for audience fulcio): ' +
        'serviceaccounts "gone" not found',
    });
    seen.splice(1);

    // chains-config's keyless signer keeps its token file
    await r.get('x509', base);
    assert.equal(seen[1]!.tokenFile, '/var/run/controller-token');
    assert.equal(seen[1]!.tokenFetch, undefined);
  } finally {
    r.close();
  }
});

test('keyless under a policy without a tokenRequester is a KeylessFailed error', async () => {
  const r = registry({ keylessFactory: () => ephemeralSigner() });
  try {
    await assert.rejects(
      r.get(
        'x509',
        policyConfig(
          { keyless: { serviceAccount: 'builder', audience: 'sigstore' } },
          testConfig({ fulcioEnabled: true }),
        ),
      ),
      { reason: 'KeylessFailed', message: /cannot request ServiceAccount tokens/ },
    );
  } finally {
    r.close();
  }
});

test('Secret signers are bounded: beyond 256 Secrets the least recently used is dropped and read again', async () => {
  const s = secrets();
  for (let i = 0; i <= 256; i++) s.store.set(`s${i}`, x509Secret('x509-ecdsa-p256', '1'));
  const r = registry({ secretReader: s.reader, secretRecheckMs: 60_000 });
  try {
    const first = await r.get('x509', policyConfig({ secretName: 's0' }));
    for (let i = 1; i < 256; i++) await r.get('x509', policyConfig({ secretName: `s${i}` }));
    assert.equal(await r.get('x509', policyConfig({ secretName: 's0' })), first, '256 kept; s0 now most recent');
    await r.get('x509', policyConfig({ secretName: 's256' }));
    s.reads.length = 0;
    assert.equal(await r.get('x509', policyConfig({ secretName: 's0' })), first);
    assert.deepEqual(s.reads, [], 's0 was used recently: kept');
    await r.get('x509', policyConfig({ secretName: 's1' }));
    assert.deepEqual(s.reads, ['s1'], 's1 was the least recently used: dropped, read again');
  } finally {
    r.close();
  }
});
