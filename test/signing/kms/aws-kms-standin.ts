// A loopback stand-in for AWS KMS, for the e2e tests of awskms:// (e2e/kms.e2e.ts, e2e/kms-controller.e2e.ts).
// Why a stand-in: no AWS-KMS-compatible server can be installed here from the package registries. local-kms is
// refused by the Go module proxy (`go list -m -json github.com/nsmithuk/local-kms@v3.12.0+incompatible` → 403,
// pseudo-versions too), and neither npm nor Debian ship an equivalent. So this speaks the KMS JSON 1.1 protocol
// (`POST /`, `X-Amz-Target: TrentService.<Op>`, `application/x-amz-json-1.1`) for the calls the signers make —
// GetPublicKey, Sign, DescribeKey (cosign's awskms:// reads it) — and is driven through the real SDKs: our signer
// through @aws-sdk/client-kms, cosign through aws-sdk-go-v2. It signs any digest it is sent, like KMS does.
import { constants, generateKeyPairSync, privateEncrypt, randomUUID, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest, type Reply } from './loopback-server.js';

export const STANDIN_REGION = 'us-east-1';
export const STANDIN_ACCOUNT = '111122223333';

/** The signing algorithms real AWS KMS lists for an RSA_2048 key, PSS first (which is what trips cosign). */
export const AWS_RSA_SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
];

interface StandInKey {
  keyId: string;
  spec: 'ECC_NIST_P256' | 'RSA_2048' | 'SYMMETRIC_DEFAULT';
  usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT';
  signingAlgorithms?: string[];
  privateKey?: KeyObject;
  publicKey?: KeyObject;
}

export interface AwsKmsStandIn {
  /** the endpoint, for AWS_ENDPOINT_URL */
  url: string;
  /** every request received, in order */
  requests: RecordedRequest[];
  /** key ids: `alias/chainsmith` = ecdsa, `alias/chainsmith-rsa` = rsa, `alias/chainsmith-aes` = aes */
  keyIds: { ecdsa: string; rsa: string; aes: string };
  /** the environment a process needs to reach the stand-in through the SDKs' default chains */
  env: Record<'AWS_ENDPOINT_URL' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_REGION', string>;
  /** the `X-Amz-Target` operations received, e.g. ['GetPublicKey', 'Sign'] */
  operations(): string[];
  close(): Promise<void>;
}

