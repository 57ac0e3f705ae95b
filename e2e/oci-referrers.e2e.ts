// `storage.oci.encoding-format: sigstore-bundle` on a registry WITH the referrers API.
// The test registry (distribution 2.8) stores OCI 1.1 manifests with `subject` but has no referrers endpoint, and
// no referrers-capable registry is built by the stack yet, so a loopback front answers only
// `GET /v2/<repo>/referrers/<digest>` from the manifests pushed through it; everything else (blobs, manifests,
// tags) is the real registry. cosign then reads the bundles through the same front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticCredentialSource } from '../src/kube/registry-credentials.js';
import { OciStorer } from '../src/storage/oci.js';
import { cosignVerifyBundleAttestation } from './lib/cosign.js';
import { pushRandomImage } from './lib/registry.js';
import { referrersFront } from './lib/referrers.js';
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

test('sigstore-bundle: one referrer per attestation next to the image, retries add none, cosign reads it', async () => {
  const { signer, dir } = await testSigner();
  const front = await referrersFront(REGISTRY);
  try {
    const pushed = await pushRandomImage(`${REGISTRY}/${randomRepo('referrers')}`);
    const repository = pushed.repository.slice(REGISTRY.length + 1);
    const image = `${front.registry}/${repository}`;
    const subject = [{ name: image, digest: { sha256: pushed.digest.slice(7) } }];
    const config = testConfig({ encodingFormat: 'sigstore-bundle', repository: `${REGISTRY}/ignored/override` });
    const storer = new OciStorer({ credentials: new StaticCredentialSource() });
    const statement = provenancePayload(subject, 'https://chainsmith.dev/builders/good');
    const result = await storer.store(await signedRequest(signer, statement, config));
    assert.match(result.notes?.join('\n') ?? '', /storage.oci.repository is ignored/);
    await storer.store(await signedRequest(signer, statement, config));

    const list = front.referrers.get(`${repository}@${pushed.digest}`) ?? [];
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.equal(list[0]?.artifactType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.deepEqual(Object.keys((list[0]?.annotations as Record<string, string>) ?? {}), [
      'dev.sigstore.bundle.content',
      'dev.sigstore.bundle.predicateType',
      'org.opencontainers.image.created',
    ]);
    // A second statement is a second referrer.
    await storer.store(
      await signedRequest(signer, provenancePayload(subject, 'https://chainsmith.dev/builders/other'), config),
    );
    assert.equal(front.referrers.get(`${repository}@${pushed.digest}`)?.length, 2);

    const verify = (keyDir: string) => cosignVerifyBundleAttestation(`${image}@${pushed.digest}`, keyDir);
    const ours = await verify(dir);
    assert.equal(ours.code, 0, ours.out);
    assert.equal(ours.out.match(/"payloadType":"application\/vnd.in-toto\+json"/g)?.length, 2, ours.out);
    const other = await verify((await testSigner()).dir);
    assert.notEqual(other.code, 0, other.out);
  } finally {
    await front.close();
  }
});

// Known limit (docs/compatibility.md): the simple-signing signature is over the payload, while cosign's bundle
// verification of an image wants a signature over the image itself (or a DSSE statement), so cosign does not
// accept this referrer. What is asserted here is that it is written next to the image, once, and says what it is.
test('sigstore-bundle: an image signature becomes one message-signature referrer of the image', async () => {
  const { signer } = await testSigner();
  const front = await referrersFront(REGISTRY);
  try {
    const pushed = await pushRandomImage(`${REGISTRY}/${randomRepo('referrers')}`);
    const repository = pushed.repository.slice(REGISTRY.length + 1);
    const image = `${front.registry}/${repository}`;
    const storer = new OciStorer({ credentials: new StaticCredentialSource() });
    const config = testConfig({ encodingFormat: 'sigstore-bundle' });
    await storer.store(await signedRequest(signer, simpleSigningPayload(image, pushed.digest), config));
    await storer.store(await signedRequest(signer, simpleSigningPayload(image, pushed.digest), config));
    const list = front.referrers.get(`${repository}@${pushed.digest}`) ?? [];
    assert.equal(list.length, 1, 'a retried store (re-signed) adds no second referrer');
    assert.deepEqual(
      list[0]?.annotations && {
        ...(list[0].annotations as Record<string, string>),
        'org.opencontainers.image.created': 'x',
      },
      {
        'dev.sigstore.bundle.content': 'message-signature',
        'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
        'org.opencontainers.image.created': 'x',
      },
    );
  } finally {
    await front.close();
  }
});
