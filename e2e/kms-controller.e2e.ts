// The controller signing with a KMS key, end to end: chains-config selects `signer: kms` with a hashivault://
// reference (a real HashiCorp Vault 1.13 dev server from the stack add-on e2e/stack/addons/vault-up.sh) or an
// awskms:// one (the real @aws-sdk/client-kms against the loopback AWS KMS stand-in in
// test/signing/kms/aws-kms-standin.ts: no AWS-KMS-compatible server is installable here — local-kms is refused by
// the Go module proxy, `go list -m -json github.com/nsmithuk/local-kms@v3.12.0+incompatible` → 403). A TaskRun that
// built an image is signed, its provenance stored in annotations (tekton) and next to the image (oci), and the image
// signature and attestation verify with the real cosign CLI against the public key the KMS reports. A key that
// cannot sign must never yield signed=true.
import assert from 'node:assert/strict';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { keyIdOf } from '../src/signing/ssh-key.js';
import { startAwsKmsStandIn, type AwsKmsStandIn } from '../test/signing/kms/aws-kms-standin.js';
import type { Run } from '../src/tekton/types.js';
import {
  createNamespace,
  eventsOf,
  getTaskRun,
  stackEnv,
  waitFor,
  type ControllerProcess,
  type CoreEvent,
} from './lib/index.js';
import { pushRandomImage } from './lib/registry.js';
import { closedPort, cosign } from './lib/cosign.js';
import { completeImageTaskRun, startSigningController, writeChainsConfig } from './lib/scenario.js';

const env = stackEnv();
const v = (name: string, addon: string): string => {
  const unavailable = env.vars[`CHAINSMITH_${addon.toUpperCase()}_UNAVAILABLE`];
  if (unavailable) throw new Error(`the ${addon} stack add-on could not start its server: ${unavailable}`);
  const value = process.env[name] ?? env.vars[name];
  if (!value)
    throw new Error(
      `${name} is not in the stack environment: restart the stack so e2e/stack/addons/${addon}-up.sh runs`,
    );
  return value;
};

/** Waits for a Warning Event on `name` whose reason, message or note matches `pattern`. */
async function warningEvent(
  ns: string,
  name: string,
  pattern: RegExp,
  timeoutMs: number,
  description: string,
): Promise<CoreEvent> {
  return waitFor(
    async () =>
      (await eventsOf(ns, { name })).find(
        (e) => e.type === 'Warning' && pattern.test(`${e.reason} ${e.message ?? ''}`),
      ),
    {
      timeoutMs,
      description,
    },
  );
}

function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

interface Setup {
  ns: string;
  controller: ControllerProcess;
  secretsDir: string;
}

/** A namespace pair, chains-config signing everything with `kmsref`, and a controller for them. */
async function setup(prefix: string, kmsref: string, controllerEnv: Record<string, string> = {}): Promise<Setup> {
  const ns = await createNamespace(prefix);
  const systemNs = await createNamespace(`${prefix}-sys`);
  await writeChainsConfig(systemNs, {
    'artifacts.taskrun.format': 'in-toto',
    'artifacts.taskrun.storage': 'tekton,oci',
    'artifacts.taskrun.signer': 'kms',
    'artifacts.oci.storage': 'oci,tekton',
    'artifacts.oci.signer': 'kms',
    'signers.kms.kmsref': kmsref,
  });
  // An empty signing-secrets dir: nothing may be signed with a file key.
  const secretsDir = await mkdtemp(join(tmpdir(), 'chainsmith-kms-secrets-'));
  const controller = await startSigningController(ns, systemNs, secretsDir, { env: controllerEnv });
  return { ns, controller, secretsDir };
}

async function teardown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.controller.stop();
  await rm(s.secretsDir, { recursive: true, force: true });
}

/** Completes a TaskRun that built `image` and waits until it is marked signed. */
async function signedTaskRun(s: Setup, image: { repository: string; digest: string }): Promise<Run> {
  const name = await completeImageTaskRun(s.ns, image);
  return waitFor(
    async () => {
      const r = await getTaskRun(s.ns, name);
      const signed = r.metadata.annotations?.['chains.tekton.dev/signed'];
      if (signed === 'failed') throw new Error(`run marked failed:\n${s.controller.logs().slice(-3000)}`);
      return signed === 'true' ? r : undefined;
    },
    { timeoutMs: 60_000, description: 'chains.tekton.dev/signed=true' },
  );
}

/** Checks a signed run against the KMS public key: DSSE in annotations, cosign verify and verify-attestation. */
async function assertSignedWith(
  s: Setup,
  image: { ref: string; repository: string; digest: string },
  reported: KeyObject,
  cosignKmsRef: string,
  kmsEnv: Record<string, string>,
): Promise<void> {
  const tr = await signedTaskRun(s, image);
  const a = tr.metadata.annotations!;
  const uid = tr.metadata.uid!;
  const envelope = JSON.parse(Buffer.from(a[`chains.tekton.dev/signature-taskrun-${uid}`]!, 'base64').toString()) as {
    payloadType: string;
    payload: string;
    signatures: Array<{ keyid: string; sig: string }>;
  };
  const message = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
  assert.ok(
    verify(
      'sha256',
      message,
      { key: reported, dsaEncoding: 'der' },
      Buffer.from(envelope.signatures[0]!.sig, 'base64'),
    ),
    'DSSE signature verifies with the KMS public key',
  );
  assert.equal(envelope.signatures[0]!.keyid, keyIdOf(reported), 'keyid is the fingerprint of the KMS key');

  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-kms-pub-'));
  const pub = join(dir, 'kms.pub');
  await writeFile(pub, reported.export({ type: 'spki', format: 'pem' }));
  const flags = ['--insecure-ignore-tlog', '--allow-http-registry'];
  const sig = await cosign(['verify', '--key', pub, ...flags, image.ref]);
  assert.equal(sig.code, 0, `cosign verify --key <KMS public key>:\n${sig.out}`);
  assert.match(sig.out, new RegExp(`"docker-manifest-digest":"${image.digest}"`));
  const att = await cosign(['verify-attestation', '--key', pub, '--type', 'slsaprovenance', ...flags, image.ref]);
  assert.equal(att.code, 0, `cosign verify-attestation --key <KMS public key>:\n${att.out}`);
  // cosign's own KMS reference (it verifies through the KMS) accepts the image signature too.
  const viaKms = await cosign(['verify', '--key', cosignKmsRef, ...flags, image.ref], kmsEnv);
  assert.equal(viaKms.code, 0, `cosign verify --key ${cosignKmsRef}:\n${viaKms.out}`);
  await rm(dir, { recursive: true, force: true });
}

