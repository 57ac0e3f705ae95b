// Where the controller connects and how it authenticates: kubeconfig files (kubectl's merge rules, paths
// relative to the file), the in-cluster ServiceAccount, and clear refusals for configs that cannot work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../src/kube/client.js';
import { inCluster, loadClusterConnection } from '../../src/kube/kubeconfig.js';

function setEnv(k: string, v: string | undefined): void {
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
}

function withEnv(env: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) setEnv(k, v);
  try {
    fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) setEnv(k, v);
  }
}

function write(dir: string, name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kc-'));

test('outside a cluster with no --kubeconfig and no KUBECONFIG, loading says what to pass instead of failing later', () => {
  withEnv({ KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined }, () => {
    assert.throws(() => loadKubeConfig(), /no Kubernetes configuration: pass --kubeconfig FILE or set KUBECONFIG/);
  });
});

test('a kubeconfig whose current context has no cluster server is refused by name', () => {
  const file = write(
    tmp(),
    'config',
    'apiVersion: v1\nkind: Config\nclusters: []\ncontexts:\n- name: empty\n  context: {cluster: none, user: u}\ncurrent-context: empty\nusers:\n- name: u\n  user: {token: t}\n',
  );
  assert.throws(() => loadKubeConfig(file), /current context "empty" names no cluster server/);
});

test('a missing kubeconfig file is named in the error', () => {
  assert.throws(() => loadKubeConfig('/nonexistent/kubeconfig'), /cannot read kubeconfig \/nonexistent\/kubeconfig/);
});

test('a token kubeconfig loads: server, bearer token, the context namespace, and a CA file relative to the kubeconfig', () => {
  const dir = tmp();
  write(dir, 'ca.crt', 'CA-PEM');
  const file = write(
    dir,
    'config',
    'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: builds}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n',
  );
  const c = loadKubeConfig(file);
  assert.equal(c.server, 'https://127.0.0.1:6443');
  assert.deepEqual(c.auth, { kind: 'token', token: 't' });
  assert.equal(c.namespace, 'builds');
  assert.equal(c.tls.ca?.toString(), 'CA-PEM');
  assert.equal(c.tls.rejectUnauthorized, true);
});

test('client certificates, insecure-skip-tls-verify and tls-server-name are carried as given', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const file = write(
    tmp(),
    'config',
    `clusters:\n- name: c\n  cluster: {server: "https://10.0.0.1", insecure-skip-tls-verify: true, tls-server-name: api.example}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}\n`,
  );
  const c = loadKubeConfig(file);
  assert.equal(c.tls.cert?.toString(), 'CERT');
  assert.equal(c.tls.key?.toString(), 'KEY');
  assert.equal(c.tls.rejectUnauthorized, false);
  assert.equal(c.tls.servername, 'api.example');
  assert.deepEqual(c.auth, { kind: 'none' });
});

test('KUBECONFIG lists merge like kubectl: the first current-context and the first definition of a name win; missing files are skipped', () => {
  const dir = tmp();
  const a = write(dir, 'a', 'current-context: second\nusers:\n- name: u\n  user: {token: from-a}\n');
  const b = write(
    dir,
    'b',
    'current-context: first\nclusters:\n- name: c\n  cluster: {server: "https://b.example"}\ncontexts:\n- name: second\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: from-b}\n',
  );
  const c = loadClusterConnection(undefined, { KUBECONFIG: `${a}:${join(dir, 'missing')}:${b}` });
  assert.equal(c.contextName, 'second');
  assert.equal(c.server, 'https://b.example');
  assert.deepEqual(c.auth, { kind: 'token', token: 'from-a' });
});

test('exec plugins and token files are recognised; an auth-provider user is refused (kubeconfig-hardening)', () => {
  const dir = tmp();
  const base =
    'clusters:\n- name: c\n  cluster: {server: "https://k"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user:\n';
  const exec = loadKubeConfig(
    write(
      dir,
      'exec',
      `${base}    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./get-token, args: [--x], env: [{name: A, value: b}]}\n`,
    ),
  );
  assert.deepEqual(exec.auth, {
    kind: 'exec',
    exec: {
      command: './get-token',
      args: ['--x'],
      env: [{ name: 'A', value: 'b' }],
      apiVersion: 'client.authentication.k8s.io/v1',
      baseDir: dir,
    },
  });
  const tokenFile = loadKubeConfig(write(dir, 'tf', `${base}    tokenFile: tok\n`));
  assert.deepEqual(tokenFile.auth, { kind: 'token-file', path: join(dir, 'tok') });
  const provider = write(dir, 'ap', `${base}    auth-provider: {name: oidc, config: {}}\n`);
  assert.throws(() => loadKubeConfig(provider), /auth-provider "oidc".*exec credential plugin/);
});

test('in a cluster, the ServiceAccount mount supplies the CA, a token file that is re-read, and the namespace', () => {
  const dir = tmp();
  write(dir, 'ca.crt', 'CA');
  write(dir, 'token', 'jwt');
  write(dir, 'namespace', 'tekton-chains\n');
  const c = inCluster('10.96.0.1', '443', dir);
  assert.equal(c.server, 'https://10.96.0.1:443');
  assert.deepEqual(c.auth, { kind: 'token-file', path: join(dir, 'token') });
  assert.equal(c.namespace, 'tekton-chains');
  assert.equal(inCluster('fd00::1', '443', dir).server, 'https://[fd00::1]:443');
});

test('--context picks another context of the kubeconfig; an unknown one is refused with the known names', () => {
  const file = write(
    tmp(),
    'config',
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: prod',
      '  cluster: {server: "https://prod.example:6443"}',
      '- name: staging',
      '  cluster: {server: "https://staging.example:6443"}',
      'contexts:',
      '- name: prod',
      '  context: {cluster: prod, user: u, namespace: builds}',
      '- name: staging',
      '  context: {cluster: staging, user: u, namespace: ci}',
      'current-context: prod',
      'users:',
      '- name: u',
      '  user: {token: t}',
      '',
    ].join('\n'),
  );
  assert.equal(loadKubeConfig(file).server, 'https://prod.example:6443');
  const staging = loadKubeConfig(file, 'staging');
  assert.equal(staging.server, 'https://staging.example:6443');
  assert.equal(staging.namespace, 'ci');
  assert.equal(staging.contextName, 'staging');
  assert.throws(() => loadKubeConfig(file, 'qa'), /no context "qa" \(contexts: prod, staging\)/);
});

test('--context without a kubeconfig is refused rather than ignored in a cluster', () => {
  withEnv({ KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, () => {
    assert.throws(() => loadKubeConfig(undefined, 'prod'), /--context prod needs a kubeconfig/);
  });
});
