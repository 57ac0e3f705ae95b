// What the `oci` store pushes is accepted by the real cosign CLI (v2.6.x): `cosign verify` for image
// signatures, `cosign verify-attestation` with CUE and Rego policies for SLSA v0.2 and v1.0 provenance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticCredentialSource } from '../src/kube/registry-credentials.js';
import { platformManifests } from '../src/oci/platforms.js';
import { loadFileSigner } from '../src/signing/keys.js';
import type { Signer } from '../src/signing/signer.js';
import { OciStorer } from '../src/storage/oci.js';
import { layersOf, pushRandomImage } from './lib/registry.js';
import { cosign as runCosign } from './lib/cosign.js';
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
const hexOf = (digest: string) => digest.slice('sha256:'.length);
const GOOD = 'https://chainsmith.dev/builders/good';

/** Runs cosign with COSIGN_EXPERIMENTAL off; returns exit status and output instead of throwing, so failures can be asserted. */
const cosign = (args: string[], env: Record<string, string> = {}) =>
  runCosign(args, { COSIGN_EXPERIMENTAL: '0', ...env });

const verifyArgs = (dir: string) => [
  '--key',
  join(dir, 'cosign.pub'),
  '--insecure-ignore-tlog',
  '--allow-http-registry',
];

/** A new dir with a key pair made by `cosign generate-key-pair` (cosign.key encrypted with `password`, cosign.pub). */
async function cosignKeyPair(password: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-cosign-key-'));
  const gen = await cosign(['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], {
    COSIGN_PASSWORD: password,
  });
  assert.equal(gen.code, 0, gen.out);
  return dir;
}

function storer(): OciStorer {
  return new OciStorer({ credentials: new StaticCredentialSource() });
}

async function signImage(signer: Signer, image: { repository: string; digest: string }): Promise<void> {
  await storer().store(await signedRequest(signer, simpleSigningPayload(image.repository, image.digest), testConfig()));
}

test('cosign verify accepts an image signed by the oci store and rejects an unsigned one', async () => {
  const { signer, dir } = await testSigner();
  const repo = `${REGISTRY}/${randomRepo('cosign')}`;
  const signed = await pushRandomImage(repo);
  const unsigned = await pushRandomImage(repo);
  await signImage(signer, signed);
  const ok = await cosign(['verify', ...verifyArgs(dir), signed.ref]);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, new RegExp(`"docker-manifest-digest":"${signed.digest}"`));
  const bad = await cosign(['verify', ...verifyArgs(dir), unsigned.ref]);
  assert.notEqual(bad.code, 0, bad.out);
  assert.match(bad.out, /no signatures found|no matching signatures/);
});

test('cosign verify rejects a signature made with another key', async () => {
  const { signer } = await testSigner();
  const other = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign')}`);
  await signImage(signer, image);
  const res = await cosign(['verify', ...verifyArgs(other.dir), image.ref]);
  assert.notEqual(res.code, 0, res.out);
});

test('keys made by `cosign generate-key-pair` with a password sign what cosign then verifies', async () => {
  const dir = await cosignKeyPair('correct horse');
  await writeFile(join(dir, 'cosign.password'), 'correct horse');
  const signer = await loadFileSigner(dir);
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign')}`);
  await signImage(signer, image);
  const res = await cosign(['verify', ...verifyArgs(dir), image.ref]);
  assert.equal(res.code, 0, res.out);
});

async function writePolicies(
  dir: string,
  path: 'predicate.builder.id' | 'predicate.runDetails.builder.id',
  builderId: string,
): Promise<{ cue: string; rego: string }> {
  const cue = join(dir, `builder-${path.length}.cue`);
  const rego = join(dir, `builder-${path.length}.rego`);
  const cueBody =
    path === 'predicate.builder.id'
      ? `predicate: builder: id: "${builderId}"\n`
      : `predicate: runDetails: builder: id: "${builderId}"\n`;
  await writeFile(cue, cueBody);
  await writeFile(rego, `package signature\n\nallow {\n  input.${path} == "${builderId}"\n}\n`);
  return { cue, rego };
}

const PROVENANCE = [
  { version: 'v0.2', path: 'predicate.builder.id', type: 'slsaprovenance', otherType: 'slsaprovenance1' },
  { version: 'v1', path: 'predicate.runDetails.builder.id', type: 'slsaprovenance1', otherType: 'slsaprovenance' },
] as const;

for (const { version, path, type, otherType } of PROVENANCE) {
  test(`cosign verify-attestation --type ${type} with CUE and Rego policies on ${path}`, async () => {
    const { signer, dir } = await testSigner();
    const image = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign')}`);
    const subject = [{ name: image.repository, digest: { sha256: hexOf(image.digest) } }];
    await storer().store(await signedRequest(signer, provenancePayload(subject, GOOD, version), testConfig()));

    const good = await writePolicies(dir, path, GOOD);
    const wrong = await writePolicies(await mkdtemp(join(tmpdir(), 'policy-')), path, 'https://someone.else/builder');
    const verifyWith = (policy: string) =>
      cosign(['verify-attestation', ...verifyArgs(dir), '--type', type, '--policy', policy, image.ref]);
    for (const policy of [good.cue, good.rego]) {
      const res = await verifyWith(policy);
      assert.equal(res.code, 0, `${policy}: ${res.out}`);
    }
    for (const policy of [wrong.cue, wrong.rego]) {
      const res = await verifyWith(policy);
      assert.notEqual(res.code, 0, `${policy} must fail: ${res.out}`);
      assert.match(res.out, /validation error/, res.out);
    }
    // The statement does not match the other SLSA version's type.
    const mismatch = await cosign(['verify-attestation', ...verifyArgs(dir), '--type', otherType, image.ref]);
    assert.notEqual(mismatch.code, 0, mismatch.out);
  });
}

