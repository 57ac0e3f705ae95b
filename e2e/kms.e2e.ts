// KMS signers end to end. hashivault:// runs against a real HashiCorp Vault 1.13 dev server with the transit
// engine (stack add-on e2e/stack/addons/vault-up.sh). awskms:// runs through the real @aws-sdk/client-kms against a
// loopback AWS KMS stand-in (test/signing/kms/aws-kms-standin.ts): no AWS-KMS-compatible server can be installed
// here from the package registries (local-kms is refused by the Go module proxy: `go list -m -json
// github.com/nsmithuk/local-kms@v3.12.0+incompatible` → 403). Each signature must verify with node:crypto against
// the public key the KMS itself reports, and with the real cosign CLI, both with the exported public key and with
// cosign's own KMS reference where cosign can verify that way.
import assert from 'node:assert/strict';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { ChainsConfig } from '../src/config/types.js';
import { ChainsmithError } from '../src/errors.js';
import { createEnvelope, verifyEnvelope } from '../src/sigstore/dsse.js';
import { keyIdOf } from '../src/signing/ssh-key.js';
import { createKmsSigner } from '../src/signing/kms/index.js';
import type { Signer } from '../src/signing/signer.js';
import { startAwsKmsStandIn, type AwsKmsStandIn } from '../test/signing/kms/aws-kms-standin.js';
import { stackEnv } from './lib/index.js';
import { closedPort, cosign } from './lib/cosign.js';

const env = stackEnv();
/** A variable of the stack's environment (an add-on's export), or a clear failure naming the add-on. */
function stackVar(name: string, addon: string): string {
  const v = process.env[name] ?? env.vars[name];
  const unavailable =
    process.env[`CHAINSMITH_${addon.toUpperCase()}_UNAVAILABLE`] ??
    env.vars[`CHAINSMITH_${addon.toUpperCase()}_UNAVAILABLE`];
  if (unavailable) throw new Error(`the ${addon} stack add-on could not start its server: ${unavailable}`);
  if (!v)
    throw new Error(
      `${name} is not in the stack environment: the ${addon} add-on (e2e/stack/addons/${addon}-up.sh) did not run; restart the stack (npm run stack:down && npm run stack:up)`,
    );
  return v;
}

type KmsConfig = ChainsConfig['signers']['kms'];
const kmsConfig = (kmsref: string, auth: Partial<KmsConfig['auth']> = {}): KmsConfig => ({
  kmsref,
  auth: { oidc: {}, spire: {}, ...auth },
});

const work = mkdtempSync(join(tmpdir(), 'chainsmith-kms-e2e-'));
const PAYLOAD = Buffer.from(
  `{"critical":{"identity":{"docker-reference":"${env.registry}/kms/app"},"image":{"docker-manifest-digest":"sha256:${'cd'.repeat(32)}"},"type":"cosign container image signature"},"optional":null}`,
);
const BLOB = join(work, 'payload.json');
writeFileSync(BLOB, PAYLOAD);

/** Signs PAYLOAD, writes signature and exported public key, and checks cosign verify-blob --key <pub> accepts it. */
async function assertCosignAcceptsExportedKey(signer: Signer, name: string): Promise<string> {
  const sig = await signer.sign(PAYLOAD);
  const sigFile = join(work, `${name}.sig`);
  const pubFile = join(work, `${name}.pub`);
  writeFileSync(sigFile, sig.toString('base64'));
  writeFileSync(pubFile, signer.publicKey().export({ type: 'spki', format: 'pem' }));
  const res = await cosign(['verify-blob', '--key', pubFile, '--signature', sigFile, '--insecure-ignore-tlog', BLOB]);
  assert.equal(res.code, 0, `cosign verify-blob --key ${name}.pub rejected the signature:\n${res.out}`);
  assert.match(res.out, /Verified OK/);
  // and a tampered payload must not verify: cosign really checked the signature
  const tampered = join(work, `${name}.tampered`);
  writeFileSync(tampered, Buffer.concat([PAYLOAD, Buffer.from(' ')]));
  const bad = await cosign([
    'verify-blob',
    '--key',
    pubFile,
    '--signature',
    sigFile,
    '--insecure-ignore-tlog',
    tampered,
  ]);
  assert.notEqual(bad.code, 0, 'cosign accepted a signature over different bytes');
  return sigFile;
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

async function rejectsWith(p: Promise<unknown>, reason: string, secret?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ChainsmithError, String(e));
    assert.equal(e.reason, reason, e.message);
    if (secret) assert.ok(!e.message.includes(secret), `secret leaked into: ${e.message}`);
    return true;
  });
}

