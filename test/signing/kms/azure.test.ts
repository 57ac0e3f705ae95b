// The azurekms:// signer through the real @azure/keyvault-keys clients. Azure Key Vault has no runnable server,
// so a loopback stand-in answers the calls the signer makes (key read, sign) like the Key Vault REST API does,
// including its 401 bearer challenge. It returns ECDSA signatures as raw r||s, as Key Vault does.
import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ChainsmithError } from '../../../src/errors.js';
import { classifyAzureFailure, createAzureKmsSigner, type TokenCredential } from '../../../src/signing/kms/azure.js';
import { parseKmsRef } from '../../../src/signing/kms/kmsref.js';
import { fakeKey, KnownMessages, type FakeKey } from './fake-keys.js';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest, type Reply } from './loopback-server.js';

const ACCESS_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.azure-access-token';
const keys: Record<string, { key: FakeKey; version: string; ops?: string[] }> = {
  ec: { key: fakeKey('ec-p256'), version: '6a3b' },
  p384: { key: fakeKey('ec-p384'), version: '1f00' },
  rsa: { key: fakeKey('rsa-2048'), version: '77aa' },
  wrap: { key: fakeKey('rsa-2048'), version: '0001', ops: ['wrapKey', 'unwrapKey'] },
};
const HASHES: Record<string, 'sha256' | 'sha384'> = { ES256: 'sha256', ES384: 'sha384', RS256: 'sha256' };
const messages = new KnownMessages();
let override: ((req: RecordedRequest) => Reply | undefined) | undefined;
let server: LoopbackServer;

function jwkOf(name: string): Record<string, unknown> {
  const k = keys[name]!;
  const j = k.key.publicKey.export({ format: 'jwk' });
  const kid = `${server.url}/keys/${name}/${k.version}`;
  const ops = k.ops ?? ['sign', 'verify'];
  return j.kty === 'EC'
    ? { kid, kty: 'EC', crv: j.crv, x: j.x, y: j.y, key_ops: ops }
    : { kid, kty: 'RSA', n: j.n, e: j.e, key_ops: ops };
}

function keyVault(req: RecordedRequest): Reply {
  const o = override?.(req);
  if (o) return o;
  if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) {
    return {
      status: 401,
      headers: {
        'www-authenticate':
          'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"',
      },
      body: { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
    };
  }
  const url = new URL(req.url, 'http://x');
  assert.ok(url.searchParams.get('api-version'), 'every call names an api-version');
  const m = /^\/keys\/([^/]+)\/?([^/]*)(\/sign)?$/.exec(url.pathname);
  const k = m ? keys[m[1]!] : undefined;
  if (!m || !k)
    return {
      status: 404,
      body: {
        error: { code: 'KeyNotFound', message: `A key with (name/id) ${m?.[1]} was not found in this key vault.` },
      },
    };
  if (!m[3] && req.method === 'GET') return { status: 200, body: { key: jwkOf(m[1]!), attributes: { enabled: true } } };
  if (m[3] && req.method === 'POST') {
    const body = JSON.parse(req.body) as { alg: string; value: string };
    const enc = body.alg.startsWith('ES') ? 'ieee-p1363' : 'der';
    const sig = messages.signDigest(k.key, HASHES[body.alg]!, Buffer.from(body.value, 'base64url'), enc);
    return { status: 200, body: { kid: `${server.url}/keys/${m[1]}/${k.version}`, value: sig.toString('base64url') } };
  }
  return { status: 400, body: { error: { code: 'BadParameter', message: 'unsupported' } } };
}

