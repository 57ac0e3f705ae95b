// `chainsmith verify` cross-checked against the real cosign CLI on the same images in the stack's registry:
// for every case (signed, unsigned, wrong key, wrong builder id, tampered image, tampered signature or
// attestation) both must reach the same verdict. Images are signed with the project's own signing code and
// stored by the OciStorer, exactly as the controller stores them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticCredentialSource } from '../src/kube/registry-credentials.js';
import { RegistryClient } from '../src/oci/client.js';
import { cosignImage } from '../src/sigstore/cosign-layout.js';
import { descriptorOf, type ImageManifest } from '../src/oci/manifest.js';
import { OCI_MANIFEST } from '../src/oci/media-types.js';
import type { Signer } from '../src/signing/signer.js';
import { createKmsSigner } from '../src/signing/kms/index.js';
import { DEFAULT_CONFIG } from '../src/config/parse.js';
import { OciStorer } from '../src/storage/oci.js';
import { stackEnv } from './lib/env.js';
import { cosign as runCosign, runTool, type ToolOutcome } from './lib/cosign.js';
import { pushRandomImage } from './lib/registry.js';
import {
  provenancePayload,
  randomRepo,
  registryUnderTest,
  signedRequest,
  simpleSigningPayload,
  testConfig,
  testSigner,
} from './oci-support.js';

const REGISTRY = registryUnderTest();
const GOOD = 'https://chainsmith.dev/builders/good';
const EVIL = 'https://example.com/builders/evil';

const chainsmith = (args: string[]) =>
  runTool(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'verify', ...args]);
const cosign = (args: string[], env: Record<string, string> = {}) =>
  runCosign([...args, '--insecure-ignore-tlog', '--allow-http-registry'], { COSIGN_EXPERIMENTAL: '0', ...env });

/** A CUE policy for cosign requiring an SLSA provenance of `version` that names `builderId`. */
async function builderPolicy(builderId: string, version: 'v0.2' | 'v1'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-verify-cue-'));
  const file = join(dir, 'builder.cue');
  const body =
    version === 'v0.2'
      ? `predicateType: "https://slsa.dev/provenance/v0.2"\npredicate: builder: id: "${builderId}"\n`
      : `predicateType: "https://slsa.dev/provenance/v1"\npredicate: runDetails: builder: id: "${builderId}"\n`;
  await writeFile(file, body);
  return file;
}

/** `cosign verify-attestation --type TYPE` of `ref` with `key`, through a CUE policy on `builderId` when given. */
async function cosignAttestation(
  key: string,
  type: 'slsaprovenance' | 'slsaprovenance1',
  ref: string,
  builderId?: string,
): Promise<ToolOutcome> {
  const policy = builderId
    ? ['--policy', await builderPolicy(builderId, type === 'slsaprovenance' ? 'v0.2' : 'v1')]
    : [];
  return cosign(['verify-attestation', '--key', key, '--type', type, ...policy, ref]);
}

async function sign(signer: Signer, image: { repository: string; digest: string }, repository?: string): Promise<void> {
  const config = repository ? testConfig({ repository }) : testConfig();
  await new OciStorer({ credentials: new StaticCredentialSource() }).store(
    await signedRequest(signer, simpleSigningPayload(image.repository, image.digest), config),
  );
}

async function attest(
  signer: Signer,
  image: { repository: string; digest: string },
  builderId: string,
  version: 'v0.2' | 'v1' = 'v0.2',
): Promise<void> {
  const payload = provenancePayload(
    [{ name: image.repository, digest: { sha256: image.digest.slice(7) } }],
    builderId,
    version,
  );
  await new OciStorer({ credentials: new StaticCredentialSource() }).store(
    await signedRequest(signer, payload, testConfig()),
  );
}

/** Asserts that chainsmith and cosign agree, and that the verdict is `expected` (true = verified). */
function assertAgree(what: string, ours: ToolOutcome, theirs: ToolOutcome, expected: boolean): void {
  assert.equal(
    theirs.code === 0,
    expected,
    `cosign ${what}: expected ${expected ? 'success' : 'failure'}\n${theirs.out}`,
  );
  assert.equal(
    ours.code === 0,
    expected,
    `chainsmith ${what}: expected ${expected ? 'success' : 'failure'}\n${ours.out}`,
  );
  if (!expected) assert.equal(ours.code, 1, `chainsmith ${what}: a verification failure exits 1\n${ours.out}`);
}

/** Rewrites one layer blob of `<repo>:<tag>` (a .sig/.att image) with `edit`, keeping its annotations (the signature). */
async function tamperAttachment(repository: string, tag: string, edit: (blob: Buffer) => Buffer): Promise<void> {
  const [registry, ...path] = repository.split('/');
  const repo = path.join('/');
  const client = new RegistryClient({ registry: registry! });
  const m = await client.getManifest(repo, tag);
  assert.ok(m, `${repository}:${tag} exists`);
  const manifest = JSON.parse(m.bytes.toString()) as ImageManifest;
  const first = manifest.layers[0]!;
  const blob = edit(await client.getBlob(repo, first.digest));
  await client.ensureBlob(repo, blob);
  const layers = [descriptorOf(first.mediaType, blob, first.annotations), ...manifest.layers.slice(1)];
  const image = cosignImage(layers);
  await client.ensureBlob(repo, image.config);
  await client.putManifest(repo, tag, image.manifest, OCI_MANIFEST);
}

