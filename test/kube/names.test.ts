// Kubernetes names reach request paths only when they are names: the API client refuses to build a path from
// anything else, so `..`, `/`, `?`, `%`, `#` or whitespace can never make a request for a run (sent with the
// controller's credentials) address another resource. A loopback HTTP server stands in for the API server and
// records every path it is asked for.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { EVENTS, KubeClient, LEASES, SECRETS, TASKRUNS } from '../../src/kube/client.js';
import { namespaceProblem, objectNameProblem } from '../../src/kube/names.js';

async function recordingServer(): Promise<{ client: KubeClient; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Secret', items: [], metadata: {} }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = new KubeClient({
    server: `http://127.0.0.1:${port}`,
    tls: { rejectUnauthorized: true },
    auth: { kind: 'token', token: 'controller-token' },
    namespace: undefined,
    contextName: 'test',
  });
  return {
    client,
    paths,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const HOSTILE = [
  ...['../../api/v1/secrets', '..', 'a/b', 'ns?watch=1', 'ns#x', '%2e%2e', 'a b', 'ns\n', 'UPPER', '', '-x', 'x-'],
  'a'.repeat(64),
];

test('namespaces are DNS-1123 labels and object names DNS-1123 subdomains, as the API server defines them', () => {
  for (const ok of ['default', 'tekton-chains', 'a', 'a'.repeat(63), '0ns']) {
    assert.equal(namespaceProblem(ok), undefined, ok);
  }
  for (const bad of HOSTILE) assert.ok(namespaceProblem(bad), JSON.stringify(bad));
  assert.ok(namespaceProblem('a.b'), 'a namespace has no dots');
  for (const ok of ['build-1', 'build.v1.x', 'a'.repeat(253), 'x-1.y-2']) {
    assert.equal(objectNameProblem(ok), undefined, ok);
  }
  for (const bad of [...HOSTILE.filter((h) => h !== 'a'.repeat(64)), 'a..b', '.a', 'a.', 'a'.repeat(254)]) {
    assert.ok(objectNameProblem(bad), JSON.stringify(bad));
  }
});

test('a hostile namespace or name is refused before any request: no token leaves for another path', async () => {
  const f = await recordingServer();
  try {
    for (const ns of HOSTILE) {
      await assert.rejects(f.client.get(TASKRUNS, ns, 'build-1'), (err: unknown) => {
        assert.equal((err as { reason?: string }).reason, 'InvalidName', `${JSON.stringify(ns)}: ${String(err)}`);
        assert.equal((err as { transient?: boolean }).transient, false, 'a refused name is never retried');
        assert.match((err as Error).message, /^namespace ".*" (is not a valid namespace|is longer than 63)/);
        return true;
      });
      await assert.rejects(f.client.list(TASKRUNS, ns), /namespace/);
      await assert.rejects(f.client.create(EVENTS, ns, {}), /namespace/);
    }
    const names = ['../../../api/v1/namespaces/kube-system/secrets/admin', '..', 'x/y', 'x?dryRun=All', '%2F', 'a b'];
    for (const name of names) {
      await assert.rejects(f.client.get(SECRETS, 'ns', name), /name ".*" is not a valid object name/);
      await assert.rejects(f.client.mergePatch(TASKRUNS, 'ns', name, { metadata: {} }), /is not a valid object name/);
      await assert.rejects(f.client.replace(LEASES, 'ns', name, {}), /is not a valid object name/);
    }
    assert.deepEqual(f.paths, [], 'no request reached the server');
    // valid names still work, and the path is exactly the object's
    await f.client.get(TASKRUNS, 'ns', 'build-1.a');
    assert.deepEqual(f.paths, ['/apis/tekton.dev/v1/namespaces/ns/taskruns/build-1.a']);
  } finally {
    await f.close();
  }
});

test('a watch path not made of Kubernetes names is refused before it is sent (second line of defence)', async () => {
  const f = await recordingServer();
  try {
    const paths = [
      '/apis/tekton.dev/v1/namespaces/../../api/v1/secrets',
      '/api/v1/namespaces/a%2fb/pods',
      '/api/v1/x?y',
      '/api//v1',
      '/api/v1/ ',
    ];
    for (const path of paths) {
      await assert.rejects(
        f.client.watch(
          path,
          {},
          () => assert.fail('no events'),
          () => undefined,
        ),
        (err: unknown) => (err as { reason?: string }).reason === 'InvalidName' && /API path/.test(String(err)),
        path,
      );
    }
    assert.deepEqual(f.paths, []);
  } finally {
    await f.close();
  }
});
