import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerRegistry, loadFileSigner, type KeylessSignerConfig } from '../../src/signing/index.js';
import { keyIdOf } from '../../src/signing/ssh-key.js';
import { ChainsmithError } from '../../src/errors.js';
import type { Signer } from '../../src/signing/signer.js';
import { ephemeralSigner, fixtureDir, fixturePublicKey, testConfig } from './fixtures.js';

let generation = 0;

/** Publishes `files` into `dir` the way the kubelet updates a mounted Secret: new dir, `..data` symlink swap. */
function publishSecret(dir: string, files: Record<string, Buffer | string>): void {
  mkdirSync(dir, { recursive: true });
  const previous = existsSync(join(dir, '..data')) ? readlinkSync(join(dir, '..data')) : undefined;
  const version = `..2026_11_23_13_00_00.${process.pid}_${++generation}`;
  mkdirSync(join(dir, version));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, version, name), content);
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    if (!isSymlink(join(dir, name))) symlinkSync(join('..data', name), join(dir, name));
  }
  if (previous) rmSync(join(dir, previous), { recursive: true });
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function fixtureFiles(name: string, files: string[]): Record<string, Buffer> {
  return Object.fromEntries(files.map((f) => [f, readFileSync(join(fixtureDir(name), f))]));
}

function nextChange(registry: SignerRegistry, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no onChange within ${timeoutMs} ms`)), timeoutMs);
    registry.onChange(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function secretsDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'chainsmith-secrets-')), 'signing-secrets');
}

test('builds the x509 signer once and hands out the same instance', async () => {
  const dir = secretsDir();
  publishSecret(dir, fixtureFiles('x509-ecdsa-p256', ['x509.pem']));
  const registry = new SignerRegistry({ secretsDir: dir });
  try {
    const a = await registry.get('x509', testConfig());
    const b = await registry.get('x509', testConfig());
    assert.equal(a, b);
    assert.equal(keyIdOf(a.publicKey()), keyIdOf(fixturePublicKey('x509-ecdsa-p256')));
  } finally {
    registry.close();
  }
});

test('a kubelet ..data swap is noticed by the directory watch: new key loaded, onChange fired', async () => {
  const dir = secretsDir();
  publishSecret(dir, fixtureFiles('x509-ecdsa-p256', ['x509.pem']));
  // polling effectively off: only fs.watch can notice the change within the test's timeout
  const registry = new SignerRegistry({ secretsDir: dir, pollIntervalMs: 600_000 });
  try {
    const before = await registry.get('x509', testConfig());
    const changed = nextChange(registry);
    publishSecret(dir, fixtureFiles('x509-ed25519', ['x509.pem']));
    await changed;
    const after = await registry.get('x509', testConfig());
    assert.notEqual(after, before);
    assert.equal(keyIdOf(after.publicKey()), keyIdOf(fixturePublicKey('x509-ed25519')));
  } finally {
    registry.close();
  }
});

test('a failed load is cached (same error, no re-read) until the files change, then the fixed key is used', async () => {
  const dir = secretsDir();
  publishSecret(dir, { ...fixtureFiles('cosign-ecdsa-p256', ['cosign.key']), 'cosign.password': 'not the password' });
  const registry = new SignerRegistry({ secretsDir: dir, pollIntervalMs: 600_000 });
  try {
    const first = await registry.get('x509', testConfig()).then(
      () => assert.fail('expected KeyDecryptFailed'),
      (err: unknown) => err,
    );
    assert.ok(first instanceof ChainsmithError);
    assert.equal(first.reason, 'KeyDecryptFailed');
    const second = await registry.get('x509', testConfig()).then(
      () => assert.fail('expected KeyDecryptFailed'),
      (err: unknown) => err,
    );
    assert.equal(second, first, 'the very same cached error, not a fresh decryption attempt');

    const changed = nextChange(registry);
    publishSecret(dir, fixtureFiles('cosign-ecdsa-p256', ['cosign.key', 'cosign.password']));
    await changed;
    const signer = await registry.get('x509', testConfig());
    assert.equal(keyIdOf(signer.publicKey()), keyIdOf(fixturePublicKey('cosign-ecdsa-p256')));
  } finally {
    registry.close();
  }
});

test('a secrets directory that appears later is found by the periodic check', async () => {
  const dir = secretsDir();
  const registry = new SignerRegistry({ secretsDir: dir, pollIntervalMs: 50 });
  try {
    await assert.rejects(registry.get('x509', testConfig()), { reason: 'KeyNotFound' });
    const changed = nextChange(registry);
    publishSecret(dir, fixtureFiles('x509-rsa', ['x509.pem']));
    await changed;
    const signer = await registry.get('x509', testConfig());
    assert.equal(keyIdOf(signer.publicKey()), keyIdOf(fixturePublicKey('x509-rsa')));
  } finally {
    registry.close();
  }
});

test('after close() changes are no longer reported', async () => {
  const dir = secretsDir();
  publishSecret(dir, fixtureFiles('x509-ecdsa-p256', ['x509.pem']));
  const registry = new SignerRegistry({ secretsDir: dir, pollIntervalMs: 20 });
  let fired = 0;
  registry.onChange(() => fired++);
  registry.close();
  publishSecret(dir, fixtureFiles('x509-ecdsa-p384', ['x509.pem']));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fired, 0);
});

test('keyless (Fulcio): a new signer per get, built from signers.x509.fulcio.*; none without a Fulcio client', async () => {
  const built: KeylessSignerConfig[] = [];
  const registry = new SignerRegistry({
    secretsDir: secretsDir(),
    keylessFactory: (cfg) => {
      built.push(cfg);
      return Object.assign(ephemeralSigner(), { keyless: true });
    },
  });
  const bare = new SignerRegistry({ secretsDir: secretsDir() });
  try {
    const config = testConfig({ fulcioEnabled: true });
    config.signers.x509.fulcioAddress = 'http://127.0.0.1:5555';
    config.signers.x509.identityTokenFile = '/var/run/sigstore/token';
    const a = await registry.get('x509', config);
    const b = await registry.get('x509', config);
    assert.notEqual(a, b, 'each signing gets its own ephemeral key');
    assert.equal(a.keyless, true);
    assert.deepEqual(built[0], {
      address: 'http://127.0.0.1:5555',
      issuer: 'https://oauth2.sigstore.dev/auth',
      tokenFile: '/var/run/sigstore/token',
    });
    await assert.rejects(bare.get('x509', config), { reason: 'KeylessFailed', message: /no Fulcio client/ });
  } finally {
    registry.close();
    bare.close();
  }
});

test('kms without a KMS provider is a KmsError saying so', async () => {
  const registry = new SignerRegistry({ secretsDir: secretsDir() });
  try {
    await assert.rejects(registry.get('kms', testConfig({ kmsref: 'hashivault://key' })), {
      reason: 'KmsError',
      message: /KMS signing is not configured/,
    });
  } finally {
    registry.close();
  }
});

test('kms: built once per kms config, rebuilt when it changes; permanent failures cached, transient ones retried', async () => {
  const base = await loadFileSigner(fixtureDir('x509-ecdsa-p256'));
  const calls: string[] = [];
  let mode: 'ok' | 'transient' | 'permanent' = 'ok';
  const registry = new SignerRegistry({
    secretsDir: secretsDir(),
    kmsFactory: async (cfg) => {
      calls.push(cfg.kmsref ?? '');
      if (mode === 'transient') throw new ChainsmithError('KmsUnavailable', 'vault down', { transient: true });
      if (mode === 'permanent') throw new ChainsmithError('KmsKeyNotFound', 'no such key');
      return base satisfies Signer;
    },
  });
  try {
    await assert.rejects(registry.get('kms', testConfig()), { reason: 'KmsError', message: /kmsref is not set/ });
    assert.equal(await registry.get('kms', testConfig({ kmsref: 'hashivault://a' })), base);
    await registry.get('kms', testConfig({ kmsref: 'hashivault://a' }));
    assert.deepEqual(calls, ['hashivault://a']);

    mode = 'transient';
    await assert.rejects(registry.get('kms', testConfig({ kmsref: 'hashivault://b' })), { reason: 'KmsUnavailable' });
    await assert.rejects(registry.get('kms', testConfig({ kmsref: 'hashivault://b' })), { reason: 'KmsUnavailable' });
    assert.deepEqual(calls, ['hashivault://a', 'hashivault://b', 'hashivault://b']);

    mode = 'permanent';
    await assert.rejects(registry.get('kms', testConfig({ kmsref: 'hashivault://c' })), { reason: 'KmsKeyNotFound' });
    await assert.rejects(registry.get('kms', testConfig({ kmsref: 'hashivault://c' })), { reason: 'KmsKeyNotFound' });
    assert.deepEqual(calls, ['hashivault://a', 'hashivault://b', 'hashivault://b', 'hashivault://c']);
  } finally {
    registry.close();
  }
});
