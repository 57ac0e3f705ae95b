// Every command that turns a user's NAMESPACE/NAME or --namespace into an API request checks it as a Kubernetes
// name first: a hostile value is bad input (exit 2, one line naming the flag or argument), and no request —
// which would carry the user's token — is sent. A loopback HTTP server stands in for the API server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../artifacts/cli-capture.js';

const paths: string[] = [];
const server = createServer((req, res) => {
  paths.push(req.url ?? '');
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', code: 404, message: 'not found' }));
});
let kubeconfig = '';
const dir = mkdtempSync(join(tmpdir(), 'cli-names-'));
const pubKey = join(import.meta.dirname, '../fixtures/keys/cosign-ecdsa-p521/cosign.pub');

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    `clusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}"}\n` +
      `contexts:\n- name: x\n  context: {cluster: c, user: u}\n` +
      `current-context: x\nusers:\n- name: u\n  user: {token: user-token}\n`,
  );
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const cases: Array<{ argv: () => string[]; names: RegExp }> = [
  {
    argv: () => ['payload', '-n', '../../api/v1/secrets', 'build-1', '--kubeconfig', kubeconfig],
    names: /--namespace/,
  },
  { argv: () => ['payload', 'ns/x/../../../api/v1/secrets', '--kubeconfig', kubeconfig], names: /NAMESPACE\/NAME/ },
  { argv: () => ['payload', 'ns/a..b', '--kubeconfig', kubeconfig], names: /run name/ },
  { argv: () => ['signature', '--namespace', 'a b', 'build-1', '--kubeconfig', kubeconfig], names: /--namespace/ },
  { argv: () => ['signature', '..%2f..%2fapi/x', '--kubeconfig', kubeconfig], names: /namespace/ },
  { argv: () => ['verify-run', 'ns/a..b', '--key', pubKey, '--kubeconfig', kubeconfig], names: /run name/ },
  { argv: () => ['verify-run', 'ns-/build-1', '--key', pubKey, '--kubeconfig', kubeconfig], names: /namespace/ },
  {
    argv: () => ['resign', '--namespace', '../kube-system', '--dry-run', '--kubeconfig', kubeconfig],
    names: /--namespace/,
  },
  { argv: () => ['audit', '-n', 'Builds', '--kubeconfig', kubeconfig], names: /--namespace/ },
  { argv: () => ['audit', '--system-namespace', 'a/b', '--kubeconfig', kubeconfig], names: /--system-namespace/ },
];

for (const c of cases) {
  const title = `chainsmith ${c.argv().slice(0, 3).join(' ')} … is refused as bad input; nothing is sent to the API`;
  test(title, async () => {
    paths.length = 0;
    const r = await runCli(c.argv());
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr, c.names);
    assert.match(r.stderr, /not a valid (namespace|object name)|is not NAMESPACE\/NAME/);
    assert.equal(r.stdout, '');
    assert.deepEqual(paths, [], 'no request reached the API server');
  });
}

test('chainsmith controller refuses a hostile --namespace, SYSTEM_NAMESPACE, --lease-name or an unreadable Rekor key before starting', () => {
  const main = join(import.meta.dirname, '../../src/cli/main.ts');
  for (const [args, env, names] of [
    [['--namespace', 'ok,../../api'], {}, /--namespace "..\/..\/api"/],
    [[], { SYSTEM_NAMESPACE: 'tekton-chains/x' }, /SYSTEM_NAMESPACE/],
    [['--lease-name', 'a/../b'], {}, /--lease-name/],
    [['--rekor-public-key', '/nonexistent/rekor.pub'], {}, /Rekor public key .*rekor\.pub/],
    [[], { SIGSTORE_REKOR_PUBLIC_KEY: main }, /Rekor public key \(--rekor-public-key \/ SIGSTORE_REKOR_PUBLIC_KEY\)/],
  ] as const) {
    paths.length = 0;
    const argv = ['--import', 'tsx', main, 'controller', '--kubeconfig', kubeconfig, '--metrics-addr', '127.0.0.1:0'];
    argv.push(...args);
    const r = spawnSync(process.execPath, argv, {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, names);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('audit and resign refuse a kubeconfig context namespace that is not a namespace, naming where it came from', async () => {
  const bad = join(dir, 'bad-ns');
  const port = (server.address() as { port: number }).port;
  writeFileSync(
    bad,
    `clusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}"}\n` +
      `contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: "../secrets"}\n` +
      `current-context: x\nusers:\n- name: u\n  user: {token: user-token}\n`,
  );
  for (const cmd of ['audit', 'resign']) {
    paths.length = 0;
    const r = await runCli([cmd, '--kubeconfig', bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the kubeconfig context's namespace "\.\.\/secrets" is not a valid namespace/);
    assert.deepEqual(paths, []);
  }
});
