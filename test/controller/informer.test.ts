import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Informer } from '../../src/controller/informer.js';
import { TASKRUNS, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { createLogger } from '../../src/observability/logger.js';

const logger = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const obj = (uid: string, rv: string): KubeObject => ({
  metadata: { uid, name: uid, namespace: 'ns', resourceVersion: rv },
});

/** A scripted API: list pages per call, and one scripted watch stream per call. */
function fakeClient(
  lists: KubeObject[][][],
  watches: Array<(emit: (t: string, o: KubeObject) => void, done: (e: unknown) => void) => void>,
) {
  const calls = {
    list: [] as Array<{ continue?: string; limit?: number }>,
    watch: [] as Array<Record<string, unknown>>,
  };
  let listCall = -1;
  let watchCall = 0;
  const client = {
    async list(_res: unknown, _ns: unknown, q: { continue?: string; limit?: number }) {
      calls.list.push(q);
      if (!q.continue) listCall++;
      const pages = lists[Math.min(listCall, lists.length - 1)]!;
      const i = q.continue ? Number(q.continue) : 0;
      return {
        items: structuredClone(pages[i]!),
        metadata: { resourceVersion: `list-${listCall}`, continue: i + 1 < pages.length ? String(i + 1) : undefined },
      };
    },
    async watch(
      _p: string,
      q: Record<string, unknown>,
      onEvent: (t: string, o: KubeObject) => void,
      onDone: (e: unknown) => void,
    ) {
      calls.watch.push(q);
      const script = watches[watchCall++];
      if (script) setImmediate(() => script(onEvent, onDone));
      return () => undefined;
    },
  } as unknown as KubeClient;
  return { client, calls };
}

test('lists page by page, then watches from the list resourceVersion', async () => {
  const upserts: string[] = [];
  const { client, calls } = fakeClient([[[obj('a', '1'), obj('b', '2')], [obj('c', '3')]]], []);
  const inf = new Informer({
    client,
    resource: TASKRUNS,
    namespace: 'ns',
    pageSize: 2,
    logger,
    handlers: { upsert: (o, phase) => upserts.push(`${o.metadata!.uid}:${phase}`), remove: () => undefined },
  });
  await inf.start();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(upserts, ['a:initial', 'b:initial', 'c:initial']);
  assert.deepEqual(
    calls.list.map((q) => [q.limit, q.continue]),
    [
      [2, undefined],
      [2, '1'],
    ],
  );
  assert.equal(calls.watch[0]!.resourceVersion, 'list-0');
  assert.equal(calls.watch[0]!.allowWatchBookmarks, true);
  assert.equal(inf.hasSynced, true);
  inf.stop();
});

test('watch events update, delete, and advance the resourceVersion; 410 Gone relists and reports vanished objects', async () => {
  const events: string[] = [];
  let relisted: Set<string> | undefined;
  const { client, calls } = fakeClient(
    [[[obj('a', '1'), obj('b', '2')]], [[obj('a', '9')]]],
    [
      (emit, done) => {
        emit('MODIFIED', obj('a', '5'));
        emit('BOOKMARK', { metadata: { resourceVersion: '6' } });
        done(null); // server closed the stream normally: re-watch from the last version
      },
      (emit, done) => {
        emit('DELETED', obj('b', '7'));
        emit('ERROR', { kind: 'Status', code: 410 } as unknown as KubeObject);
        done(null);
      },
    ],
  );
  const inf = new Informer({
    client,
    resource: TASKRUNS,
    logger,
    handlers: {
      upsert: (o, phase) => events.push(`up ${o.metadata!.uid}@${o.metadata!.resourceVersion} ${phase}`),
      remove: (o) => events.push(`rm ${o.metadata!.uid}`),
      relisted: (uids) => (relisted = uids),
    },
  });
  await inf.start();
  for (let i = 0; i < 20 && !relisted; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(events, ['up a@1 initial', 'up b@2 initial', 'up a@5 watch', 'rm b', 'up a@9 relist']);
  assert.equal(calls.watch[1]!.resourceVersion, '6', 're-watch from the bookmark');
  assert.deepEqual([...relisted!], ['a']);
  assert.equal(calls.watch[2]!.resourceVersion, 'list-1', 'watch again from the relist');
  inf.stop();
});

test('a failing watch reconnects with backoff from the last resourceVersion', async () => {
  const { client, calls } = fakeClient([[[obj('a', '1')]]], [(_e, done) => done(new Error('connection reset'))]);
  const inf = new Informer({
    client,
    resource: TASKRUNS,
    logger,
    handlers: { upsert: () => undefined, remove: () => undefined },
  });
  await inf.start();
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(calls.watch.length, 2);
  assert.equal(calls.watch[1]!.resourceVersion, 'list-0');
  inf.stop();
});

test('a handler that throws does not stop the stream', async () => {
  const seen: string[] = [];
  const { client } = fakeClient([[[obj('bad', '1'), obj('good', '2')]]], []);
  const inf = new Informer({
    client,
    resource: TASKRUNS,
    logger,
    handlers: {
      upsert: (o) => {
        if (o.metadata!.uid === 'bad') throw new Error('boom');
        seen.push(o.metadata!.uid!);
      },
      remove: () => undefined,
    },
  });
  await inf.start();
  assert.deepEqual(seen, ['good']);
  inf.stop();
});
