// The API client's bounds: a watch event (one line) may not grow without end, a non-watch request has one
// deadline covering its whole answer, an answer has a size cap, and the server's error text is escaped before it
// reaches a terminal, a log or an Event. A loopback HTTP server plays a slow or hostile API server.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeApiError, KubeClient, TASKRUNS, type KubeClientOptions } from '../../src/kube/client.js';
import { MAX_WATCH_EVENT_BYTES } from '../../src/kube/http.js';

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: KubeClientOptions = {},
): Promise<{ client: KubeClient; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new KubeClient(
    {
      server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      tls: { rejectUnauthorized: true },
      auth: { kind: 'token', token: 'sekret-token' },
      namespace: undefined,
      contextName: 'test',
    },
    opts,
  );
  return {
    client,
    close: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Watches until the stream ends; resolves with what onDone got (null: a clean end). */
function watchDone(client: KubeClient, onEvent: (type: string, name: string) => void = () => {}): Promise<unknown> {
  return new Promise((resolve) => {
    void client.watch('/apis/tekton.dev/v1/taskruns', {}, (t, o) => onEvent(t, String(o.metadata?.name)), resolve);
  });
}

test('a watch line over MAX_WATCH_EVENT_BYTES ends the watch with an error instead of buffering it all', async () => {
  const f = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent <= MAX_WATCH_EVENT_BYTES && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end('\n');
    };
    pump();
  });
  try {
    const done = await watchDone(f.client, () => assert.fail('no event'));
    assert.match(String(done), new RegExp(`an event larger than ${MAX_WATCH_EVENT_BYTES} bytes`));
  } finally {
    await f.close();
  }
});

test('watch events split anywhere (inside a multi-byte character too) arrive whole and in order', async () => {
  const lines = ['ADDED', 'MODIFIED', 'DELETED'].map(
    (type, i) => JSON.stringify({ type, object: { metadata: { name: `café-${i}` } } }) + '\n',
  );
  const bytes = Buffer.from(lines.join(''));
  const f = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    let i = 0;
    const step = (): void => {
      if (i >= bytes.length) return void res.end();
      res.write(bytes.subarray(i, i + 7));
      i += 7;
      setTimeout(step, 1);
    };
    step();
  });
  try {
    const seen: string[] = [];
    assert.equal(await watchDone(f.client, (t, n) => seen.push(`${t} ${n}`)), null);
    assert.deepEqual(seen, ['ADDED café-0', 'MODIFIED café-1', 'DELETED café-2']);
  } finally {
    await f.close();
  }
});

test('a server that sends headers, then trickles the body, fails the request at its deadline (transient)', async () => {
  const f = await serve(
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items": [');
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 50);
    },
    { limits: { requestTimeoutMs: 400 } },
  );
  const started = Date.now();
  try {
    await assert.rejects(f.client.list(TASKRUNS, 'ns'), (err: unknown) => {
      assert.ok(err instanceof KubeApiError, String(err));
      assert.equal(err.status, 0);
      assert.equal(err.transient, true);
      assert.match(err.message, /list taskruns: no complete answer within 0\.4 s/);
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  } finally {
    await f.close();
  }
});

test('an answer larger than the cap is refused, not buffered', async () => {
  const f = await serve(
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [{ big: 'x'.repeat(2 * 1024 * 1024) }], metadata: {} }));
    },
    { limits: { maxResponseBytes: 1024 * 1024 } },
  );
  try {
    await assert.rejects(f.client.list(TASKRUNS, 'ns'), /the answer is larger than 1048576 bytes/);
  } finally {
    await f.close();
  }
});

test("the server's error message is escaped and shortened before it is quoted; the token never is", async () => {
  const f = await serve((req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    const message = `forbidden \u001b[2J\u009b31m\u202eVERIFIED ${'y'.repeat(5000)}`;
    res.end(JSON.stringify({ kind: 'Status', code: 403, message }));
  });
  try {
    await assert.rejects(f.client.get(TASKRUNS, 'ns', 'x'), (err: unknown) => {
      const msg = (err as Error).message;
      assert.match(msg, /^get taskruns: HTTP 403: forbidden \\x1b\[2J\\x9b31m\\u202eVERIFIED y+…$/);
      assert.ok(msg.length < 1100, `message of ${msg.length} characters`);
      assert.doesNotMatch(msg, /sekret/);
      return true;
    });
  } finally {
    await f.close();
  }
});
