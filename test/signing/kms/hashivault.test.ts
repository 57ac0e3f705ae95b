// The hashivault:// signer against a loopback transit stand-in: the request shapes sigstore's provider sends,
// the `vault:vN:` prefix, auth resolution and error mapping. The e2e test (e2e/kms.e2e.ts) runs the same signer
// against a real HashiCorp Vault 1.13 dev server (e2e/stack/addons/vault-up.sh).
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChainsConfig } from '../../../src/config/types.js';
import { ChainsmithError } from '../../../src/errors.js';
import { keyIdOf } from '../../../src/signing/ssh-key.js';
import { createHashivaultSigner, stripVaultPrefix } from '../../../src/signing/kms/hashivault.js';
import { parseKmsRef } from '../../../src/signing/kms/kmsref.js';
import type { VaultEnvironment } from '../../../src/signing/kms/vault-client.js';
import { fakeKey, KnownMessages, type FakeKey } from './fake-keys.js';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest, type Reply } from './loopback-server.js';

type KmsConfig = ChainsConfig['signers']['kms'];
const TOKEN = 'hvs.test-root-token-0123456789';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.service-account-jwt.sig';

function kmsConfig(kmsref: string, auth: Partial<KmsConfig['auth']> = {}): KmsConfig {
  return { kmsref, auth: { oidc: {}, spire: {}, ...auth } };
}

const keys: Record<string, { type: string; key: FakeKey; version: number }> = {
  p256: { type: 'ecdsa-p256', key: fakeKey('ec-p256'), version: 2 },
  p384: { type: 'ecdsa-p384', key: fakeKey('ec-p384'), version: 1 },
  rsa: { type: 'rsa-2048', key: fakeKey('rsa-2048'), version: 1 },
  ed: { type: 'ed25519', key: fakeKey('ed25519'), version: 1 },
};
const messages = new KnownMessages();

/** Per-test overrides: return a reply to short-circuit the transit logic. */
let override: ((req: RecordedRequest) => Reply | undefined) | undefined;
let acceptedTokens = new Set([TOKEN]);

function transit(req: RecordedRequest): Reply {
  return override?.(req) ?? standardTransit(req);
}