describe('controller with signer kms: hashivault:// (Vault)', () => {
  let s: Setup;
  before(async () => {
    s = await setup('kms-vault', 'hashivault://chainsmith-ecdsa-p256');
  });
  after(() => teardown(s));

  test('a TaskRun is signed with the transit key: tekton and oci storage verify against the key Vault reports, and with cosign', async () => {
    const addr = v('VAULT_ADDR', 'vault');
    const token = v('VAULT_TOKEN', 'vault');
    const res = await fetch(`${addr}/v1/transit/keys/chainsmith-ecdsa-p256`, { headers: { 'x-vault-token': token } });
    const data = (
      (await res.json()) as { data: { latest_version: number; keys: Record<string, { public_key: string }> } }
    ).data;
    const reported = createPublicKey(data.keys[String(data.latest_version)]!.public_key);
    const image = await pushRandomImage(`${env.registry}/kms-e2e/vault-app`);
    await assertSignedWith(s, image, reported, 'hashivault://chainsmith-ecdsa-p256', {
      VAULT_ADDR: addr,
      VAULT_TOKEN: token,
    });
    assert.ok(!s.controller.logs().includes(token), 'the Vault token never appears in the controller log');
  });
});

describe('controller with signer kms: awskms:// (loopback AWS KMS stand-in)', () => {
  let kms: AwsKmsStandIn;
  let s: Setup;
  before(async () => {
    kms = await startAwsKmsStandIn();
    // The controller's SDK finds the stand-in through its default chain, as it would find AWS: env variables.
    s = await setup('kms-aws', 'awskms:///alias/chainsmith', kms.env);
  });
  after(async () => {
    await teardown(s);
    await kms.close();
  });

  test('a TaskRun is signed with the KMS key: tekton and oci storage verify against the key the KMS reports, and with cosign', async () => {
    const client = new KMSClient({
      endpoint: kms.url,
      region: kms.env.AWS_REGION,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const out = await client.send(new GetPublicKeyCommand({ KeyId: 'alias/chainsmith' }));
    const reported = createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
    const image = await pushRandomImage(`${env.registry}/kms-e2e/aws-app`);
    await assertSignedWith(s, image, reported, 'awskms:///alias/chainsmith', kms.env);
    const signs = kms.operations().filter((op) => op === 'Sign').length;
    assert.ok(
      signs >= 2,
      `the controller signed through the KMS (image signature and attestation): ${signs} Sign calls`,
    );
  });
});

describe('controller with signer kms: a key that cannot sign', () => {
  let s: Setup;
  before(async () => {
    s = await setup('kms-bad', 'hashivault://chainsmith-aes256-gcm96');
  });
  after(() => teardown(s));

  test('the run is never marked signed=true; a Warning Event and the log name KmsKeyUnsupported', async () => {
    const image = await pushRandomImage(`${env.registry}/kms-e2e/bad-app`);
    const name = await completeImageTaskRun(s.ns, image);
    assert.ok(
      await warningEvent(
        s.ns,
        name,
        /KmsKeyUnsupported|cannot sign/,
        60_000,
        'a Warning Event naming the unsupported KMS key',
      ),
    );
    await s.controller.waitForLog(/KmsKeyUnsupported/, 30_000);
    const now = await getTaskRun(s.ns, name);
    assert.notEqual(now.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
    assert.ok(
      !s.controller.logs().includes(v('VAULT_TOKEN', 'vault')),
      'the Vault token never appears in the controller log',
    );
  });
});

describe('controller with signer kms: an unreachable KMS', () => {
  let s: Setup;
  before(async () => {
    s = await setup('kms-down', 'hashivault://chainsmith-ecdsa-p256', {
      VAULT_ADDR: `http://127.0.0.1:${await closedPort()}`,
    });
  });
  after(() => teardown(s));

  test('the run is not marked signed=true; a Warning Event and the log name KmsUnavailable, without the token', async () => {
    const image = await pushRandomImage(`${env.registry}/kms-e2e/down-app`);
    const name = await completeImageTaskRun(s.ns, image);
    assert.ok(
      await warningEvent(
        s.ns,
        name,
        /KmsUnavailable|ECONNREFUSED/,
        90_000,
        'a Warning Event naming the unreachable KMS',
      ),
    );
    await s.controller.waitForLog(/KmsUnavailable/, 30_000);
    const now = await getTaskRun(s.ns, name);
    assert.notEqual(now.metadata.annotations?.['chains.tekton.dev/signed'], 'true');
    assert.ok(
      !s.controller.logs().includes(v('VAULT_TOKEN', 'vault')),
      'the Vault token never appears in the controller log',
    );
  });
});
