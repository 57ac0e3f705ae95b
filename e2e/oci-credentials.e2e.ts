// Registry credentials from the run's ServiceAccount on the real kube-apiserver: its `secrets` (both Secret types),
// never its read-only `imagePullSecrets` (as Chains since chains#1883), and the credentials actually reaching a
// registry that demands them; a refusal names the credential's source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../src/errors.js';
import { KubernetesCredentialSource } from '../src/kube/registry-credentials.js';
import { SECRETS, SERVICEACCOUNTS } from '../src/kube/client.js';
import { CachingKeychain } from '../src/oci/keychain.js';
import { OciStorer } from '../src/storage/oci.js';
import type { PipelineRun, TaskRun } from '../src/tekton/types.js';
import { createNamespace, kube } from './lib/kube.js';
import { layersOf, pushRandomImage } from './lib/registry.js';
import { basicAuthFront } from './lib/basic-auth-front.js';
import {
  randomRepo,
  registryUnderTest,
  signedRequest,
  simpleSigningPayload,
  testConfig,
  testSigner,
} from './oci-support.js';

const REGISTRY = registryUnderTest();
// the cloud keychains answer only for cloud registry hosts, none of which these tests use
const noCloud = () => new CachingKeychain({ resolve: async () => undefined });
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function dockerSecret(
  namespace: string,
  name: string,
  registry: string,
  user: string,
  password: string,
  legacy = false,
): Promise<void> {
  const entry = { auth: b64(`${user}:${password}`) };
  const body = legacy
    ? {
        metadata: { name },
        type: 'kubernetes.io/dockercfg',
        data: { '.dockercfg': b64(JSON.stringify({ [registry]: entry })) },
      }
    : {
        metadata: { name },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: entry } })) },
      };
  await kube().create(SECRETS, namespace, body);
}

function taskRun(namespace: string, serviceAccountName?: string): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'build', namespace, uid: 'u1' },
    spec: serviceAccountName ? { serviceAccountName } : {},
  };
}

test('a TaskRun ServiceAccount: its secrets, legacy dockercfg included; its read-only imagePullSecrets never', async () => {
  const ns = await createNamespace('oci-creds');
  await dockerSecret(ns, 'push', 'ghcr.io', 'pusher', 'p1');
  await dockerSecret(ns, 'pull', 'ghcr.io', 'puller', 'p2');
  await dockerSecret(ns, 'pull-quay', 'registry.example', 'puller', 'p2');
  await dockerSecret(ns, 'legacy', 'quay.io', 'old', 'p3', true);
  await kube().create(SERVICEACCOUNTS, ns, {
    metadata: { name: 'builder' },
    secrets: [{ name: 'push' }, { name: 'missing' }, { name: 'legacy' }],
    imagePullSecrets: [{ name: 'pull' }, { name: 'pull-quay' }],
  });
  const source = new KubernetesCredentialSource({ client: kube(), dockerConfigDir: '/nonexistent', cloud: noCloud() });
  const keychain = await source.keychainFor(taskRun(ns, 'builder'));
  assert.deepEqual(await keychain.resolve('ghcr.io'), {
    credential: { kind: 'basic', username: 'pusher', password: 'p1' },
    source: `ServiceAccount ${ns}/builder secret push`,
  });
  assert.deepEqual((await keychain.resolve('quay.io'))?.credential, { kind: 'basic', username: 'old', password: 'p3' });
  assert.equal(await keychain.resolve('registry.example'), undefined, 'a pull secret is not a push credential');
});

test('a PipelineRun uses taskRunTemplate.serviceAccountName; an empty one means default', async () => {
  const ns = await createNamespace('oci-creds');
  await dockerSecret(ns, 'pr-push', 'ghcr.io', 'pipeline', 'p');
  await kube().create(SERVICEACCOUNTS, ns, { metadata: { name: 'pipeline-sa' }, secrets: [{ name: 'pr-push' }] });
  const source = new KubernetesCredentialSource({ client: kube(), dockerConfigDir: '/nonexistent', cloud: noCloud() });
  const pr: PipelineRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name: 'p', namespace: ns },
    spec: { taskRunTemplate: { serviceAccountName: 'pipeline-sa' } },
  };
  assert.deepEqual((await (await source.keychainFor(pr)).resolve('ghcr.io'))?.credential, {
    kind: 'basic',
    username: 'pipeline',
    password: 'p',
  });
  const fallback = await source.keychainFor(taskRun(ns));
  assert.equal(await fallback.resolve('ghcr.io'), undefined, 'the default SA has no secrets');
});

test('the ServiceAccount credentials are what the oci store presents to the registry', async () => {
  const { signer } = await testSigner();
  const proxy = await basicAuthFront('robot', 'let-me-in');
  try {
    const ns = await createNamespace('oci-creds');
    await dockerSecret(ns, 'registry-push', proxy.host, 'robot', 'let-me-in');
    await dockerSecret(ns, 'stale-push', proxy.host, 'robot', 'an-old-password');
    await kube().create(SERVICEACCOUNTS, ns, { metadata: { name: 'builder' }, secrets: [{ name: 'registry-push' }] });
    await kube().create(SERVICEACCOUNTS, ns, { metadata: { name: 'stale' }, secrets: [{ name: 'stale-push' }] });
    const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
    const repository = image.repository.slice(REGISTRY.length + 1);
    const storer = new OciStorer({
      credentials: new KubernetesCredentialSource({
        client: kube(),
        dockerConfigDir: '/nonexistent',
        cloud: noCloud(),
      }),
    });
    const payload = simpleSigningPayload(`${proxy.host}/${repository}`, image.digest);
    await storer.store(await signedRequest(signer, payload, testConfig(), taskRun(ns, 'builder')));
    assert.equal((await layersOf(`${REGISTRY}/${repository}`, `sha256-${image.digest.slice(7)}.sig`)).length, 1);

    // The same push from a run whose ServiceAccount has no secret is refused by the registry.
    await assert.rejects(
      storer.store(await signedRequest(signer, payload, testConfig(), taskRun(ns))),
      (err: unknown) => {
        assert.ok(err instanceof ChainsmithError);
        assert.equal(err.reason, 'RegistryUnauthorized');
        assert.match(err.message, new RegExp(`registry ${proxy.host}, repository ${repository}: .*HTTP 401`));
        assert.match(err.message, /credentials: none \(anonymous\)$/);
        return true;
      },
    );
    // A wrong password is refused, and the message names the Secret it came from, never the password.
    await assert.rejects(
      storer.store(await signedRequest(signer, payload, testConfig(), taskRun(ns, 'stale'))),
      (err: unknown) => {
        assert.ok(err instanceof ChainsmithError);
        assert.equal(err.reason, 'RegistryUnauthorized');
        assert.match(err.message, new RegExp(`credentials: ServiceAccount ${ns}/stale secret stale-push$`));
        assert.doesNotMatch(err.message, /an-old-password/);
        return true;
      },
    );
  } finally {
    await proxy.close();
  }
});