test('signed image: chainsmith verify and cosign verify / verify-attestation both accept it', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  await sign(signer, image);
  await attest(signer, image, GOOD);
  const key = join(dir, 'cosign.pub');
  assertAgree(
    'verify',
    await chainsmith(['--key', key, image.ref]),
    await cosign(['verify', '--key', key, image.ref]),
    true,
  );
  const ours = await chainsmith(['--key', key, '--predicate-type', 'slsaprovenance', '--builder-id', GOOD, image.ref]);
  assertAgree('verify-attestation', ours, await cosignAttestation(key, 'slsaprovenance', image.ref, GOOD), true);
  assert.match(ours.out, /VERIFIED/);
  assert.match(ours.out, /PASS\s+builder-id\s+every verified provenance names builder/);
});

test('signed image, verified by tag: the tag is resolved to the signed digest', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  await sign(signer, image);
  const byTag = `${image.repository}:${image.tag}`;
  const key = join(dir, 'cosign.pub');
  const ours = await chainsmith(['--key', key, '--json', byTag]);
  assertAgree('verify by tag', ours, await cosign(['verify', '--key', key, byTag]), true);
  const report = JSON.parse(ours.out) as { digest: string; verified: boolean };
  assert.equal(report.digest, image.digest);
});

test('unsigned image: both reject it, chainsmith naming the missing signature', async () => {
  const { dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  const key = join(dir, 'cosign.pub');
  const ours = await chainsmith(['--key', key, image.ref]);
  assertAgree('verify', ours, await cosign(['verify', '--key', key, image.ref]), false);
  assert.match(ours.out, /first broken link: signature: no signatures found/);
  const att = await chainsmith(['--key', key, '--predicate-type', 'slsaprovenance', image.ref]);
  assertAgree('verify-attestation', att, await cosignAttestation(key, 'slsaprovenance', image.ref), false);
});

test('wrong key: both reject signatures and attestations made with another key', async () => {
  const { signer } = await testSigner();
  const other = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  await sign(signer, image);
  await attest(signer, image, GOOD);
  const key = join(other.dir, 'cosign.pub');
  const ours = await chainsmith(['--key', key, image.ref]);
  assertAgree('verify', ours, await cosign(['verify', '--key', key, image.ref]), false);
  assert.match(ours.out, /signature: none of 1 signature\(s\) is valid: signature: does not verify/);
  assertAgree(
    'verify-attestation',
    await chainsmith(['--key', key, '--predicate-type', 'slsaprovenance', image.ref]),
    await cosignAttestation(key, 'slsaprovenance', image.ref),
    false,
  );
});

for (const version of ['v0.2', 'v1'] as const) {
  const type = version === 'v0.2' ? 'slsaprovenance' : 'slsaprovenance1';
  test(`wrong builder id (SLSA ${version}): both reject it, cosign through a CUE policy`, async () => {
    const { signer, dir } = await testSigner();
    const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
    await sign(signer, image);
    await attest(signer, image, EVIL, version);
    const key = join(dir, 'cosign.pub');
    const ours = await chainsmith(['--key', key, '--predicate-type', type, '--builder-id', GOOD, image.ref]);
    assertAgree('verify-attestation', ours, await cosignAttestation(key, type, image.ref, GOOD), false);
    assert.match(ours.out, new RegExp(`first broken link: builder-id: .*${EVIL.replace(/[./]/g, '\\$&')}`));
    // and the right builder id passes for both
    assertAgree(
      'verify-attestation (right builder)',
      await chainsmith(['--key', key, '--predicate-type', type, '--builder-id', EVIL, image.ref]),
      await cosignAttestation(key, type, image.ref, EVIL),
      true,
    );
  });
}

test('tampered image: a rewritten layer pushed under the same tag no longer matches the signature', async () => {
  const { signer, dir } = await testSigner();
  const repo = `${REGISTRY}/${randomRepo('verify')}`;
  const image = await pushRandomImage(repo);
  await sign(signer, image);
  const key = join(dir, 'cosign.pub');
  const byTag = `${image.repository}:${image.tag}`;
  assertAgree(
    'verify before',
    await chainsmith(['--key', key, byTag]),
    await cosign(['verify', '--key', key, byTag]),
    true,
  );
  // an attacker replaces the image content behind the tag (new layer blob → new manifest)
  const replaced = await pushRandomImage(repo, { tag: image.tag });
  assert.notEqual(replaced.digest, image.digest);
  const ours = await chainsmith(['--key', key, byTag]);
  assertAgree('verify after', ours, await cosign(['verify', '--key', key, byTag]), false);
  assert.match(ours.out, /signature: no signatures found/);
});

test('tampered signature: a rewritten .sig payload blob no longer verifies', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  const other = await pushRandomImage(image.repository);
  await sign(signer, image);
  // the payload now claims another image, the signature annotation is left as it was
  await tamperAttachment(image.repository, `${image.digest.replace(':', '-')}.sig`, (b) =>
    Buffer.from(b.toString().replace(image.digest, other.digest)),
  );
  const key = join(dir, 'cosign.pub');
  const ours = await chainsmith(['--key', key, image.ref]);
  assertAgree('verify', ours, await cosign(['verify', '--key', key, image.ref]), false);
  assert.match(ours.out, /signature: does not verify/);
});

