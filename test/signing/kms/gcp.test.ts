// The gcpkms:// signer through the real @google-cloud/kms client. Cloud KMS has no runnable server, so the
// client runs in its REST (fallback) mode against a loopback stand-in that answers the three calls the signer
// makes (list versions, get public key, asymmetric sign) the way the Cloud KMS REST API does.
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { protos } from '@google-cloud/kms';
import { OAuth2Client } from 'google-auth-library';
import { ChainsmithError } from '../../../src/errors.js';
import { classifyGcpFailure, createGcpKmsSigner, type GcpClientOptions } from '../../../src/signing/kms/gcp.js';
import { parseKmsRef } from '../../../src/signing/kms/kmsref.js';
import { fakeKey, KnownMessages, type FakeKey } from './fake-keys.js';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest, type Reply } from './loopback-server.js';

const Alg = protos.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm;
const KEY = 'projects/chains/locations/global/keyRings/tekton/cryptoKeys';
const versions: Record<string, { key: FakeKey; algorithm: number }> = {
  [`${KEY}/ec/cryptoKeyVersions/1`]: { key: fakeKey('ec-p256'), algorithm: Alg.EC_SIGN_P256_SHA256 },
  [`${KEY}/ec/cryptoKeyVersions/4`]: { key: fakeKey('ec-p256'), algorithm: Alg.EC_SIGN_P256_SHA256 },
  [`${KEY}/p384/cryptoKeyVersions/1`]: { key: fakeKey('ec-p384'), algorithm: Alg.EC_SIGN_P384_SHA384 },
  [`${KEY}/ed/cryptoKeyVersions/1`]: { key: fakeKey('ed25519'), algorithm: Alg.EC_SIGN_ED25519 },
  [`${KEY}/pss/cryptoKeyVersions/1`]: { key: fakeKey('rsa-2048'), algorithm: Alg.RSA_SIGN_PSS_2048_SHA256 },
};
const messages = new KnownMessages();
let override: ((req: RecordedRequest) => Reply | undefined) | undefined;
const notFound = (what: string): Reply => ({
  status: 404,
  body: { error: { code: 404, message: `${what} not found.`, status: 'NOT_FOUND' } },
});

function cloudKms(req: RecordedRequest): Reply {
  const o = override?.(req);
  if (o) return o;
  if (req.headers.authorization !== 'Bearer ya29.test-access-token')
    return { status: 401, body: { error: { code: 401, message: 'unauthenticated', status: 'UNAUTHENTICATED' } } };
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/v1\//, '');
  let m = /^(.*)\/cryptoKeyVersions$/.exec(path);
  if (m && req.method === 'GET') {
    const list = Object.keys(versions)
      .filter((n) => n.startsWith(`${m![1]}/`))
      .map((name) => ({ name, state: 'ENABLED' }));
    return { status: 200, body: { cryptoKeyVersions: list, totalSize: list.length } };
  }
  m = /^(.*)\/publicKey$/.exec(path);
  if (m && req.method === 'GET') {
    const v = versions[m[1]!];
    if (!v) return notFound(m[1]!);
    return {
      status: 200,
      body: { pem: v.key.publicKey.export({ type: 'spki', format: 'pem' }), algorithm: v.algorithm, name: m[1] },
    };
  }
  m = /^(.*):asymmetricSign$/.exec(path);
  if (m && req.method === 'POST') {
    const v = versions[m[1]!];
    if (!v) return notFound(m[1]!);
    const body = JSON.parse(req.body) as { digest?: Record<string, string>; data?: string };
    let sig: Buffer;
    if (body.data) sig = sign(null, Buffer.from(body.data, 'base64'), v.key.privateKey);
    else {
      const [hash, digest] = Object.entries(body.digest ?? {})[0]!;
      sig = messages.signDigest(v.key, hash as 'sha256', Buffer.from(digest, 'base64'));
    }
    return { status: 200, body: { signature: sig.toString('base64'), name: m[1] } };
  }
  return {
    status: 404,
    body: { error: { code: 404, message: `no route ${req.method} ${path}`, status: 'NOT_FOUND' } },
  };
}

let server: LoopbackServer;
let clientOptions: GcpClientOptions;
before(async () => {
  server = await startLoopbackServer(cloudKms);
  // A real OAuth2 client holding an access token: the SDK adds the Authorization header, no token endpoint is called.
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'ya29.test-access-token', expiry_date: Date.now() + 3_600_000 });
  clientOptions = {
    fallback: true,
    apiEndpoint: '127.0.0.1',
    port: server.port,
    protocol: 'http',
    authClient,
  } as GcpClientOptions;
});
after(() => server.close());
beforeEach(() => {
  override = undefined;
  server.requests.length = 0;
});