/** The stand-in's normal behaviour: transit key read and sign, JWT login. */
function standardTransit(req: RecordedRequest): Reply {
  const url = new URL(req.url, 'http://x');
  const login = /^\/v1\/auth\/([^/]+)\/login$/.exec(url.pathname);
  if (login && req.method === 'POST') {
    const body = JSON.parse(req.body) as { role?: string; jwt?: string };
    if (body.role !== 'chains' || body.jwt !== JWT) return { status: 400, body: { errors: ['invalid role or jwt'] } };
    acceptedTokens.add('hvs.login-token');
    return { status: 200, body: { auth: { client_token: 'hvs.login-token' } } };
  }
  if (!acceptedTokens.has(String(req.headers['x-vault-token'])))
    return { status: 403, body: { errors: ['permission denied'] } };
  const read = /^\/v1\/([^/]+)\/keys\/([^/]+)$/.exec(url.pathname);
  if (read && req.method === 'GET') {
    if (read[2] === 'aes')
      return { status: 200, body: { data: { type: 'aes256-gcm96', latest_version: 1, keys: { '1': 1700000000 } } } };
    const k = keys[read[2]!];
    if (!k) return { status: 404, body: { errors: [] } };
    const pub =
      k.type === 'ed25519'
        ? Buffer.from(k.key.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64')
        : k.key.publicKey.export({ type: 'spki', format: 'pem' });
    return {
      status: 200,
      body: {
        data: {
          type: k.type,
          latest_version: k.version,
          keys: { [String(k.version)]: { public_key: pub, name: k.type } },
        },
      },
    };
  }
  const signPath = /^\/v1\/([^/]+)\/sign\/([^/]+)(?:\/(sha2-256))?$/.exec(url.pathname);
  if (signPath && req.method === 'POST') {
    const k = keys[signPath[2]!];
    if (!k) return { status: 400, body: { errors: ['signing key not found'] } };
    const body = JSON.parse(req.body) as { input: string; prehashed?: boolean; key_version?: number };
    const input = Buffer.from(body.input, 'base64');
    const sig =
      k.type === 'ed25519' ? (messages.add(input), signEd(k.key, input)) : messages.signDigest(k.key, 'sha256', input);
    return {
      status: 200,
      body: {
        data: {
          signature: `vault:v${body.key_version ?? k.version}:${sig.toString('base64')}`,
          key_version: k.version,
        },
      },
    };
  }
  return { status: 404, body: { errors: [`no handler for ${req.method} ${url.pathname}`] } };
}

function signEd(key: FakeKey, data: Buffer): Buffer {
  return sign(null, data, key.privateKey);
}

let server: LoopbackServer;
const files = new Map<string, string>();
function environment(env: NodeJS.ProcessEnv = {}): VaultEnvironment {
  return {
    env: { HOME: '/nonexistent-home', ...env },
    readFile: async (p) => {
      const f = files.get(p);
      if (f === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return f;
    },
    fetch: globalThis.fetch,
  };
}
const fast = { backoffMs: 1, timeoutMs: 2000 };

before(async () => {
  server = await startLoopbackServer(transit);
});
after(() => server.close());
beforeEach(() => {
  override = undefined;
  acceptedTokens = new Set([TOKEN]);
  server.requests.length = 0;
  files.clear();
});

async function signer(
  name: string,
  auth: Partial<KmsConfig['auth']> = { token: TOKEN },
  env: NodeJS.ProcessEnv = {},
  opts = fast,
) {
  const cfg = kmsConfig(`hashivault://${name}`, { address: server.url, ...auth });
  const ref = parseKmsRef(cfg.kmsref!);
  assert.equal(ref.provider, 'hashivault');
  return createHashivaultSigner(ref as Extract<typeof ref, { provider: 'hashivault' }>, cfg, opts, environment(env));
}

describe('hashivault signer', () => {
  it('signs an ECDSA P-256 key the way sigstore does: prehashed SHA-256, pkcs1v15, pinned key version', async () => {
    const s = await signer('p256');
    const data = messages.add(Buffer.from('DSSEv1 28 application/vnd.in-toto+json 2 {}'));
    const sig = await s.sign(data);
    assert.ok(
      verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, sig),
      'DER signature verifies over SHA-256',
    );
    assert.equal(keyIdOf(s.publicKey()), keyIdOf(keys.p256!.key.publicKey));
    const signReq = server.requests.find((r) => r.method === 'POST')!;
    assert.equal(signReq.url, '/v1/transit/sign/p256/sha2-256');
    assert.equal(signReq.headers['x-vault-token'], TOKEN);
    const body = JSON.parse(signReq.body);
    assert.equal(body.prehashed, true);
    assert.equal(body.signature_algorithm, 'pkcs1v15');
    assert.equal(body.key_version, 2);
    assert.equal(Buffer.from(body.input, 'base64').length, 32);
    assert.match(s.description, /^kms hashivault:\/\/p256 \(ECDSA P-256 SHA-256, version 2, SHA256:/);
    assert.ok(!s.description.includes(TOKEN));
  });

  it("signs with ECDSA P-384 over SHA-256 (cosign's KMS default) and with RSA PKCS#1 v1.5", async () => {
    for (const name of ['p384', 'rsa']) {
      const s = await signer(name);
      const data = messages.add(Buffer.from(`payload for ${name}`));
      assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, await s.sign(data)), name);
    }
  });

  it('signs the message itself with Ed25519 (no prehash, no hash path) and reads the raw base64 public key', async () => {
    const s = await signer('ed');
    const data = Buffer.from('an ed25519 payload');
    const sig = await s.sign(data);
    assert.ok(verify(null, data, s.publicKey(), sig));
    const signReq = server.requests.find((r) => r.method === 'POST')!;
    assert.equal(signReq.url, '/v1/transit/sign/ed');
    assert.equal(Buffer.from(JSON.parse(signReq.body).input, 'base64').toString(), 'an ed25519 payload');
  });

  it('reads the token from token-path without its trailing newline, ahead of token', async () => {
    files.set('/var/run/vault/token', `${TOKEN}\n`);
    const s = await signer('p256', { token: 'hvs.other-token', tokenPath: '/var/run/vault/token' });
    await s.sign(messages.add(Buffer.from('x')));
    assert.ok(server.requests.every((r) => r.headers['x-vault-token'] === TOKEN));
  });

  it('falls back to VAULT_ADDR, VAULT_TOKEN and TRANSIT_SECRET_ENGINE_PATH', async () => {
    override = (req) =>
      req.url.startsWith('/v1/chains-transit/')
        ? standardTransit({ ...req, url: req.url.replace('/v1/chains-transit/', '/v1/transit/') })
        : { status: 404, body: { errors: ['wrong mount'] } };
    const cfg = kmsConfig('hashivault://p256');
    const s = await createHashivaultSigner(
      { provider: 'hashivault', ref: 'hashivault://p256', keyName: 'p256' },
      cfg,
      fast,
      environment({ VAULT_ADDR: `${server.url}/`, VAULT_TOKEN: TOKEN, TRANSIT_SECRET_ENGINE_PATH: 'chains-transit' }),
    );
    await s.sign(messages.add(Buffer.from('y')));
    assert.ok(server.requests.every((r) => r.url.startsWith('/v1/chains-transit/')));
  });

  it('logs in with the OIDC token file when no token is configured, and logs in again when the token is revoked', async () => {
    files.set('/var/run/sigstore/token', `${JWT}\n`);
    const s = await signer('p256', {
      token: '',
      oidc: { path: 'kubernetes-jwt', role: 'chains', tokenPath: '/var/run/sigstore/token' },
    });
    const login = server.requests[0]!;
    assert.equal(login.url, '/v1/auth/kubernetes-jwt/login');
    assert.deepEqual(JSON.parse(login.body), { role: 'chains', jwt: JWT });
    assert.equal(server.requests[1]!.headers['x-vault-token'], 'hvs.login-token');
    acceptedTokens.delete('hvs.login-token');
    await s.sign(messages.add(Buffer.from('after expiry')));
    assert.equal(server.requests.filter((r) => r.url.endsWith('/login')).length, 2);
  });

  it('retries 503 (sealed or standby Vault) and succeeds', async () => {
    const s = await signer('p256');
    let failures = 2;
    override = (req) =>
      req.method === 'POST' && failures-- > 0 ? { status: 503, body: { errors: ['Vault is sealed'] } } : undefined;
    const data = messages.add(Buffer.from('retry me'));
    assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, await s.sign(data)));
    assert.equal(server.requests.filter((r) => r.method === 'POST').length, 3);
  });

  it('maps errors to reasons and never puts the token in a message, even when the server echoes it', async () => {
    const reasonOf = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        assert.ok(e instanceof ChainsmithError);
        assert.ok(!e.message.includes(TOKEN), `token leaked in: ${e.message}`);
        assert.ok(!JSON.stringify(e).includes(TOKEN));
        return [e.reason, e.transient, e.message] as const;
      }
      return assert.fail('expected an error');
    };
    const [nf] = await reasonOf(signer('missing'));
    assert.equal(nf, 'KmsKeyNotFound');
    const [unsup, , unsupMsg] = await reasonOf(signer('aes'));
    assert.equal(unsup, 'KmsKeyUnsupported');
    assert.match(unsupMsg, /aes256-gcm96/);
    server.requests.length = 0;
    override = () => ({ status: 403, body: { errors: [`permission denied for token ${TOKEN}`] } });
    const [denied, deniedTransient, deniedMsg] = await reasonOf(signer('p256'));
    assert.equal(denied, 'KmsPermissionDenied');
    assert.equal(deniedTransient, false);
    assert.match(deniedMsg, /\[redacted\]/);
    assert.equal(server.requests.length, 1, 'permission errors are not retried');
  });

  it('reports KmsKeyNotFound for a key deleted after the signer was built (Vault answers 400)', async () => {
    const s = await signer('p256');
    override = (req) =>
      req.method === 'POST' ? { status: 400, body: { errors: ['signing key not found'] } } : undefined;
    await assert.rejects(
      s.sign(Buffer.from('z')),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsKeyNotFound',
    );
  });

  it('refuses a signature that does not verify against the key it read', async () => {
    const s = await signer('p256');
    const other = fakeKey('ec-p256');
    override = (req) => {
      if (req.method !== 'POST') return undefined;
      const input = Buffer.from(JSON.parse(req.body).input, 'base64');
      return {
        status: 200,
        body: { data: { signature: `vault:v2:${messages.signDigest(other, 'sha256', input).toString('base64')}` } },
      };
    };
    await assert.rejects(
      s.sign(messages.add(Buffer.from('w'))),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsError' && /does not verify/.test(e.message),
    );
  });

  it('reports an unreachable Vault as transient KmsUnavailable after retrying', async () => {
    const dead = await startLoopbackServer(() => ({ status: 200 }));
    const url = dead.url;
    await dead.close();
    const cfg = kmsConfig('hashivault://p256', { address: url, token: TOKEN });
    await assert.rejects(
      createHashivaultSigner(
        { provider: 'hashivault', ref: cfg.kmsref!, keyName: 'p256' },
        cfg,
        { backoffMs: 1, retries: 2 },
        environment(),
      ),
      (e: unknown) =>
        e instanceof ChainsmithError &&
        e.reason === 'KmsUnavailable' &&
        e.transient &&
        /ECONNREFUSED.*after 3 attempts/.test(e.message),
    );
  });

  it('times out a Vault that does not answer', async () => {
    const s = await signer('p256');
    override = (req) => (req.method === 'POST' ? { status: 200, body: {}, delayMs: 500 } : undefined);
    await assert.rejects(
      (await signer('p256', undefined, {}, { backoffMs: 1, timeoutMs: 50, retries: 0 } as typeof fast)).sign(
        Buffer.from('slow'),
      ),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsUnavailable' && /no answer within 50 ms/.test(e.message),
    );
    assert.ok(s);
  });

  it('refuses SPIRE auth (not supported) and an empty OIDC token file with clear reasons', async () => {
    await assert.rejects(
      signer('p256', { token: TOKEN, spire: { sock: '/run/spire/agent.sock', audience: 'vault' } }),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsError' && /spire.* is not supported/.test(e.message),
    );
    files.set('/var/run/sigstore/token', '\n');
    await assert.rejects(
      signer('p256', { token: '', oidc: { path: 'jwt', role: 'chains', tokenPath: '/var/run/sigstore/token' } }),
      (e: unknown) =>
        e instanceof ChainsmithError &&
        e.reason === 'KmsPermissionDenied' &&
        /OIDC token file \/var\/run\/sigstore\/token is empty/.test(e.message),
    );
    assert.equal(server.requests.length, 0, 'nothing was sent to Vault');
  });

  it('explains a missing address or token', async () => {
    const cfg = kmsConfig('hashivault://p256');
    const ref = { provider: 'hashivault' as const, ref: 'hashivault://p256', keyName: 'p256' };
    await assert.rejects(
      createHashivaultSigner(ref, cfg, fast, environment()),
      /no Vault address: set signers.kms.auth.address or VAULT_ADDR/,
    );
    await assert.rejects(
      createHashivaultSigner(ref, kmsConfig('hashivault://p256', { address: server.url }), fast, environment()),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsPermissionDenied' && /no Vault token/.test(e.message),
    );
  });
});

describe('stripVaultPrefix', () => {
  it('splits vault:vN: from the base64 signature', () => {
    assert.deepEqual(stripVaultPrefix('vault:v12:AQID'), { version: 12, signature: Buffer.from([1, 2, 3]) });
  });

  it('rejects a signature without the prefix', () => {
    assert.throws(() => stripVaultPrefix('AQID'), /vault:vN:<base64>/);
    assert.throws(() => stripVaultPrefix('vault:1:AQID'), /vault:vN:<base64>/);
  });
});
