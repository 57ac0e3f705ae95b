// The awskms:// signer through the real @aws-sdk/client-kms against a loopback stand-in answering KMS's JSON 1.1
// protocol. No AWS-KMS-compatible server is installable here (local-kms is refused by the Go module proxy); the
// e2e tests use the fuller stand-in in aws-kms-standin.ts with cosign. This one injects the failures a test needs
// on demand (throttling, 5xx, access denied) to check retries and error mapping.
import assert from 'node:assert/strict';
import { verify } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ChainsmithError } from '../../../src/errors.js';
import { classifyAwsFailure, createAwsKmsSigner } from '../../../src/signing/kms/aws.js';
import { parseKmsRef } from '../../../src/signing/kms/kmsref.js';
import { fakeKey, KnownMessages } from './fake-keys.js';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest, type Reply } from './loopback-server.js';

const ecKey = fakeKey('ec-p256');
const rsaKey = fakeKey('rsa-2048');
const messages = new KnownMessages();
let override: ((req: RecordedRequest, target: string) => Reply | undefined) | undefined;

function kms(req: RecordedRequest): Reply {
  const target = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
  const o = override?.(req, target);
  if (o) return o;
  const body = JSON.parse(req.body) as {
    KeyId: string;
    Message?: string;
    SigningAlgorithm?: string;
    MessageType?: string;
  };
  const key = body.KeyId === 'alias/ec' ? ecKey : body.KeyId === 'alias/rsa' ? rsaKey : undefined;
  if (body.KeyId === 'alias/aes') {
    return target === 'GetPublicKey'
      ? { status: 400, body: { __type: 'UnsupportedOperationException', message: 'key is symmetric' } }
      : { status: 400, body: { __type: 'InvalidKeyUsageException', message: 'not a signing key' } };
  }
  if (!key) return { status: 400, body: { __type: 'NotFoundException', message: `Alias ${body.KeyId} is not found.` } };
  const spec =
    key === ecKey
      ? { KeySpec: 'ECC_NIST_P256', SigningAlgorithms: ['ECDSA_SHA_256'] }
      : { KeySpec: 'RSA_2048', SigningAlgorithms: ['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256'] };
  if (target === 'GetPublicKey') {
    const der = key.publicKey.export({ type: 'spki', format: 'der' });
    return {
      status: 200,
      body: { KeyId: body.KeyId, PublicKey: der.toString('base64'), KeyUsage: 'SIGN_VERIFY', ...spec },
    };
  }
  if (target === 'Sign') {
    assert.equal(body.MessageType, 'DIGEST');
    const sig = messages.signDigest(key, 'sha256', Buffer.from(body.Message!, 'base64'));
    return {
      status: 200,
      body: { KeyId: body.KeyId, Signature: sig.toString('base64'), SigningAlgorithm: body.SigningAlgorithm },
    };
  }
  return { status: 400, body: { __type: 'UnsupportedOperationException', message: target } };
}

let server: LoopbackServer;
before(async () => {
  server = await startLoopbackServer(kms);
});
after(() => server.close());
beforeEach(() => {
  override = undefined;
  server.requests.length = 0;
});

function signer(keyId: string, opts = { backoffMs: 1 }) {
  const ref = parseKmsRef(`awskms:///${keyId}`) as Extract<ReturnType<typeof parseKmsRef>, { provider: 'awskms' }>;
  return createAwsKmsSigner(ref, opts, {
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'dummy', secretAccessKey: 'dummy' },
  });
}

const bodies = (target: string) =>
  server.requests
    .filter((r) => r.headers['x-amz-target'] === `TrentService.${target}`)
    .map((r) => JSON.parse(r.body) as Record<string, string>);

describe('awskms signer', () => {
  it('signs a SHA-256 digest with ECDSA_SHA_256 and MessageType DIGEST', async () => {
    const s = await signer('alias/ec');
    const data = messages.add(Buffer.from('simplesigning payload'));
    const sig = await s.sign(data);
    assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, sig));
    const [req] = bodies('Sign');
    assert.equal(req!.SigningAlgorithm, 'ECDSA_SHA_256');
    assert.equal(Buffer.from(req!.Message!, 'base64').length, 32);
    assert.match(s.description, /^kms awskms:\/\/\/alias\/ec \(ECDSA P-256 SHA-256, SHA256:/);
  });

  it('signs RSA keys with PKCS#1 v1.5 SHA-256, the scheme `cosign verify --key` checks, even when PSS is listed first', async () => {
    const s = await signer('alias/rsa');
    const data = messages.add(Buffer.from('rsa payload'));
    assert.ok(verify('sha256', data, s.publicKey(), await s.sign(data)));
    assert.equal(bodies('Sign')[0]!.SigningAlgorithm, 'RSASSA_PKCS1_V1_5_SHA_256');
  });

  it('retries throttling and 5xx answers, then signs', async () => {
    const s = await signer('alias/ec');
    const failures: Reply[] = [
      { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } },
      { status: 500, body: { __type: 'KMSInternalException', message: 'internal' } },
    ];
    override = (_req, target) => (target === 'Sign' ? failures.shift() : undefined);
    const data = messages.add(Buffer.from('throttled'));
    assert.ok(verify('sha256', data, { key: s.publicKey(), dsaEncoding: 'der' }, await s.sign(data)));
    assert.equal(bodies('Sign').length, 3);
  });

  it('maps unknown keys, denied access and non-signing keys to reasons without retrying', async () => {
    await assert.rejects(
      signer('alias/missing'),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsKeyNotFound' && /alias\/missing is not found/.test(e.message),
    );
    await assert.rejects(
      signer('alias/aes'),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsKeyUnsupported',
    );
    server.requests.length = 0;
    override = () => ({
      status: 400,
      body: { __type: 'AccessDeniedException', message: 'User is not authorized to perform kms:GetPublicKey' },
    });
    await assert.rejects(
      signer('alias/ec'),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'KmsPermissionDenied' && !e.transient,
    );
    assert.equal(server.requests.length, 1);
  });

  it('rejects a key that is not a signing key', async () => {
    override = (_req, target) =>
      target === 'GetPublicKey'
        ? {
            status: 200,
            body: {
              KeyId: 'k',
              PublicKey: ecKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
              KeySpec: 'ECC_SECG_P256K1',
              KeyUsage: 'SIGN_VERIFY',
            },
          }
        : undefined;
    await assert.rejects(
      signer('alias/ec'),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'KmsKeyUnsupported' && /ECC_SECG_P256K1/.test(e.message),
    );
  });
});

describe('classifyAwsFailure', () => {
  it('treats connection failures as transient and unknown errors as permanent', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.deepEqual(classifyAwsFailure(refused), {
      reason: 'KmsUnavailable',
      transient: true,
      detail: 'cannot reach AWS KMS (ECONNREFUSED)',
    });
    assert.equal(
      classifyAwsFailure(Object.assign(new Error('x'), { name: 'DependencyTimeoutException' })).transient,
      true,
    );
    assert.equal(
      classifyAwsFailure(new Error('Region is missing')).detail,
      'no AWS region: set AWS_REGION or use an ARN key reference',
    );
    assert.equal(
      classifyAwsFailure(Object.assign(new Error('x'), { name: 'Weird', $metadata: { httpStatusCode: 503 } })).reason,
      'KmsUnavailable',
    );
  });
});
