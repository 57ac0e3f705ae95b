// Registry credentials from the run's ServiceAccount on the real kube-apiserver: `secrets` (push) before
// `imagePullSecrets`, both Secret types, and the credentials actually reaching a registry that demands them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../src/errors.js';
import { KubernetesCredentialSource } from '../src/kube/registry-credentials.js';
import { SECRETS, SERVICEACCOUNTS } from '../src/kube/client.js';
import { credentialFor } from '../src/oci/auth.js';
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

test('a TaskRun ServiceAccount: push secrets first, then imagePullSecrets, legacy dockercfg included', async () => {
  const ns = await createNamespace('oci-creds');
  await dockerSecret(ns, 'push', 'ghcr.io', 'pusher', 'p1');
  await dockerSecret(ns, 'pull', 'ghcr.io', 'puller', 'p2');
  await dockerSecret(ns, 'legacy', 'quay.io', 'old', 'p3', true);
  await kube().create(SERVICEACCOUNTS, ns, {
    metadata: { name: 'builder' },
    secrets: [{ name: 'push' }, { name: 'missing' }],
    imagePullSecrets: [{ name: 'pull' }, { name: 'legacy' }],
  });
  const source = new KubernetesCredentialSource({
    client: kube(),
    dockerConfigDir: '/nonexistent',
  });
  const configs = await source.dockerConfigsFor(taskRun(ns, 'builder'));
  assert.equal(configs.length, 3);
  assert.deepEqual(credentialFor(configs, 'ghcr.io'), { kind: 'basic', username: 'pusher', password: 'p1' });
  assert.deepEqual(credentialFor(configs, 'quay.io'), { kind: 'basic', username: 'old', password: 'p3' });
});

test('a PipelineRun uses taskRunTemplate.serviceAccountName; an empty one means default', async () => {
  const ns = await createNamespace('oci-creds');
  await dockerSecret(ns, 'pr-push', 'ghcr.io', 'pipeline', 'p');
  await kube().create(SERVICEACCOUNTS, ns, { metadata: { name: 'pipeline-sa' }, secrets: [{ name: 'pr-push' }] });
  const source = new KubernetesCredentialSource({
    client: kube(),
    dockerConfigDir: '/nonexistent',
  });
  const pr: PipelineRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name: 'p', namespace: ns },
    spec: { taskRunTemplate: { serviceAccountName: 'pipeline-sa' } },
  };
  assert.deepEqual(credentialFor(await source.dockerConfigsFor(pr), 'ghcr.io'), {
    kind: 'basic',
    username: 'pipeline',
    password: 'p',
  });
  assert.deepEqual(await source.dockerConfigsFor(taskRun(ns)), [], 'the default SA has no secrets');
});

test('the ServiceAccount credentials are what the oci store presents to the registry', async () => {
  const { signer } = await testSigner();
  const proxy = await basicAuthFront('robot', 'let-me-in');
  try {
    const ns = await createNamespace('oci-creds');
    await dockerSecret(ns, 'registry-push', proxy.host, 'robot', 'let-me-in');
    await kube().create(SERVICEACCOUNTS, ns, { metadata: { name: 'builder' }, secrets: [{ name: 'registry-push' }] });
    const image = await pushRandomImage(`${REGISTRY}/${randomRepo()}`);
    const repository = image.repository.slice(REGISTRY.length + 1);
    const storer = new OciStorer({
      credentials: new KubernetesCredentialSource({
        client: kube(),
        dockerConfigDir: '/nonexistent',
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
        return true;
      },
    );
  } finally {
    await proxy.close();
  }
});