/** Starts the stand-in on a free loopback port with three fresh keys (ECDSA P-256, RSA-2048, AES). */
export async function startAwsKmsStandIn(): Promise<AwsKmsStandIn> {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keys: StandInKey[] = [
    { keyId: randomUUID(), spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY', signingAlgorithms: ['ECDSA_SHA_256'], ...ec },
    {
      keyId: randomUUID(),
      spec: 'RSA_2048',
      usage: 'SIGN_VERIFY',
      signingAlgorithms: AWS_RSA_SIGNING_ALGORITHMS,
      ...rsa,
    },
    { keyId: randomUUID(), spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT' },
  ];
  const aliases = new Map([
    ['alias/chainsmith', keys[0]!],
    ['alias/chainsmith-rsa', keys[1]!],
    ['alias/chainsmith-aes', keys[2]!],
  ]);
  const server: LoopbackServer = await startLoopbackServer((req) => answer(req, keys, aliases));
  return {
    url: server.url,
    requests: server.requests,
    keyIds: { ecdsa: keys[0]!.keyId, rsa: keys[1]!.keyId, aes: keys[2]!.keyId },
    env: {
      AWS_ENDPOINT_URL: server.url,
      AWS_ACCESS_KEY_ID: 'standin',
      AWS_SECRET_ACCESS_KEY: 'standin',
      AWS_REGION: STANDIN_REGION,
    },
    operations: () =>
      server.requests.map((r) => String(r.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '')),
    close: () => server.close(),
  };
}

const arn = (what: string) => `arn:aws:kms:${STANDIN_REGION}:${STANDIN_ACCOUNT}:${what}`;
const fault = (type: string, message: string): Reply => ({
  status: 400,
  body: { __type: type, message },
  headers: { 'content-type': 'application/x-amz-json-1.1' },
});
const ok = (body: unknown): Reply => ({ status: 200, body, headers: { 'content-type': 'application/x-amz-json-1.1' } });

/** Resolves a KeyId the way KMS does: key id, key ARN, alias name or alias ARN. */
function resolve(keyId: string, keys: StandInKey[], aliases: Map<string, StandInKey>): StandInKey | undefined {
  const bare = keyId.startsWith('arn:') ? keyId.replace(/^arn:[^:]+:kms:[^:]*:[^:]*:/, '') : keyId;
  if (bare.startsWith('alias/')) return aliases.get(bare);
  return keys.find((k) => k.keyId === bare.replace(/^key\//, ''));
}

function answer(req: RecordedRequest, keys: StandInKey[], aliases: Map<string, StandInKey>): Reply {
  const op = String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
  // Requests are SigV4-signed by the SDKs; the stand-in only checks a signature header is there at all.
  if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''))) {
    return fault('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
  }
  let body: { KeyId?: string; Message?: string; MessageType?: string; SigningAlgorithm?: string };
  try {
    body = JSON.parse(req.body) as typeof body;
  } catch {
    return fault('SerializationException', 'request body is not JSON');
  }
  const key = resolve(body.KeyId ?? '', keys, aliases);
  if (!key) {
    const shown = body.KeyId?.startsWith('alias/') ? arn(body.KeyId) : body.KeyId;
    return fault(
      'NotFoundException',
      body.KeyId?.startsWith('alias/') ? `Alias ${shown} is not found.` : `Key '${shown}' does not exist`,
    );
  }
  const keyArn = arn(`key/${key.keyId}`);
  switch (op) {
    case 'DescribeKey':
      return ok({
        KeyMetadata: {
          AWSAccountId: STANDIN_ACCOUNT,
          KeyId: key.keyId,
          Arn: keyArn,
          CreationDate: 1.7e9,
          Enabled: true,
          KeyState: 'Enabled',
          KeyUsage: key.usage,
          KeySpec: key.spec,
          CustomerMasterKeySpec: key.spec,
          Origin: 'AWS_KMS',
          KeyManager: 'CUSTOMER',
          ...(key.signingAlgorithms
            ? { SigningAlgorithms: key.signingAlgorithms }
            : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
        },
      });
    case 'GetPublicKey':
      if (!key.publicKey)
        return fault(
          'UnsupportedOperationException',
          `${keyArn} key usage is ENCRYPT_DECRYPT and key spec is SYMMETRIC_DEFAULT: no public key`,
        );
      return ok({
        KeyId: keyArn,
        KeySpec: key.spec,
        CustomerMasterKeySpec: key.spec,
        KeyUsage: key.usage,
        SigningAlgorithms: key.signingAlgorithms,
        PublicKey: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      });
    case 'Sign': {
      if (!key.privateKey || key.usage !== 'SIGN_VERIFY')
        return fault('InvalidKeyUsageException', `${keyArn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`);
      if (!key.signingAlgorithms!.includes(body.SigningAlgorithm ?? '')) {
        return fault(
          'InvalidKeyUsageException',
          `Algorithm ${body.SigningAlgorithm} is incompatible with key spec ${key.spec}.`,
        );
      }
      if (body.MessageType !== 'DIGEST')
        return fault('ValidationException', 'the stand-in signs MessageType DIGEST only (what the signers send)');
      const digest = Buffer.from(body.Message ?? '', 'base64');
      if (digest.length !== 32)
        return fault('ValidationException', `Digest is invalid length for algorithm ${body.SigningAlgorithm}.`);
      let signature: Buffer;
      if (body.SigningAlgorithm === 'ECDSA_SHA_256') signature = signDigestP256(key.privateKey, digest);
      else if (body.SigningAlgorithm === 'RSASSA_PKCS1_V1_5_SHA_256')
        signature = signDigestPkcs1Sha256(key.privateKey, digest);
      else return fault('ValidationException', `the stand-in does not implement ${body.SigningAlgorithm}`);
      return ok({ KeyId: keyArn, Signature: signature.toString('base64'), SigningAlgorithm: body.SigningAlgorithm });
    }
    default:
      return fault('UnsupportedOperationException', `the stand-in does not implement ${op || '(no X-Amz-Target)'}`);
  }
}

// DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1): PKCS#1 v1.5 signing is RSA over DigestInfo || digest.
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** RSASSA-PKCS1-v1_5 over a precomputed SHA-256 digest (node:crypto's sign() always hashes the message itself). */
function signDigestPkcs1Sha256(privateKey: KeyObject, digest: Buffer): Buffer {
  return privateEncrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([SHA256_DIGEST_INFO, digest]),
  );
}

/** ECDSA P-256 over a precomputed digest, as KMS does for MessageType DIGEST (node:crypto's sign() always hashes). */
function signDigestP256(privateKey: KeyObject, digest: Buffer): Buffer {
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  return Buffer.from(p256.sign(digest, d, { prehash: false, format: 'der' }));
}
