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

test('push-capable secrets come before imagePullSecrets, then the mounted DOCKER_CONFIG; missing secrets are skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dockercfg-'));
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ auths: { 'ghcr.io': { username: 'mounted', password: 'pw' } } }),
  );
  const calls: string[] = [];
  const core = fakeCore(
    {
      'ns/builder': {
        secrets: [{ name: 'push' }, { name: 'gone' }],
        imagePullSecrets: [{ name: 'pull' }, { name: 'push' }],
      },
    },
    { 'ns/push': dockerconfigjson('ghcr.io', 'pusher'), 'ns/pull': dockerconfigjson('ghcr.io', 'puller') },
    calls,
  );
  const source = new KubernetesCredentialSource({ client: core, dockerConfigDir: dir });
  const configs = await source.dockerConfigsFor(taskRun('builder'));
  assert.equal(configs.length, 3);
  assert.deepEqual(credentialFor(configs, 'ghcr.io'), { kind: 'basic', username: 'pusher', password: 'pw' });
  assert.deepEqual(credentialFor(configs.slice(1), 'ghcr.io'), { kind: 'basic', username: 'puller', password: 'pw' });
  assert.deepEqual(credentialFor(configs.slice(2), 'ghcr.io'), { kind: 'basic', username: 'mounted', password: 'pw' });
  assert.deepEqual(calls, ['sa ns/builder', 'secret ns/push', 'secret ns/gone', 'secret ns/pull']);
});

test('results are cached per ServiceAccount for the TTL', async () => {
  let now = 0;
  const calls: string[] = [];
  const core = fakeCore({ 'ns/default': { secrets: [] } }, {}, calls);
  const source = new KubernetesCredentialSource({ client: core, ttlMs: 1000, now: () => now });
  await source.dockerConfigsFor(taskRun());
  await source.dockerConfigsFor(taskRun());
  assert.equal(calls.length, 1);
  now = 1001;
  await source.dockerConfigsFor(taskRun());
  assert.equal(calls.length, 2);
});

test('a missing ServiceAccount leaves only the mounted config', async () => {
  const source = new KubernetesCredentialSource({ client: fakeCore({}, {}, []), dockerConfigDir: '/nonexistent-dir' });
  assert.deepEqual(await source.dockerConfigsFor(taskRun('nobody')), []);
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
  });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await source.dockerConfigsFor(taskRun()), []);
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
