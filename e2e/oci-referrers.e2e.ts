// `storage.oci.encoding-format: sigstore-bundle`, against real registries: olareg (the verifiers add-on), which
// serves the OCI 1.1 referrers API, and the stack's Debian docker-registry (distribution 2.8), which has none, so
// chainsmith keeps the referrers tag schema there (a `sha256-<hex>` index), as cosign and Chains do. cosign v3 reads
// both; its own image signature is the reference for ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosignSignFormat } from '../src/formats/cosign-sign.js';
import { StaticCredentialSource } from '../src/kube/registry-credentials.js';
import { OciStorer } from '../src/storage/oci.js';
import { cosignVerifyBundleAttestation, emptyTrustedRoot, runTool, type ToolOutcome } from './lib/cosign.js';
import { verifiersEnv } from './lib/env.js';
import { fetchBlob, fetchManifest, pushRandomImage } from './lib/registry.js';
import {
  provenancePayload,
  randomRepo,
  registryUnderTest,
  signedRequest,
  testConfig,
  testSigner,
} from './oci-support.js';

const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';

interface Listed {
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The referrers of `image` (`host/repo@digest`) as the registry's API lists them. */
async function apiReferrers(ref: string): Promise<Listed[]> {
  const [name, digest] = ref.split('@') as [string, string];
  const host = name.slice(0, name.indexOf('/'));
  const res = await fetch(`http://${host}/v2/${name.slice(host.length + 1)}/referrers/${digest}`);
  assert.equal(res.status, 200, `GET referrers of ${ref}`);
  return ((await res.json()) as { manifests: Listed[] }).manifests;
}

async function manifestText(repository: string, reference: string): Promise<string> {
  const fetched = await fetchManifest(repository, reference);
  assert.ok(fetched, `manifest ${repository}:${reference} exists`);
  return fetched.bytes.toString();
}

/** The in-toto statement inside the bundle of a referrer manifest. */
async function statementOf(repository: string, referrer: string): Promise<unknown> {
  const m = JSON.parse(await manifestText(repository, referrer)) as { layers: Array<{ digest: string }> };
  const bundle = JSON.parse((await fetchBlob(repository, m.layers[0]!.digest)).toString()) as {
    dsseEnvelope: { payload: string; payloadType: string };
  };
  assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
}

/** `cosign verify` (v3: bundles in referrers first) of `ref` with `cosign.pub` in `keyDir`, offline. */
async function cosign3Verify(ref: string, keyDir: string): Promise<ToolOutcome> {
  // prettier-ignore
  return runTool(verifiersEnv().cosign3, [
    'verify', '--key', join(keyDir, 'cosign.pub'), '--trusted-root', await emptyTrustedRoot(),
    '--insecure-ignore-tlog', '--allow-http-registry', ref,
  ]);
}

test('olareg: one referrer per attestation next to the image, retries add none, cosign v2 and v3 read it', async () => {
  const REGISTRY = verifiersEnv().referrersRegistry;
  const { signer, dir } = await testSigner();
  const pushed = await pushRandomImage(`${REGISTRY}/${randomRepo('referrers')}`);
  const subject = [{ name: pushed.repository, digest: { sha256: pushed.digest.slice(7) } }];
  const config = testConfig({ encodingFormat: 'sigstore-bundle', repository: `${REGISTRY}/ignored/override` });
  const storer = new OciStorer({ credentials: new StaticCredentialSource() });
  const statement = provenancePayload(subject, 'https://chainsmith.dev/builders/good');
  const result = await storer.store(await signedRequest(signer, statement, config));
  assert.match(result.notes?.join('\n') ?? '', /storage.oci.repository is ignored/);
  await storer.store(await signedRequest(signer, statement, config));

  const ref = `${pushed.repository}@${pushed.digest}`;
  const list = await apiReferrers(ref);
  assert.equal(list.length, 1, JSON.stringify(list));
  assert.equal(list[0]?.artifactType, BUNDLE);
  assert.deepEqual(Object.keys(list[0]?.annotations ?? {}), [
    'dev.sigstore.bundle.content',
    'dev.sigstore.bundle.predicateType',
    'org.opencontainers.image.created',
  ]);
  assert.equal(list[0]?.annotations?.['dev.sigstore.bundle.predicateType'], 'https://slsa.dev/provenance/v0.2');
  // A second statement is a second referrer.
  await storer.store(
    await signedRequest(signer, provenancePayload(subject, 'https://chainsmith.dev/builders/other'), config),
  );
  assert.equal((await apiReferrers(ref)).length, 2);

  const v2 = await cosignVerifyBundleAttestation(ref, dir);
  assert.equal(v2.code, 0, v2.out);
  assert.equal(v2.out.match(/"payloadType":"application\/vnd.in-toto\+json"/g)?.length, 2, v2.out);
  assert.notEqual((await cosignVerifyBundleAttestation(ref, (await testSigner()).dir)).code, 0);
  // prettier-ignore
  const v3 = await runTool(verifiersEnv().cosign3, [
    'verify-attestation', '--key', join(dir, 'cosign.pub'), '--trusted-root', await emptyTrustedRoot(),
    '--insecure-ignore-tlog', '--allow-http-registry', '--type', 'slsaprovenance', ref,
  ]);
  assert.equal(v3.code, 0, v3.out);
});

test('olareg: an image signature is what cosign v3 itself pushes, and cosign v3 verify accepts it', async () => {
  const { cosign3, referrersRegistry: REGISTRY } = verifiersEnv();
  const { signer, dir } = await testSigner();
  const ours = await pushRandomImage(`${REGISTRY}/${randomRepo('referrers-sig')}`);
  const storer = new OciStorer({ credentials: new StaticCredentialSource() });
  const config = testConfig({ encodingFormat: 'sigstore-bundle' });
  const payload = () =>
    cosignSignFormat.createPayload(
      { kind: 'Image', image: { repository: ours.repository, digest: ours.digest, source: 'IMAGE_URL' } },
      config,
    );
  await storer.store(await signedRequest(signer, payload(), config));
  await storer.store(await signedRequest(signer, payload(), config));
  const ref = `${ours.repository}@${ours.digest}`;
  const list = await apiReferrers(ref);
  assert.equal(list.length, 1, 'a retried store (re-signed) adds no second referrer');

  // The reference: cosign v3 signs another image of the same registry with its own key.
  const keyDir = await mkdtemp(join(tmpdir(), 'chainsmith-cosign3-'));
  const env = { COSIGN_PASSWORD: '' };
  const gen = await runTool(cosign3, ['generate-key-pair', '--output-key-prefix', join(keyDir, 'cosign')], env);
  assert.equal(gen.code, 0, gen.out);
  const theirs = await pushRandomImage(`${REGISTRY}/${randomRepo('cosign3-sig')}`);
  const theirRef = `${theirs.repository}@${theirs.digest}`;
  // prettier-ignore
  const signed = await runTool(cosign3, [
    'sign', '--key', join(keyDir, 'cosign.key'), '--tlog-upload=false', '--use-signing-config=false', '-y',
    '--allow-http-registry', theirRef,
  ], env);
  assert.equal(signed.code, 0, signed.out);
  const [reference] = await apiReferrers(theirRef);
  assert.ok(reference, 'cosign v3 pushed a referrer');

  // Same listing (artifact type, annotation names and values but the time) and the same statement for its digest.
  const shape = (l: Listed) => ({
    artifactType: l.artifactType,
    annotations: { ...l.annotations, 'org.opencontainers.image.created': 'x' },
  });
  assert.deepEqual(shape(list[0]!), shape(reference));
  assert.equal(reference.annotations?.['dev.sigstore.bundle.predicateType'], COSIGN_SIGN);
  const theirStatement = (await statementOf(theirs.repository, reference.digest)) as {
    subject: Array<{ digest: Record<string, string> }>;
  };
  const ourStatement = (await statementOf(ours.repository, list[0]!.digest)) as typeof theirStatement;
  assert.deepEqual(ourStatement, {
    ...theirStatement,
    subject: [{ ...theirStatement.subject[0], digest: { sha256: ours.digest.slice(7) } }],
  });

  const ok = await cosign3Verify(ref, dir);
  assert.equal(ok.code, 0, ok.out);
  const wrong = await cosign3Verify(ref, (await testSigner()).dir);
  assert.notEqual(wrong.code, 0, wrong.out);
  // and cosign's own signature verifies the same way (the reference is sound)
  const theirOk = await cosign3Verify(theirRef, keyDir);
  assert.equal(theirOk.code, 0, theirOk.out);
});

test('docker-registry (no referrers API): the referrers tag schema lists each bundle once; cosign v3 and chainsmith verify read it', async () => {
  const REGISTRY = registryUnderTest();
  const { signer, dir } = await testSigner();
  const pushed = await pushRandomImage(`${REGISTRY}/${randomRepo('referrers-tag')}`);
  const ref = `${pushed.repository}@${pushed.digest}`;
  const res = await fetch(
    `http://${REGISTRY}/v2/${pushed.repository.slice(REGISTRY.length + 1)}/referrers/${pushed.digest}`,
  );
  assert.equal(res.status, 404, 'the stack registry has no referrers API');

  const config = testConfig({ encodingFormat: 'sigstore-bundle' });
  const storer = new OciStorer({ credentials: new StaticCredentialSource() });
  const subject = [{ name: pushed.repository, digest: { sha256: pushed.digest.slice(7) } }];
  const statement = provenancePayload(subject, 'https://chainsmith.dev/builders/good');
  const image = cosignSignFormat.createPayload(
    { kind: 'Image', image: { repository: pushed.repository, digest: pushed.digest, source: 'IMAGE_URL' } },
    config,
  );
  for (const payload of [statement, image, statement, image])
    await storer.store(await signedRequest(signer, payload, config));

  const tag = `sha256-${pushed.digest.slice(7)}`;
  const index = JSON.parse(await manifestText(pushed.repository, tag)) as { mediaType: string; manifests: Listed[] };
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(
    index.manifests.map((m) => [m.artifactType, m.annotations?.['dev.sigstore.bundle.predicateType']]).sort(),
    [
      [BUNDLE, COSIGN_SIGN],
      [BUNDLE, 'https://slsa.dev/provenance/v0.2'],
    ],
    'one entry per bundle, retries add none',
  );
  for (const m of index.manifests) {
    const manifest = JSON.parse(await manifestText(pushed.repository, m.digest)) as {
      subject: { digest: string };
    };
    assert.equal(manifest.subject.digest, pushed.digest);
  }

  const v3 = await cosign3Verify(ref, dir);
  assert.equal(v3.code, 0, v3.out);
  // prettier-ignore
  const ours = await runTool(process.execPath, [
    '--import', 'tsx', 'src/cli/main.ts', 'verify', '--key', join(dir, 'cosign.pub'), '--require-attestation',
    '--json', ref,
  ]);
  assert.equal(ours.code, 0, ours.out);
  const report = JSON.parse(ours.out) as { signatures: Array<{ source: string; authentic: boolean }> };
  assert.deepEqual(
    report.signatures.map((s) => [s.source.endsWith('(referrer)'), s.authentic]),
    [[true, true]],
  );
});
