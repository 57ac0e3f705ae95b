// A kubeconfig is untrusted input too (downloaded, generated, shared): it must never make chainsmith run a
// command other than an exec credential plugin, never echo its content (it holds tokens) in an error, never
// block on a FIFO or read an unbounded file, and never have a setting silently ignored.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeClient, loadKubeConfig, TASKRUNS } from '../../src/kube/client.js';
import { runExecPlugin, MAX_EXEC_PLUGIN_OUTPUT_BYTES } from '../../src/kube/credentials.js';
import { MAX_KUBECONFIG_BYTES } from '../../src/kube/files.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kch-'));
const write = (dir: string, name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const config = (server: string, user: string, cluster = ''): string =>
  `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "${server}"\n${cluster}` +
  `contexts:\n- name: x\n  context: {cluster: c, user: u}\n` +
  `current-context: x\nusers:\n- name: u\n  user:\n${user}`;

/** A loopback API server recording each request. */
async function apiServer(): Promise<{ url: string; requests: IncomingMessage[]; close: () => Promise<void> }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items: [], metadata: {} }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

test('an auth-provider user is refused as kubectl >= 1.26 does; its cmd-path never runs', async () => {
  const dir = tmp();
  const marker = join(dir, 'cmd-path-ran');
  const api = await apiServer();
  try {
    for (const provider of ['gcp', 'azure']) {
      const file = write(
        dir,
        `kc-${provider}`,
        config(
          api.url,
          `    auth-provider:\n      name: ${provider}\n      config:\n        cmd-path: /bin/sh\n` +
            `        cmd-args: "-c 'touch ${marker}; echo {}'"\n`,
        ),
      );
      let client: KubeClient | undefined;
      try {
        client = new KubeClient(loadKubeConfig(file));
        await client.list(TASKRUNS, 'ns').catch(() => undefined);
        assert.fail(`the ${provider} auth-provider kubeconfig was accepted`);
      } catch (err) {
        assert.match(String(err), new RegExp(`auth-provider "${provider}".*removed in 1\\.26.*exec credential plugin`));
        assert.match(String(err), provider === 'gcp' ? /gke-gcloud-auth-plugin/ : /kubelogin/);
      } finally {
        client?.close();
      }
      assert.equal(existsSync(marker), false, 'the auth-provider command ran');
    }
    assert.equal(api.requests.length, 0);
  } finally {
    await api.close();
  }
});

test('a malformed kubeconfig is reported by file, line, column and problem, never quoting the token line', () => {
  const dir = tmp();
  const cases = [
    'users:\n- name: u\n  user:\n    token: sekret-token-abc123\n   bad: [\n',
    'users:\n- name: u\n  user: {token: "sekret-token-abc123\n',
    'users:\n- name: u\n  user:\n    token: sekret-token-abc123\n    token: sekret-token-abc123\n',
  ];
  for (const [i, text] of cases.entries()) {
    const file = write(dir, `bad-${i}`, text);
    assert.throws(
      () => loadKubeConfig(file),
      (err: Error) => {
        assert.doesNotMatch(err.message, /sekret/, 'the error quotes the file content');
        const where = new RegExp(`kubeconfig ${file} is not valid YAML: [A-Z_]+ at line \\d+, column \\d+$`);
        assert.match(err.message, where);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      },
    );
  }
});

test('a FIFO, a device or an oversized file as the kubeconfig (or a file it names) is refused without blocking', () => {
  const dir = tmp();
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => loadKubeConfig(fifo), /kubeconfig .*fifo is not a regular file/);
  assert.throws(() => loadKubeConfig('/dev/zero'), /kubeconfig \/dev\/zero is not a regular file/);
  const big = write(dir, 'big', `# ${'x'.repeat(MAX_KUBECONFIG_BYTES)}\n`);
  assert.throws(() => loadKubeConfig(big), new RegExp(`kubeconfig .*big is larger than ${MAX_KUBECONFIG_BYTES} bytes`));
  const caFifo = write(
    dir,
    'ca-fifo',
    config('https://127.0.0.1:1', '    token: t\n', `    certificate-authority: ${fifo}\n`),
  );
  assert.throws(() => loadKubeConfig(caFifo), /certificate-authority .*fifo is not a regular file/);
});