function signer(path: string, opts = { backoffMs: 1 }) {
  const ref = parseKmsRef(`gcpkms://${path}`) as Extract<ReturnType<typeof parseKmsRef>, { provider: 'gcpkms' }>;
  return createGcpKmsSigner(ref, opts, clientOptions);
}

describe('gcpkms signer (REST client against a loopback stand-in; Cloud KMS has no local server)', () => {
  it('signs a SHA-256 digest with an EC_SIGN_P256_SHA256 version and returns a DER signature', async () => {
    const s = await signer(`${KEY}/ec/cryptoKeyVersions/1`);
    const data = messages.add(Buffer.from('an in-toto PAE'));
    const sig = await s.sign(data);
    assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, sig));
    const signReq = server.requests.find((r) => r.method === 'POST')!;
    assert.match(signReq.url, /cryptoKeyVersions\/1:asymmetricSign/);
    assert.deepEqual(Object.keys(JSON.parse(signReq.body).digest), ['sha256']);
    assert.match(s.description, /ECDSA P-256 SHA-256, version 1/);
  });

  it('uses the highest enabled version when the reference names none', async () => {
    const s = await signer(`${KEY}/ec`);
    assert.match(server.requests[0]!.url, /cryptoKeyVersions\?filter=state%3DENABLED/);
    assert.equal(
      s.publicKey().export({ format: 'jwk' }).x,
      versions[`${KEY}/ec/cryptoKeyVersions/4`]!.key.publicKey.export({ format: 'jwk' }).x,
    );
  });

  it('signs a SHA-384 digest for EC_SIGN_P384_SHA384 and the message itself for Ed25519', async () => {
    const p384 = await signer(`${KEY}/p384/cryptoKeyVersions/1`);
    const data = messages.add(Buffer.from('p384 payload'));
    assert.ok(verify('sha384', data, { key: p384.publicKey(), dsaEncoding: 'der' }, await p384.sign(data)));
    const ed = await signer(`${KEY}/ed/cryptoKeyVersions/1`);
    assert.ok(verify(null, Buffer.from('ed payload'), ed.publicKey(), await ed.sign(Buffer.from('ed payload'))));
  });

  it('rejects algorithms cosign cannot verify with the public key (RSA-PSS)', async () => {
    await assert.rejects(
      signer(`${KEY}/pss/cryptoKeyVersions/1`),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsKeyUnsupported' && /RSA_SIGN_PSS_2048_SHA256/.test(e.message),
    );
  });

  it('maps 404 to KmsKeyNotFound and 403 to KmsPermissionDenied without retrying', async () => {
    await assert.rejects(
      signer(`${KEY}/nope/cryptoKeyVersions/1`),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsKeyNotFound' && /not found/.test(e.message),
    );
    server.requests.length = 0;
    override = () => ({
      status: 403,
      body: {
        error: {
          code: 403,
          message: "Permission 'cloudkms.cryptoKeyVersions.viewPublicKey' denied",
          status: 'PERMISSION_DENIED',
        },
      },
    });
    await assert.rejects(
      signer(`${KEY}/ec/cryptoKeyVersions/1`),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsPermissionDenied' && /viewPublicKey/.test(e.message),
    );
    assert.equal(server.requests.length, 1);
  });

  it('retries 503 and 429 answers, then signs', async () => {
    const s = await signer(`${KEY}/ec/cryptoKeyVersions/1`);
    const failures: Reply[] = [
      {
        status: 503,
        body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } },
      },
      { status: 429, body: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } } },
    ];
    override = (req) => (req.method === 'POST' ? failures.shift() : undefined);
    const data = messages.add(Buffer.from('retried'));
    assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, await s.sign(data)));
    assert.equal(server.requests.filter((r) => r.method === 'POST').length, 3);
  });
});

describe('classifyGcpFailure (gRPC mode errors)', () => {
  it('maps google.rpc codes', () => {
    assert.equal(classifyGcpFailure({ code: 5, details: 'not found' }).reason, 'KmsKeyNotFound');
    assert.equal(classifyGcpFailure({ code: 7, details: 'denied' }).reason, 'KmsPermissionDenied');
    assert.equal(classifyGcpFailure({ code: 16, details: 'unauthenticated' }).reason, 'KmsPermissionDenied');
    assert.deepEqual(classifyGcpFailure({ code: 14, details: 'unavailable' }), {
      reason: 'KmsUnavailable',
      transient: true,
      detail: 'unavailable',
    });
    assert.equal(classifyGcpFailure({ code: 9, details: 'version DISABLED' }).reason, 'KmsKeyUnsupported');
    assert.equal(
      classifyGcpFailure(new Error('Could not load the default credentials.')).reason,
      'KmsPermissionDenied',
    );
  });
});
