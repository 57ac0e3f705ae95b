// The controller's HTTP to the API server: one reused TLS connection, credentials on every request (fresh
// ones after a 401), the server's own error message, and watch streams parsed line by line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KubeApiError, KubeClient, TASKRUNS, type KubeObject } from '../../src/kube/client.js';
import type { ClusterConnection, UserAuth } from '../../src/kube/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'kubehttp-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
);
const key = readFileSync(join(dir, 'key.pem'));
const cert = readFileSync(join(dir, 'cert.pem'));

interface Fixture {
  client: KubeClient;
  requests: IncomingMessage[];
  connections: () => number;
  close: () => Promise<void>;
}

async function serve(
  auth: UserAuth,
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<Fixture> {
  const requests: IncomingMessage[] = [];
  let connections = 0;
  const server: Server = createServer({ key, cert }, (req, res) => {
    requests.push(req);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const connection: ClusterConnection = {
    server: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    tls: { ca: cert, rejectUnauthorized: true },
    auth,
    namespace: undefined,
    contextName: 'test',
  };
  const client = new KubeClient(connection);
  return {
    client,
    requests,
    connections: () => connections,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('API calls share one TLS connection, verify the server against the CA, and each carries the bearer token', async () => {
  const f = await serve({ kind: 'token', token: 'sekret-token' }, (req, res) =>
    json(res, 200, { kind: 'TaskRun', metadata: { name: 'x' } }),
  );
  try {
    for (let i = 0; i < 5; i++)
      assert.equal((await f.client.get<KubeObject>(TASKRUNS, 'ns', 'x'))?.metadata?.name, 'x');
    assert.equal(f.connections(), 1, 'five sequential requests should reuse one TLS connection');
    assert.deepEqual(
      f.requests.map((r) => r.headers.authorization),
      Array(5).fill('Bearer sekret-token'),
    );
    assert.equal(f.requests[0]!.url, '/apis/tekton.dev/v1/namespaces/ns/taskruns/x');
  } finally {
    await f.close();
  }
});

test('a merge patch is sent as application/merge-patch+json, and a 409 comes back as a transient ApiConflict with the server message', async () => {
  const f = await serve({ kind: 'none' }, (req, res, body) => {
    assert.equal(req.headers['content-type'], 'application/merge-patch+json');
    assert.deepEqual(JSON.parse(body), { metadata: { resourceVersion: '5', annotations: { a: 'b' } } });
    json(res, 409, {
      kind: 'Status',
      code: 409,
      reason: 'Conflict',
      message: 'the object has been modified; please apply your changes to the latest version',
    });
  });
  try {
    await assert.rejects(
      f.client.mergePatch(TASKRUNS, 'ns', 'x', { metadata: { resourceVersion: '5', annotations: { a: 'b' } } }),
      (err: unknown) => {
        assert.ok(err instanceof KubeApiError);
        assert.equal(err.status, 409);
        assert.equal(err.reason, 'ApiConflict');
        assert.equal(err.transient, true);
        assert.equal(
          err.message,
          'patch taskruns: HTTP 409: the object has been modified; please apply your changes to the latest version',
        );
        return true;
      },
    );
  } finally {
    await f.close();
  }
});

test('a 404 GET resolves undefined; an unreachable server is a transient error with status 0', async () => {
  const f = await serve({ kind: 'none' }, (req, res) =>
    json(res, 404, { kind: 'Status', code: 404, message: 'not found' }),
  );
  const server = f.client.connection.server;
  try {
    assert.equal(await f.client.get(TASKRUNS, 'ns', 'x'), undefined);
  } finally {
    await f.close();
  }
  const down = new KubeClient({ ...f.client.connection, server });
  await assert.rejects(
    down.list(TASKRUNS, 'ns'),
    (err: unknown) =>
      err instanceof KubeApiError && err.status === 0 && err.transient && /ECONNREFUSED/.test(err.message),
  );
  down.close();
});

test('a rotated token file is re-read after a 401 and the request retried once', async () => {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'old\n');
  const f = await serve({ kind: 'token-file', path: tokenFile }, (req, res) => {
    if (req.headers.authorization === 'Bearer new') json(res, 200, { items: [], metadata: {} });
    else json(res, 401, { kind: 'Status', code: 401, message: 'Unauthorized' });
  });
  try {
    await f.client.list(TASKRUNS, undefined); // 401 with "old" (cached), then retried with "new"
    assert.fail('expected the first list to fail: the token is still "old"');
  } catch (err) {
    assert.ok(err instanceof KubeApiError && err.status === 401, String(err));
  }
  try {
    writeFileSync(tokenFile, 'new\n');
    assert.deepEqual((await f.client.list(TASKRUNS, undefined)).items, []);
    assert.deepEqual(
      f.requests.map((r) => r.headers.authorization),
      ['Bearer old', 'Bearer old', 'Bearer old', 'Bearer new'],
    );
  } finally {
    await f.close();
  }
});

test('an exec credential plugin runs once while its token is valid, with KUBERNETES_EXEC_INFO and the configured env', async () => {
  const plugin = join(dir, 'get-token.sh');
  const calls = join(dir, 'plugin-calls');
  writeFileSync(calls, '');
  writeFileSync(
    plugin,
    `#!/bin/sh\necho "$KUBERNETES_EXEC_INFO $GREETING" >> ${calls}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-%s","expirationTimestamp":"2999-01-01T00:00:00Z"}}' "$1"\n`,
  );
  chmodSync(plugin, 0o755);
  const f = await serve(
    {
      kind: 'exec',
      exec: {
        command: './get-token.sh',
        args: ['abc'],
        env: [{ name: 'GREETING', value: 'hi' }],
        apiVersion: 'client.authentication.k8s.io/v1',
        baseDir: dir,
      },
    },
    (req, res) => json(res, 200, { items: [], metadata: {} }),
  );
  try {
    await Promise.all([f.client.list(TASKRUNS, 'a'), f.client.list(TASKRUNS, 'b'), f.client.list(TASKRUNS, 'c')]);
    assert.deepEqual(
      f.requests.map((r) => r.headers.authorization),
      Array(3).fill('Bearer exec-abc'),
    );
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, 'the plugin runs once for concurrent requests and its cached token is reused');
    assert.match(lines[0]!, /"kind":"ExecCredential".*"interactive":false.* hi$/);
  } finally {
    await f.close();
  }
});

test('a watch delivers events split across chunks in order, then ends once; a 410 answer carries statusCode 410', async () => {
  const f = await serve({ kind: 'none' }, (req, res) => {
    const url = new URL(req.url!, 'https://x');
    assert.equal(url.searchParams.get('watch'), 'true');
    if (url.searchParams.get('resourceVersion') === 'old')
      return json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    res.writeHead(200, { 'content-type': 'application/json' });
    const lines = [
      { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } },
      { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '2' } } },
    ]
      .map((e) => JSON.stringify(e) + '\n')
      .join('');
    res.write(lines.slice(0, 17));
    setTimeout(() => {
      res.write(lines.slice(17, 70));
      setTimeout(() => res.end(lines.slice(70)), 20);
    }, 20);
  });
  try {
    const seen: string[] = [];
    const done = await new Promise<unknown[]>((resolve) => {
      const results: unknown[] = [];
      void f.client.watch(
        '/apis/tekton.dev/v1/taskruns',
        { resourceVersion: '0' },
        (type, obj) => seen.push(`${type} ${obj.metadata?.resourceVersion}`),
        (err) => {
          results.push(err);
          setTimeout(() => resolve(results), 50);
        },
      );
    });
    assert.deepEqual(seen, ['ADDED 1', 'MODIFIED 2']);
    assert.deepEqual(done, [null]);
    const gone = await new Promise<unknown>(
      (resolve) =>
        void f.client.watch(
          '/apis/tekton.dev/v1/taskruns',
          { resourceVersion: 'old' },
          () => assert.fail('no events'),
          resolve,
        ),
    );
    assert.equal((gone as { statusCode?: number }).statusCode, 410);
  } finally {
    await f.close();
  }
});
