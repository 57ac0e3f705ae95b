// `chainsmith verify` on images whose signatures are OCI 1.1 referrers holding sigstore bundles
// (`storage.oci.encoding-format: sigstore-bundle`) in olareg, a registry with the referrers API (the verifiers
// add-on), cross-checked with cosign's bundle verification for the attestation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StaticCredentialSource } from '../src/kube/registry-credentials.js';
import { OciStorer } from '../src/storage/oci.js';
import { cosignVerifyBundleAttestation, runTool } from './lib/cosign.js';
import { pushRandomImage } from './lib/registry.js';
import { verifiersEnv } from './lib/env.js';
import { cosignSignFormat } from '../src/formats/cosign-sign.js';
import { provenancePayload, randomRepo, signedRequest, testConfig, testSigner } from './oci-support.js';

const GOOD = 'https://chainsmith.dev/builders/good';

test('referrers: bundles next to the image verify; another key fails; cosign agrees on the attestation', async () => {
  const { signer, dir } = await testSigner();
  const other = await testSigner();
  const pushed = await pushRandomImage(`${verifiersEnv().referrersRegistry}/${randomRepo('verify-ref')}`);
  const image = pushed.repository;
  const config = testConfig({ encodingFormat: 'sigstore-bundle' });
  const storer = new OciStorer({ credentials: new StaticCredentialSource() });
  const imageSignature = cosignSignFormat.createPayload(
    { kind: 'Image', image: { repository: image, digest: pushed.digest, source: 'IMAGE_URL' } },
    config,
  );
  await storer.store(await signedRequest(signer, imageSignature, config));
  await storer.store(
    await signedRequest(
      signer,
      provenancePayload([{ name: image, digest: { sha256: pushed.digest.slice(7) } }], GOOD),
      config,
    ),
  );
  const ref = `${image}@${pushed.digest}`;

  const chainsmith = (keyDir: string, extra: string[] = []) =>
    runTool(process.execPath, [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'verify',
      '--key',
      join(keyDir, 'cosign.pub'),
      '--json',
      ...extra,
      ref,
    ]);
  const ours = await chainsmith(dir, ['--predicate-type', 'slsaprovenance', '--builder-id', GOOD]);
  assert.equal(ours.code, 0, ours.out);
  const report = JSON.parse(ours.out) as {
    signatures: Array<{ source: string; authentic: boolean }>;
    attestations: Array<{ source: string; authentic: boolean }>;
  };
  assert.deepEqual(
    report.signatures.map((s) => [s.source.endsWith('(referrer)'), s.authentic]),
    [[true, true]],
  );
  assert.deepEqual(
    report.attestations.map((s) => [s.source.endsWith('(referrer)'), s.authentic]),
    [[true, true]],
  );
  const wrong = await chainsmith(other.dir, ['--predicate-type', 'slsaprovenance']);
  assert.equal(wrong.code, 1, wrong.out);

  // cosign's bundle path, offline with a key
  const cosign = (keyDir: string) => cosignVerifyBundleAttestation(ref, keyDir);
  assert.equal((await cosign(dir)).code, 0);
  assert.notEqual((await cosign(other.dir)).code, 0);
});
