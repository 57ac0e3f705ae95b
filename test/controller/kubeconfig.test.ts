import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../src/controller/kube-client.js';

function withEnv(env: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) (v === undefined ? delete process.env[k] : (process.env[k] = v));
  try {
    fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) (v === undefined ? delete process.env[k] : (process.env[k] = v));
  }
}

test('outside a cluster with no --kubeconfig and no KUBECONFIG, loading says what to pass instead of failing later', () => {
  withEnv({ KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined }, () => {
    assert.throws(() => loadKubeConfig(), /no Kubernetes configuration: pass --kubeconfig FILE or set KUBECONFIG/);
  });
});

test('a kubeconfig whose current context has no cluster server is refused by name', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'kc-')), 'config');
  writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts:\n- name: empty\n  context: {cluster: none, user: u}\ncurrent-context: empty\nusers:\n- name: u\n  user: {token: t}\n');
  assert.throws(() => loadKubeConfig(file), /current context "empty" names no cluster server/);
});

test('a complete kubeconfig loads', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'kc-')), 'config');
  writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:6443"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n');
  assert.equal(loadKubeConfig(file).getCurrentCluster()?.server, 'https://127.0.0.1:6443');
});
