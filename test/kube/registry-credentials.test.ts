import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceAccountOf } from '../../src/tekton/accessors.js';
import {
  dockerConfigFromSecret,
  KubernetesCredentialSource,
  type ObjectReader,
  type SecretObject as V1Secret,
  type ServiceAccountObject as V1ServiceAccount,
} from '../../src/kube/registry-credentials.js';
import { credentialFor } from '../../src/oci/auth.js';
import { CachingKeychain } from '../../src/oci/keychain.js';
import type { Logger } from 'winston';
import { KubeApiError } from '../../src/kube/client.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfigjson = (registry: string, user: string): V1Secret => ({
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { auth: b64(`${user}:pw`) } } })) },
});

function taskRun(sa?: string): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 't', namespace: 'ns' },
    spec: sa === undefined ? {} : { serviceAccountName: sa },
  };
}

test('ServiceAccount of a run: TaskRun spec, PipelineRun taskRunTemplate, else default', () => {
  assert.equal(serviceAccountOf(taskRun('builder')), 'builder');
  assert.equal(serviceAccountOf(taskRun('')), 'default');
  assert.equal(serviceAccountOf(taskRun()), 'default');
  const pr: PipelineRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name: 'p' },
    spec: { taskRunTemplate: { serviceAccountName: 'pipeline-sa' } },
  };
  assert.equal(serviceAccountOf(pr), 'pipeline-sa');
});

test('dockercfg (legacy) and dockerconfigjson secrets decode; other types are ignored', () => {
  const legacy: V1Secret = {
    type: 'kubernetes.io/dockercfg',
    data: { '.dockercfg': b64(JSON.stringify({ 'quay.io': { username: 'q', password: 'p' } })) },
  };
  assert.deepEqual(dockerConfigFromSecret(legacy), { auths: { 'quay.io': { username: 'q', password: 'p' } } });
  assert.deepEqual(credentialFor([dockerConfigFromSecret(dockerconfigjson('ghcr.io', 'me'))!], 'ghcr.io'), {
    kind: 'basic',
    username: 'me',
    password: 'pw',
  });
  assert.equal(dockerConfigFromSecret({ type: 'Opaque', data: { x: b64('y') } }), undefined);
});

// A stand-in for the two reads the source makes (ServiceAccount, Secret); the real API server is used in e2e.
function fakeCore(
  accounts: Record<string, V1ServiceAccount>,
  secrets: Record<string, V1Secret>,
  calls: string[],
): ObjectReader {
  return {
    async get<T>(res: { plural: string }, namespace: string, name: string): Promise<T | undefined> {
      calls.push(`${res.plural === 'serviceaccounts' ? 'sa' : 'secret'} ${namespace}/${name}`);
      return (res.plural === 'serviceaccounts' ? accounts : secrets)[`${namespace}/${name}`] as T | undefined;
    },
  };
}

// No cloud identity in unit tests: a cloud keychain that answers only for `cloud.test`.
const cloud = () =>
  new CachingKeychain({
    async resolve(registry: string) {
      return registry === 'cloud.test'
        ? { credential: { kind: 'bearer' as const, token: 't' }, source: 'cloud stand-in' }
        : undefined;
    },
  });

test('the ServiceAccount’s secrets, then the mounted DOCKER_CONFIG, then the cloud keychains; imagePullSecrets never (chains#1883)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dockercfg-'));
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      auths: {
        'ghcr.io': { username: 'mounted', password: 'pw' },
        'quay.io': { username: 'mounted', password: 'pw' },
      },
    }),
  );
  const calls: string[] = [];
  const core = fakeCore(
    {
      'ns/builder': {
        secrets: [{ name: 'push' }, { name: 'gone' }],
        imagePullSecrets: [{ name: 'pull' }, { name: 'push' }],
      },
    },
    { 'ns/push': dockerconfigjson('ghcr.io', 'pusher'), 'ns/pull': dockerconfigjson('quay.io', 'puller') },
    calls,
  );
  const source = new KubernetesCredentialSource({ client: core, dockerConfigDir: dir, cloud: cloud() });
  const keychain = await source.keychainFor(taskRun('builder'));
  assert.deepEqual(await keychain.resolve('ghcr.io'), {
    credential: { kind: 'basic', username: 'pusher', password: 'pw' },
    source: 'ServiceAccount ns/builder secret push',
  });
  // the read-only pull secret for quay.io is not read: the mounted push credential applies
  assert.deepEqual(await keychain.resolve('quay.io'), {
    credential: { kind: 'basic', username: 'mounted', password: 'pw' },
    source: `docker config ${join(dir, 'config.json')}`,
  });
  assert.equal((await keychain.resolve('cloud.test'))?.source, 'cloud stand-in');
  assert.equal(await keychain.resolve('elsewhere.test'), undefined);
  assert.deepEqual(calls, ['sa ns/builder', 'secret ns/push', 'secret ns/gone']);
});

test('results are cached per ServiceAccount for the TTL', async () => {
  let now = 0;
  const calls: string[] = [];
  const core = fakeCore({ 'ns/default': { secrets: [] } }, {}, calls);
  const source = new KubernetesCredentialSource({ client: core, ttlMs: 1000, now: () => now, cloud: cloud() });
  await source.keychainFor(taskRun());
  await source.keychainFor(taskRun());
  assert.equal(calls.length, 1);
  now = 1001;
  await source.keychainFor(taskRun());
  assert.equal(calls.length, 2);
});

test('a missing ServiceAccount leaves the mounted config and the cloud keychains', async () => {
  const source = new KubernetesCredentialSource({
    client: fakeCore({}, {}, []),
    dockerConfigDir: '/nonexistent-dir',
    cloud: cloud(),
  });
  const keychain = await source.keychainFor(taskRun('nobody'));
  assert.equal(await keychain.resolve('ghcr.io'), undefined);
  assert.equal((await keychain.resolve('cloud.test'))?.source, 'cloud stand-in');
});

test('a ServiceAccount read forbidden by the least-privilege RBAC warns once per account with the fix, then logs at debug', async () => {
  const logs: Array<{ level: string; message: string }> = [];
  const logger = {
    warn: (message: string) => logs.push({ level: 'warn', message }),
    debug: (message: string) => logs.push({ level: 'debug', message }),
  } as unknown as Logger;
  const forbidden: ObjectReader = {
    async get() {
      throw new KubeApiError(403, 'get serviceaccounts: HTTP 403: serviceaccounts "default" is forbidden');
    },
  };
  let now = 0;
  const source = new KubernetesCredentialSource({
    client: forbidden,
    dockerConfigDir: '/nonexistent-dir',
    ttlMs: 1,
    now: () => now,
    logger,
    cloud: cloud(),
  });
  for (let i = 0; i < 3; i++) {
    assert.equal(await (await source.keychainFor(taskRun())).resolve('ghcr.io'), undefined);
    now += 10;
  }
  assert.deepEqual(
    logs.map((l) => l.level),
    ['warn', 'debug', 'debug'],
  );
  assert.match(
    logs[0]!.message,
    /^cannot read the run ServiceAccount \(forbidden: bind ClusterRole chainsmith-controller-registry-auth .*components\/run-registry-credentials/,
  );
});
