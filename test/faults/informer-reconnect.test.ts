// After a kube-apiserver restart the first watches are answered 429 while its watch cache warms up. The
// informer must then retry within about a second, not after the backoff it grew while the server was
// unreachable (measured on the real stack: 32 s to recover before this, docs/reliability.md scenario 2).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Informer } from '../../src/controller/informer.js';
import { TASKRUNS, type KubeClient, type KubeObject } from '../../src/kube/client.js';
import { createLogger } from '../../src/observability/logger.js';

const logger = createLogger({ stream: new Writable({ write: (_c, _e, cb) => cb() }) });
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A client whose watches fail as scripted: `errors[i]` is what watch call i ends with. */
function failingClient(errors: unknown[]) {
  const watches: number[] = [];
  const client = {
    async list() {
      return { items: [] as KubeObject[], metadata: { resourceVersion: '1' } };
    },
    async watch(_p: string, _q: unknown, _onEvent: unknown, onDone: (e: unknown) => void) {
      const i = watches.length;
      watches.push(i);
      const err = errors[i];
      if (err !== undefined) setImmediate(() => onDone(err));
      return () => undefined;
    },
  } as unknown as KubeClient;
  return { client, watches };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
const tooMany = () => Object.assign(new Error('Too Many Requests'), { statusCode: 429 });

test('a 429 after an outage is retried within a second, not after the backoff grown during the outage', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    // six refused connections grow the backoff to 30 s; then the server answers 429, then the watch holds
    const { client, watches } = failingClient([
      refused(),
      refused(),
      refused(),
      refused(),
      refused(),
      refused(),
      tooMany(),
    ]);
    const inf = new Informer({
      client,
      resource: TASKRUNS,
      logger,
      handlers: { upsert: () => undefined, remove: () => undefined },
    });
    await inf.start();
    await flush();
    for (const wait of [500, 1_000, 2_000, 4_000, 8_000, 16_000]) {
      const before = watches.length;
      mock.timers.tick(wait);
      await flush();
      assert.equal(watches.length, before + 1, `reconnected after ${wait} ms of backoff`);
    }
    // watch #7 got the 429: the next attempt comes within a second
    mock.timers.tick(1_000);
    await flush();
    assert.equal(watches.length, 8, 'retried within 1 s of the 429');
    inf.stop();
  } finally {
    mock.timers.reset();
  }
});

test('a persistent 429 is retried every second, never in a tight loop', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { client, watches } = failingClient(Array.from({ length: 20 }, tooMany));
    const inf = new Informer({
      client,
      resource: TASKRUNS,
      logger,
      handlers: { upsert: () => undefined, remove: () => undefined },
    });
    await inf.start();
    await flush();
    assert.equal(watches.length, 1);
    mock.timers.tick(499);
    await flush();
    assert.equal(watches.length, 1, 'not before the first backoff');
    for (let i = 0; i < 5; i++) {
      mock.timers.tick(1_000);
      await flush();
    }
    assert.ok(
      watches.length >= 5 && watches.length <= 7,
      `about one attempt per second (got ${watches.length} in 5.5 s)`,
    );
    inf.stop();
  } finally {
    mock.timers.reset();
  }
});