test('impersonation (as, as-uid, as-groups, as-user-extra) is sent as Impersonate-* headers, not dropped', async () => {
  const api = await apiServer();
  const dir = tmp();
  const file = write(
    dir,
    'kc',
    config(
      api.url,
      '    token: t\n    as: jane\n    as-uid: "42"\n    as-groups: [dev, "system:authenticated"]\n' +
        '    as-user-extra: {scopes.example.com/a b: [x, y]}\n',
    ),
  );
  const client = new KubeClient(loadKubeConfig(file));
  try {
    await client.list(TASKRUNS, 'ns');
    const h = api.requests[0]!.headers;
    assert.equal(h['impersonate-user'], 'jane');
    assert.equal(h['impersonate-uid'], '42');
    assert.deepEqual(api.requests[0]!.headersDistinct['impersonate-group'], ['dev', 'system:authenticated']);
    assert.deepEqual(api.requests[0]!.headersDistinct['impersonate-extra-scopes.example.com%2fa%20b'], ['x', 'y']);
    assert.equal(h.authorization, 'Bearer t');
  } finally {
    client.close();
    await api.close();
  }
  const groupsOnly = write(dir, 'groups-only', config(api.url, '    as-groups: [dev]\n'));
  assert.throws(() => loadKubeConfig(groupsOnly), /as-groups, as-uid or as-user-extra without "as"/);
});

test('proxy-url: an http proxy is tunnelled through with CONNECT; a SOCKS proxy is refused, not ignored', async () => {
  const api = await apiServer();
  const tunnels: string[] = [];
  // a minimal CONNECT proxy, as a corporate egress proxy would be
  const proxy = createServer();
  proxy.on('connect', (req: IncomingMessage, client) => {
    tunnels.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`);
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyPort = (proxy.address() as AddressInfo).port;
  const dir = tmp();
  const proxyUrl = `    proxy-url: http://alice:pw@127.0.0.1:${proxyPort}\n`;
  const file = write(dir, 'kc', config(api.url, '    token: t\n', proxyUrl));
  const client = new KubeClient(loadKubeConfig(file));
  try {
    await client.list(TASKRUNS, 'ns');
    await client.list(TASKRUNS, 'ns2');
    const basic = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
    assert.deepEqual(tunnels, [`${new URL(api.url).host} ${basic}`], 'one tunnel, reused');
    assert.deepEqual(
      api.requests.map((r) => r.url),
      ['/apis/tekton.dev/v1/namespaces/ns/taskruns', '/apis/tekton.dev/v1/namespaces/ns2/taskruns'],
    );
  } finally {
    client.close();
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
    await api.close();
  }
  const socksUrl = '    proxy-url: socks5://user:secretpw@127.0.0.1:1080\n';
  const socks = write(dir, 'socks', config('https://127.0.0.1:1', '    token: t\n', socksUrl));
  assert.throws(
    () => loadKubeConfig(socks),
    (err: Error) => /proxy-url scheme "socks5" is not supported/.test(err.message) && !/secretpw/.test(err.message),
  );
});

test('a server URL carrying credentials is refused without quoting them', () => {
  const file = write(tmp(), 'kc', config('https://admin:hunter2@127.0.0.1:6443', '    token: t\n'));
  assert.throws(
    () => loadKubeConfig(file),
    (err: Error) => /server URL carries credentials/.test(err.message) && !/hunter2/.test(err.message),
  );
});

test('an exec plugin is killed at its timeout, refused past its output cap, and its token is never quoted', async () => {
  const dir = tmp();
  const plugin = (name: string, body: string): string => {
    const f = write(dir, name, `#!/bin/sh\n${body}\n`);
    chmodSync(f, 0o755);
    return f;
  };
  const exec = (command: string) => ({
    command,
    args: ['--secret-arg=s3cr3t'],
    env: [],
    apiVersion: 'client.authentication.k8s.io/v1',
    baseDir: dir,
  });
  const slow = plugin('slow.sh', 'exec sleep 30');
  const started = Date.now();
  await assert.rejects(runExecPlugin(exec(slow), 300), /plugin .*slow\.sh did not finish within 0\.3 s \(killed\)/);
  assert.ok(Date.now() - started < 10_000, 'the plugin was not killed at its timeout');
  const chatty = plugin('chatty.sh', `head -c ${MAX_EXEC_PLUGIN_OUTPUT_BYTES + 10} /dev/zero | tr '\\0' a`);
  const tooMuch = new RegExp(`printed more than ${MAX_EXEC_PLUGIN_OUTPUT_BYTES} bytes`);
  await assert.rejects(runExecPlugin(exec(chatty)), tooMuch);
  const failing = plugin(
    'failing.sh',
    'printf \'{"status":{"token":"tok-123"}}\'; printf "login required \\033[2J\\n" >&2; exit 3',
  );
  await assert.rejects(runExecPlugin(exec(failing)), (err: Error) => {
    assert.match(err.message, /failing\.sh failed with exit code 3: login required \\x1b\[2J$/);
    assert.doesNotMatch(err.message, /tok-123|s3cr3t/);
    return true;
  });
  const odd = '{"status":{"token":42,"clientCertificateData":{"a":1},"clientKeyData":"k"}}';
  const nonString = plugin('odd.sh', `printf '${odd}'`);
  await assert.rejects(runExecPlugin(exec(nonString)), /returned neither a token nor a client certificate/);
});