const scopes: string[] = [];
const credential: TokenCredential = {
  getToken: async (s: string | string[]) => {
    scopes.push(...(Array.isArray(s) ? s : [s]));
    return { token: ACCESS_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

before(async () => {
  server = await startLoopbackServer(keyVault);
});
after(() => server.close());
beforeEach(() => {
  override = undefined;
  server.requests.length = 0;
});

function signer(key: string, opts = { backoffMs: 1 }) {
  const ref = parseKmsRef(`azurekms://chains.vault.azure.net/${key}`) as Extract<
    ReturnType<typeof parseKmsRef>,
    { provider: 'azurekms' }
  >;
  // The stand-in speaks plain HTTP on loopback; production vault URLs are always https://VAULT-HOST/.
  return createAzureKmsSigner(ref, opts, {
    credential,
    vaultUrl: server.url,
    clientOptions: { allowInsecureConnection: true },
  });
}

describe('azurekms signer (Key Vault SDK against a loopback stand-in; Key Vault has no local server)', () => {
  it('answers the bearer challenge, signs ES256 and converts the raw r||s signature to DER', async () => {
    const s = await signer('ec');
    assert.ok(scopes.includes('https://vault.azure.net/.default'));
    const data = messages.add(Buffer.from('cosign simplesigning payload'));
    const sig = await s.sign(data);
    assert.equal(sig[0], 0x30, 'DER SEQUENCE');
    assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, sig));
    const signReq = server.requests.find((r) => r.method === 'POST' && r.headers.authorization)!;
    assert.match(signReq.url, /^\/keys\/ec\/6a3b\/sign\?/);
    assert.equal(JSON.parse(signReq.body).alg, 'ES256');
    assert.match(s.description, /ECDSA P-256 SHA-256, version 6a3b/);
  });

  it('signs P-384 keys with ES384 over SHA-384 and RSA keys with RS256', async () => {
    const p384 = await signer('p384');
    const d1 = messages.add(Buffer.from('p384'));
    assert.ok(verify('sha384', d1, { key: p384.publicKey(), dsaEncoding: 'der' }, await p384.sign(d1)));
    const rsa = await signer('rsa');
    const d2 = messages.add(Buffer.from('rsa'));
    assert.ok(verify('sha256', d2, rsa.publicKey(), await rsa.sign(d2)));
  });

  it('rejects a key whose key_ops do not include sign', async () => {
    await assert.rejects(
      signer('wrap'),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsKeyUnsupported' && /wrapKey/.test(e.message),
    );
  });

  it('maps KeyNotFound and Forbidden, and never puts the access token in a message', async () => {
    await assert.rejects(
      signer('missing'),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsKeyNotFound' && /was not found/.test(e.message),
    );
    override = (req) =>
      req.headers.authorization
        ? {
            status: 403,
            body: { error: { code: 'Forbidden', message: `Caller is not authorized; token ${ACCESS_TOKEN}` } },
          }
        : undefined;
    await assert.rejects(signer('ec'), (e: unknown) => {
      assert.ok(e instanceof ChainsmithError);
      assert.equal(e.reason, 'KmsPermissionDenied');
      assert.equal(
        e.cause,
        undefined,
        'SDK errors (which carry the request and its Authorization header) are not kept as cause',
      );
      assert.ok(!e.message.includes(ACCESS_TOKEN), e.message);
      assert.match(e.message, /Caller is not authorized; token \[redacted\]/);
      return true;
    });
  });

  it('retries 429 and 503, then signs', async () => {
    const s = await signer('ec');
    const failures: Reply[] = [
      {
        status: 429,
        headers: { 'retry-after': '0' },
        body: {
          error: { code: 'Throttled', message: 'Request was not processed because too many requests were received.' },
        },
      },
      { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'unavailable' } } },
    ];
    override = (req) => (req.method === 'POST' && req.headers.authorization ? failures.shift() : undefined);
    const data = messages.add(Buffer.from('retry'));
    assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, await s.sign(data)));
    assert.equal(server.requests.filter((r) => r.method === 'POST' && r.headers.authorization).length, 3);
  });
});

describe('classifyAzureFailure', () => {
  it('maps credential errors and connection failures', () => {
    assert.equal(
      classifyAzureFailure(Object.assign(new Error('no credential'), { name: 'CredentialUnavailableError' })).reason,
      'KmsPermissionDenied',
    );
    assert.deepEqual(
      classifyAzureFailure(
        Object.assign(new Error('connect ECONNREFUSED'), { name: 'RestError', code: 'REQUEST_SEND_ERROR' }),
      ),
      {
        reason: 'KmsUnavailable',
        transient: true,
        detail: 'RestError: connect ECONNREFUSED',
      },
    );
  });
});
