import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, V1Secret, V1ServiceAccount } from '@kubernetes/client-node';
import { dockerConfigFromSecret, KubernetesCredentialSource, serviceAccountOf } from '../../src/oci/credentials.js';
import { credentialFor } from '../../src/oci/auth.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfigjson = (registry: string, user: string): V1Secret => ({
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { auth: b64(`${user}:pw`) } } })) },
});

function taskRun(sa?: string): TaskRun {
  return { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 't', namespace: 'ns' }, spec: sa === undefined ? {} : { serviceAccountName: sa } };
}

test('ServiceAccount of a run: TaskRun spec, PipelineRun taskRunTemplate, else default', () => {
  assert.equal(serviceAccountOf(taskRun('builder')), 'builder');
  assert.equal(serviceAccountOf(taskRun('')), 'default');
  assert.equal(serviceAccountOf(taskRun()), 'default');
  const pr: PipelineRun = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name: 'p' }, spec: { taskRunTemplate: { serviceAccountName: 'pipeline-sa' } } };
  assert.equal(serviceAccountOf(pr), 'pipeline-sa');
});

test('dockercfg (legacy) and dockerconfigjson secrets decode; other types are ignored', () => {
  const legacy: V1Secret = { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'quay.io': { username: 'q', password: 'p' } })) } };
  assert.deepEqual(dockerConfigFromSecret(legacy), { auths: { 'quay.io': { username: 'q', password: 'p' } } });
  assert.deepEqual(credentialFor([dockerConfigFromSecret(dockerconfigjson('ghcr.io', 'me'))!], 'ghcr.io'), { kind: 'basic', username: 'me', password: 'pw' });
  assert.equal(dockerConfigFromSecret({ type: 'Opaque', data: { x: b64('y') } }), undefined);
});

// A stand-in for the two CoreV1Api reads the source makes; the real API server is used in e2e.
function fakeCore(accounts: Record<string, V1ServiceAccount>, secrets: Record<string, V1Secret>, calls: string[]): CoreV1Api {
  const core = {
    async readNamespacedServiceAccount({ name, namespace }: { name: string; namespace: string }) {
      calls.push(`sa ${namespace}/${name}`);
      const sa = accounts[`${namespace}/${name}`];
      if (!sa) throw new Error('HTTP-Code: 404');
      return sa;
    },
    async readNamespacedSecret({ name, namespace }: { name: string; namespace: string }) {
      calls.push(`secret ${namespace}/${name}`);
      const s = secrets[`${namespace}/${name}`];
      if (!s) throw new Error('HTTP-Code: 404');
      return s;
    },
  };
  return core as unknown as CoreV1Api;
}

test('push-capable secrets come before imagePullSecrets, then the mounted DOCKER_CONFIG; missing secrets are skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dockercfg-'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { username: 'mounted', password: 'pw' } } }));
  const calls: string[] = [];
  const core = fakeCore(
    { 'ns/builder': { secrets: [{ name: 'push' }, { name: 'gone' }], imagePullSecrets: [{ name: 'pull' }, { name: 'push' }] } },
    { 'ns/push': dockerconfigjson('ghcr.io', 'pusher'), 'ns/pull': dockerconfigjson('ghcr.io', 'puller') },
    calls,
  );
  const source = new KubernetesCredentialSource({ core, dockerConfigDir: dir });
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
  const source = new KubernetesCredentialSource({ core, ttlMs: 1000, now: () => now });
  await source.dockerConfigsFor(taskRun());
  await source.dockerConfigsFor(taskRun());
  assert.equal(calls.length, 1);
  now = 1001;
  await source.dockerConfigsFor(taskRun());
  assert.equal(calls.length, 2);
});

test('a missing ServiceAccount leaves only the mounted config', async () => {
  const source = new KubernetesCredentialSource({ core: fakeCore({}, {}, []), dockerConfigDir: '/nonexistent-dir' });
  assert.deepEqual(await source.dockerConfigsFor(taskRun('nobody')), []);
});