test('tampered attestation: a rewritten statement in the .att envelope no longer verifies', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  await sign(signer, image);
  await attest(signer, image, EVIL);
  await tamperAttachment(image.repository, `${image.digest.replace(':', '-')}.att`, (b) => {
    const env = JSON.parse(b.toString()) as { payload: string };
    const statement = Buffer.from(env.payload, 'base64').toString().replace(EVIL, GOOD);
    return Buffer.from(JSON.stringify({ ...env, payload: Buffer.from(statement).toString('base64') }));
  });
  const key = join(dir, 'cosign.pub');
  const ours = await chainsmith(['--key', key, '--predicate-type', 'slsaprovenance', '--builder-id', GOOD, image.ref]);
  assertAgree('verify-attestation', ours, await cosignAttestation(key, 'slsaprovenance', image.ref, GOOD), false);
  assert.match(ours.out, /first broken link: attestation: none of 1 attestation\(s\) is valid: signature:/);
});

test('bad input exits 2 with one line; --json gives the report to tools', async () => {
  const { dir } = await testSigner();
  const noKey = await chainsmith([`${REGISTRY}/x/y:latest`]);
  assert.equal(noKey.code, 2);
  assert.equal(noKey.out.trim().split('\n').length, 1, noKey.out);
  const badType = await chainsmith([
    '--key',
    join(dir, 'cosign.pub'),
    '--predicate-type',
    'nonsense',
    `${REGISTRY}/x/y:latest`,
  ]);
  assert.equal(badType.code, 2);
  assert.match(badType.out, /--predicate-type "nonsense"/);
  const missing = await chainsmith([
    '--key',
    join(dir, 'cosign.pub'),
    '--json',
    `${REGISTRY}/${randomRepo('verify')}:nope`,
  ]);
  assert.equal(missing.code, 1);
  const report = JSON.parse(missing.out) as { verified: boolean; firstFailure: string };
  assert.equal(report.verified, false);
  assert.match(report.firstFailure, /^digest: .* not found/);
});

test('--kms: an image signed with a Vault transit key verifies with the KMS reference, as with cosign --key hashivault://', async () => {
  const env = stackEnv().vars;
  const vault = { VAULT_ADDR: env.VAULT_ADDR ?? '', VAULT_TOKEN: env.VAULT_TOKEN ?? '' };
  assert.ok(vault.VAULT_ADDR && vault.VAULT_TOKEN, 'the stack runs OpenBao (VAULT_ADDR/VAULT_TOKEN in .stack/env)');
  Object.assign(process.env, vault);
  const ref = `hashivault://${env.CHAINSMITH_VAULT_KEY ?? 'chainsmith-ecdsa-p256'}`;
  const signer = await createKmsSigner({ ...DEFAULT_CONFIG.signers.kms, kmsref: ref });
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  await sign(signer, image);
  await attest(signer, image, GOOD);
  const ours = await chainsmith(['--kms', ref, '--predicate-type', 'slsaprovenance', '--builder-id', GOOD, image.ref]);
  assertAgree('verify --kms', ours, await cosign(['verify', '--key', ref, image.ref]), true);
  const { dir } = await testSigner();
  assertAgree(
    'verify other key',
    await chainsmith(['--key', join(dir, 'cosign.pub'), image.ref]),
    await cosign(['verify', '--key', join(dir, 'cosign.pub'), image.ref]),
    false,
  );
});

test('storage.oci.repository: signatures in another repository are found with --repository, as cosign finds them with COSIGN_REPOSITORY', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('verify')}`);
  const sigRepo = `${REGISTRY}/${randomRepo('verify-sigs')}`;
  await sign(signer, image, sigRepo);
  const key = join(dir, 'cosign.pub');
  assertAgree(
    'verify without the override',
    await chainsmith(['--key', key, image.ref]),
    await cosign(['verify', '--key', key, image.ref]),
    false,
  );
  assertAgree(
    'verify with the override',
    await chainsmith(['--key', key, '--repository', sigRepo, image.ref]),
    await cosign(['verify', '--key', key, image.ref], { COSIGN_REPOSITORY: sigRepo }),
    true,
  );
});