test('retried and concurrent attestation stores: one layer per statement, every statement verifies', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign')}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const subject = [{ name: image.repository, digest: { sha256: hexOf(image.digest) } }];
  const s = storer();
  const taskRun = provenancePayload(subject, GOOD);
  const pipelineRun = provenancePayload(subject, 'https://chainsmith.dev/builders/pipeline');
  await Promise.all([
    s.store(await signedRequest(signer, taskRun, testConfig())),
    s.store(await signedRequest(signer, pipelineRun, testConfig())),
    s.store(await signedRequest(signer, taskRun, testConfig())),
  ]);
  assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.att`)).length, 2);
  const res = await cosign(['verify-attestation', ...verifyArgs(dir), '--type', 'slsaprovenance', image.ref]);
  assert.equal(res.code, 0, res.out);
  assert.equal(res.out.match(/"payloadType":"application\/vnd.in-toto\+json"/g)?.length, 2, res.out);
});

test('a signature from cosign itself stays next to ours: append, never replace', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign')}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const keyDir = await cosignKeyPair('');
  const attested = await cosign(
    [
      'attest',
      '--key',
      join(keyDir, 'cosign.key'),
      '--type',
      'slsaprovenance',
      '--predicate',
      await predicateFile(),
      '--tlog-upload=false',
      '--allow-http-registry',
      '-y',
      image.ref,
    ],
    { COSIGN_PASSWORD: '' },
  );
  assert.equal(attested.code, 0, attested.out);
  const subject = [{ name: image.repository, digest: { sha256: hexOf(image.digest) } }];
  await storer().store(await signedRequest(signer, provenancePayload(subject, GOOD), testConfig()));
  const layers = await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.att`);
  assert.equal(layers.length, 2);
  assert.equal(
    (await cosign(['verify-attestation', ...verifyArgs(keyDir), '--type', 'slsaprovenance', image.ref])).code,
    0,
  );
  assert.equal(
    (await cosign(['verify-attestation', ...verifyArgs(dir), '--type', 'slsaprovenance', image.ref])).code,
    0,
  );
});

async function predicateFile(): Promise<string> {
  const p = join(await mkdtemp(join(tmpdir(), 'predicate-')), 'predicate.json');
  await writeFile(
    p,
    JSON.stringify({ builder: { id: 'https://cosign.cli/builder' }, buildType: 'x', invocation: {}, materials: [] }),
  );
  return p;
}

test('multi-arch: the index digest is signed as given, and each platform manifest when asked', async () => {
  const { signer, dir } = await testSigner();
  const index = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign')}`, { mediaType: 'index' });
  await signImage(signer, index);
  assert.equal((await cosign(['verify', ...verifyArgs(dir), index.ref])).code, 0);
  const platforms = await platformManifests(index.ref);
  assert.deepEqual(platforms, index.platformDigests);
  // Before platform signing, a platform image is unsigned.
  assert.notEqual((await cosign(['verify', ...verifyArgs(dir), `${index.repository}@${platforms[0]}`])).code, 0);
  for (const digest of platforms) await signImage(signer, { repository: index.repository, digest });
  for (const digest of platforms) {
    const res = await cosign(['verify', ...verifyArgs(dir), `${index.repository}@${digest}`]);
    assert.equal(res.code, 0, res.out);
  }
});

test('an image cosign already signed with another key still gets our signature (same payload, different key)', async () => {
  const { signer, dir } = await testSigner();
  const image = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign')}`);
  const repository = image.repository.slice(REGISTRY.length + 1);
  const keyDir = await cosignKeyPair('');
  const signedByCosign = await cosign(
    ['sign', '--key', join(keyDir, 'cosign.key'), '--tlog-upload=false', '--allow-http-registry', '-y', image.ref],
    { COSIGN_PASSWORD: '' },
  );
  assert.equal(signedByCosign.code, 0, signedByCosign.out);
  assert.notEqual((await cosign(['verify', ...verifyArgs(dir), image.ref])).code, 0, 'not yet signed with our key');

  const payload = simpleSigningPayload(image.repository, image.digest);
  const s = storer();
  await s.store(await signedRequest(signer, payload, testConfig(), undefined, { withPublicKey: true }));
  // a retry re-signs (new ECDSA bytes) and must not add a second layer of ours
  await s.store(await signedRequest(signer, payload, testConfig(), undefined, { withPublicKey: true }));
  const layers = await layersOf(`${REGISTRY}/${repository}`, `sha256-${hexOf(image.digest)}.sig`);
  assert.equal(layers.length, 2, JSON.stringify(layers));
  assert.equal(layers[0]?.digest, layers[1]?.digest, 'cosign signed the very same simple-signing payload bytes');
  const ours = await cosign(['verify', ...verifyArgs(dir), image.ref]);
  assert.equal(ours.code, 0, ours.out);
  const theirs = await cosign(['verify', ...verifyArgs(keyDir), image.ref]);
  assert.equal(theirs.code, 0, theirs.out);
});