describe('hashivault:// against Vault transit', () => {
  const addr = () => stackVar('VAULT_ADDR', 'vault');
  const token = () => stackVar('VAULT_TOKEN', 'vault');
  const vaultEnv = () => ({ VAULT_ADDR: addr(), VAULT_TOKEN: token() });

  /** The public key of the transit key's latest version, read independently of the signer. */
  async function transitPublicKey(name: string): Promise<KeyObject> {
    const res = await fetch(`${addr()}/v1/transit/keys/${name}`, { headers: { 'x-vault-token': token() } });
    assert.equal(res.status, 200);
    const data = (
      (await res.json()) as {
        data: { type: string; latest_version: number; keys: Record<string, { public_key: string }> };
      }
    ).data;
    const text = data.keys[String(data.latest_version)]!.public_key;
    return data.type === 'ed25519'
      ? createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(text, 'base64').toString('base64url') },
          format: 'jwk',
        })
      : createPublicKey(text);
  }

  for (const [type, hash] of [
    ['ecdsa-p256', 'sha256'],
    ['ecdsa-p384', 'sha256'],
    ['ecdsa-p521', 'sha256'],
    ['ed25519', null],
    ['rsa-2048', 'sha256'],
  ] as const) {
    it(`signs with a ${type} transit key: verifies against Vault's public key and with cosign verify-blob --key <exported>`, async () => {
      const name = `chainsmith-${type}`;
      const signer = await createKmsSigner(kmsConfig(`hashivault://${name}`, { address: addr(), token: token() }));
      const reported = await transitPublicKey(name);
      assert.ok(sameKey(signer.publicKey(), reported), 'the signer uses the key Vault reports');
      const sig = await signer.sign(PAYLOAD);
      assert.ok(
        verify(hash, PAYLOAD, { key: reported, dsaEncoding: 'der' }, sig),
        'node:crypto verifies the signature',
      );
      const sigFile = await assertCosignAcceptsExportedKey(signer, `vault-${type}`);
      if (type.startsWith('ecdsa')) {
        // cosign's own hashivault:// path verifies remotely through Vault's transit/verify.
        const remote = await cosign(
          ['verify-blob', '--key', `hashivault://${name}`, '--signature', sigFile, '--insecure-ignore-tlog', BLOB],
          vaultEnv(),
        );
        assert.equal(remote.code, 0, `cosign verify-blob --key hashivault://${name} rejected it:\n${remote.out}`);
      }
    });
  }

  it('produces DSSE envelopes whose keyid is the fingerprint of the KMS key', async () => {
    const signer = await createKmsSigner(
      kmsConfig('hashivault://chainsmith-ecdsa-p256', { address: addr(), token: token() }),
    );
    const envelope = await createEnvelope(signer, Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}'));
    const checked = verifyEnvelope(envelope, await transitPublicKey('chainsmith-ecdsa-p256'));
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
    assert.equal(checked.keyid, keyIdOf(signer.publicKey()));
  });

  it('reads VAULT_ADDR and VAULT_TOKEN from the environment when the config names neither', async () => {
    const saved = { a: process.env.VAULT_ADDR, t: process.env.VAULT_TOKEN };
    Object.assign(process.env, vaultEnv());
    try {
      const signer = await createKmsSigner(kmsConfig('openbao://chainsmith-ecdsa-p256'));
      assert.ok(verify('sha256', PAYLOAD, { key: signer.publicKey(), dsaEncoding: 'der' }, await signer.sign(PAYLOAD)));
    } finally {
      for (const [k, v] of [
        ['VAULT_ADDR', saved.a],
        ['VAULT_TOKEN', saved.t],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('accepts signatures cosign made with the same key (cosign sign-blob --key hashivault://)', async () => {
    const out = join(work, 'cosign-made.sig');
    const res = await cosign(
      [
        'sign-blob',
        '--yes',
        '--tlog-upload=false',
        '--key',
        'hashivault://chainsmith-ecdsa-p256',
        '--output-signature',
        out,
        BLOB,
      ],
      vaultEnv(),
    );
    assert.equal(res.code, 0, res.out);
    const signer = await createKmsSigner(
      kmsConfig('hashivault://chainsmith-ecdsa-p256', { address: addr(), token: token() }),
    );
    const cosignSig = Buffer.from(readFileSync(out, 'utf8').trim(), 'base64');
    assert.ok(
      verify('sha256', PAYLOAD, { key: signer.publicKey(), dsaEncoding: 'der' }, cosignSig),
      'same key, same hash, same encoding as cosign',
    );
  });

  it('fails with stable reasons for a key that cannot sign, an unknown key, a bad token and an unreachable server', async () => {
    await rejectsWith(
      createKmsSigner(kmsConfig('hashivault://chainsmith-aes256-gcm96', { address: addr(), token: token() })),
      'KmsKeyUnsupported',
    );
    await rejectsWith(
      createKmsSigner(kmsConfig('hashivault://no-such-key', { address: addr(), token: token() })),
      'KmsKeyNotFound',
    );
    const badToken = 'hvs.this-token-is-not-valid-0123';
    await rejectsWith(
      createKmsSigner(kmsConfig('hashivault://chainsmith-ecdsa-p256', { address: addr(), token: badToken })),
      'KmsPermissionDenied',
      badToken,
    );
    const dead = `http://127.0.0.1:${await closedPort()}`;
    await rejectsWith(
      createKmsSigner(kmsConfig('hashivault://chainsmith-ecdsa-p256', { address: dead, token: token() }), {
        retries: 1,
        backoffMs: 10,
      }),
      'KmsUnavailable',
      token(),
    );
  });
});

describe('awskms:// through @aws-sdk/client-kms against a loopback AWS KMS stand-in', () => {
  let kms: AwsKmsStandIn;
  before(async () => {
    kms = await startAwsKmsStandIn();
  });
  after(() => kms.close());

  /** Runs fn with the stand-in's AWS variables in process.env (the SDK's default chain reads them there). */
  async function withAwsEnv<T>(fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(kms.env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, kms.env);
    try {
      return await fn();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  /** The public key the stand-in reports, read with a client of our own (not the signer's). */
  async function reportedPublicKey(keyId: string): Promise<KeyObject> {
    const client = new KMSClient({
      endpoint: kms.url,
      region: kms.env.AWS_REGION,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    return createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
  }

  for (const [label, keyId] of [
    ['alias/chainsmith (ECDSA P-256)', () => 'alias/chainsmith'],
    ['its key id', () => kms.keyIds.ecdsa],
    ['its key ARN', () => `arn:aws:kms:us-east-1:111122223333:key/${kms.keyIds.ecdsa}`],
    ['alias/chainsmith-rsa (RSA-2048)', () => 'alias/chainsmith-rsa'],
  ] as const) {
    it(`signs with ${label}: verifies against the reported public key and with cosign verify-blob --key <exported>`, async () => {
      const signer = await withAwsEnv(() => createKmsSigner(kmsConfig(`awskms:///${keyId()}`)));
      assert.ok(
        sameKey(signer.publicKey(), await reportedPublicKey(keyId())),
        'the signer uses the key the KMS reports',
      );
      kms.requests.length = 0;
      const sig = await withAwsEnv(() => signer.sign(PAYLOAD));
      assert.deepEqual(kms.operations(), ['Sign'], 'one Sign call per signature; the public key is not fetched again');
      const sent = JSON.parse(kms.requests[0]!.body) as { MessageType: string; SigningAlgorithm: string };
      assert.equal(sent.MessageType, 'DIGEST');
      assert.equal(sent.SigningAlgorithm, label.includes('RSA') ? 'RSASSA_PKCS1_V1_5_SHA_256' : 'ECDSA_SHA_256');
      assert.ok(
        verify('sha256', PAYLOAD, { key: signer.publicKey(), dsaEncoding: 'der' }, sig),
        'node:crypto verifies the signature',
      );
      const sigFile = await assertCosignAcceptsExportedKey(signer, `aws-${label.replace(/\W+/g, '-')}`);
      // cosign's own awskms:// (aws-sdk-go-v2, AWS_ENDPOINT_URL) reads DescribeKey + GetPublicKey and verifies locally
      // with the key's first listed algorithm: ECDSA_SHA_256 here; RSASSA_PSS_SHA_256 for RSA keys, so cosign rejects
      // our PKCS#1 v1.5 RSA signatures that way (docs/compatibility.md, "KMS signers") — users verify those with the
      // exported public key, as checked above.
      const remote = await cosign(
        ['verify-blob', '--key', `awskms:///${keyId()}`, '--signature', sigFile, '--insecure-ignore-tlog', BLOB],
        kms.env,
      );
      if (label.includes('RSA')) {
        assert.notEqual(
          remote.code,
          0,
          `cosign verify-blob --key awskms:// accepted a PKCS#1 v1.5 signature on a PSS-first key:\n${remote.out}`,
        );
        assert.match(
          remote.out,
          /crypto\/rsa: verification error/,
          'cosign reached the key and failed the PSS check (not a connection problem)',
        );
      } else assert.equal(remote.code, 0, `cosign verify-blob --key awskms:///${keyId()} rejected it:\n${remote.out}`);
      assert.ok(kms.operations().includes('DescribeKey'), 'cosign asked the stand-in, not something else');
    });
  }

  it('fails with stable reasons for a non-signing key, an unknown alias and an unreachable endpoint', async () => {
    await withAwsEnv(async () => {
      await rejectsWith(createKmsSigner(kmsConfig('awskms:///alias/chainsmith-aes')), 'KmsKeyUnsupported');
      await rejectsWith(createKmsSigner(kmsConfig('awskms:///alias/no-such-alias')), 'KmsKeyNotFound');
    });
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const saved = process.env.AWS_ENDPOINT_URL;
    await withAwsEnv(async () => {
      process.env.AWS_ENDPOINT_URL = dead;
      await rejectsWith(
        createKmsSigner(kmsConfig('awskms:///alias/chainsmith'), { retries: 1, backoffMs: 10 }),
        'KmsUnavailable',
      );
    });
    assert.equal(process.env.AWS_ENDPOINT_URL, saved);
  });
});
