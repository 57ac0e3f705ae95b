// The client's writes beyond the controller's own: a run's status subresource, a cluster-scoped object, and
// DELETE — each sent to the path the API names, counted once, and refused without a request for a bad name.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { KubeApiError, KubeClient, TASKRUNS, type RequestVerb, type ResourceType } from '../../src/kube/client.js';
import { InvalidKubeNameError } from '../../src/kube/names.js';

const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], body });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const counted: Array<[RequestVerb, string]> = [];
  const client = new KubeClient(
    {
      server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      tls: { rejectUnauthorized: true },
      auth: { kind: 'none' },
      namespace: undefined,
      contextName: 'test',
    },
    { onRequest: (verb, resource) => counted.push([verb, resource]) },
  );
  return {
    client,
    seen,
    counted,
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

test('mergePatchStatus sends a merge patch to the status subresource and returns the object', async () => {
  const f = await serve((_req, res) => json(res, 200, { kind: 'TaskRun', status: { podName: 'p' } }));
  try {
    const got = await f.client.mergePatchStatus<{ status: { podName: string } }>(TASKRUNS, 'ns', 'tr', {
      status: { podName: 'p' },
    });
    assert.equal(got.status.podName, 'p');
    assert.deepEqual(f.seen, [
      {
        method: 'PATCH',
        url: '/apis/tekton.dev/v1/namespaces/ns/taskruns/tr/status',
        contentType: 'application/merge-patch+json',
        body: '{"status":{"podName":"p"}}',
      },
    ]);
    assert.deepEqual(f.counted, [['patch', 'taskruns']]);
  } finally {
    await f.close();
  }
});

test('createClusterScoped POSTs to the collection with no namespace in its path', async () => {
  const f = await serve((_req, res) => json(res, 201, { kind: 'Namespace', metadata: { name: 'n1' } }));
  try {
    await f.client.createClusterScoped(NAMESPACES, { metadata: { name: 'n1' } });
    assert.equal(f.seen[0]?.method, 'POST');
    assert.equal(f.seen[0]?.url, '/api/v1/namespaces');
    assert.deepEqual(f.counted, [['create', 'namespaces']]);
  } finally {
    await f.close();
  }
});

test('delete resolves true when the object was deleted, false when there was none, and throws other answers', async () => {
  const status = [200, 404, 500];
  const f = await serve((_req, res) => {
    const code = status.shift()!;
    json(res, code, { kind: code === 200 ? 'TaskRun' : 'Status', code, message: code === 500 ? 'boom' : '' });
  });
  try {
    assert.equal(await f.client.delete(TASKRUNS, 'ns', 'tr'), true);
    assert.equal(await f.client.delete(TASKRUNS, 'ns', 'tr'), false);
    await assert.rejects(
      f.client.delete(TASKRUNS, 'ns', 'tr'),
      (err: unknown) => err instanceof KubeApiError && err.status === 500 && err.transient,
    );
    assert.deepEqual(
      f.seen.map((s) => `${s.method} ${s.url}`),
      Array(3).fill('DELETE /apis/tekton.dev/v1/namespaces/ns/taskruns/tr'),
    );
    assert.deepEqual(f.counted, Array(3).fill(['delete', 'taskruns']));
  } finally {
    await f.close();
  }
});

test('a name that is not a Kubernetes name is refused before any request', async () => {
  const f = await serve((_req, res) => json(res, 200, {}));
  try {
    await assert.rejects(f.client.delete(TASKRUNS, 'ns', '../x'), InvalidKubeNameError);
    await assert.rejects(f.client.mergePatchStatus(TASKRUNS, 'ns', 'a/b', {}), InvalidKubeNameError);
    assert.deepEqual(f.seen, []);
  } finally {
    await f.close();
  }
});
