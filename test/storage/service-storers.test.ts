import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticCredentialSource } from '../../src/kube/registry-credentials.js';
import { buildStorers, closeReplacedStorers } from '../../src/storage/index.js';
import { ArchivistaStorer } from '../../src/storage/archivista.js';
import { ClientSlot } from '../../src/storage/client-slot.js';
import { DocdbStorer } from '../../src/storage/docdb.js';
import { GcsStorer } from '../../src/storage/gcs.js';
import { KafkaStorer } from '../../src/storage/kafka.js';
import type { Storer } from '../../src/storage/storer.js';
import { configWith } from './service-requests.js';

const deps = { credentials: new StaticCredentialSource([]) };
const ALL = {
  'artifacts.taskrun.storage': 'tekton,gcs,docdb,kafka,archivista',
  'storage.gcs.bucket': 'b',
  'storage.docdb.url': 'mongo://chains/attestations?id_field=name',
  'storage.pubsub.provider': 'kafka',
  'storage.pubsub.topic': 'chains',
  'storage.pubsub.kafka.bootstrap.servers': '127.0.0.1:9092',
  'storage.archivista.url': 'http://127.0.0.1:8082',
};

test('gcs, docdb, kafka and archivista are real backends now', () => {
  const storers = buildStorers(configWith(ALL), deps);
  assert.ok(storers.get('gcs') instanceof GcsStorer);
  assert.ok(storers.get('docdb') instanceof DocdbStorer);
  assert.ok(storers.get('kafka') instanceof KafkaStorer);
  assert.ok(storers.get('archivista') instanceof ArchivistaStorer);
});

test('a config change keeps a backend whose own keys did not change, and replaces one whose keys did', () => {
  const first = buildStorers(configWith(ALL), deps);
  const second = buildStorers(configWith({ ...ALL, 'transparency.enabled': 'true', 'storage.gcs.bucket': 'other' }), {
    ...deps,
    previous: first,
  });
  assert.equal(second.get('docdb'), first.get('docdb'));
  assert.equal(second.get('kafka'), first.get('kafka'));
  assert.equal(second.get('archivista'), first.get('archivista'));
  assert.notEqual(second.get('gcs'), first.get('gcs'));
});

test('closeReplacedStorers closes only what the new config dropped or rebuilt, and everything at shutdown', async () => {
  const closed: string[] = [];
  const storer = (name: string): Storer => ({
    name,
    store: async () => ({}),
    close: async () => void closed.push(name),
  });
  const kept = storer('docdb');
  const previous = new Map([
    ['docdb', kept],
    ['kafka', storer('kafka')],
  ] as const);
  await closeReplacedStorers(previous, new Map([['docdb', kept]]));
  assert.deepEqual(closed, ['kafka']);
  await closeReplacedStorers(new Map([['docdb', kept]]), new Map());
  assert.deepEqual(closed, ['kafka', 'docdb']);
});

test('ClientSlot: opened once, closed only after the store in flight finished, refused afterwards', async () => {
  const events: string[] = [];
  let opens = 0;
  const slot = new ClientSlot(
    'kafka',
    async () => {
      opens++;
      return 'client';
    },
    async () => void events.push('shut'),
  );
  let release!: () => void;
  const inFlight = slot.use(async () => {
    await new Promise<void>((r) => (release = r));
    events.push('store done');
  });
  await new Promise((r) => setImmediate(r));
  const closing = slot.close();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, [], 'not shut while a store uses it');
  release();
  await inFlight;
  await closing;
  assert.deepEqual(events, ['store done', 'shut']);
  assert.equal(opens, 1);
  await assert.rejects(
    slot.use(async () => 1),
    /replaced by a new configuration/,
  );
});

test('ClientSlot: a failed open is retried by the next use', async () => {
  let opens = 0;
  const slot = new ClientSlot(
    'docdb',
    async () => {
      if (++opens === 1) throw new Error('connect ECONNREFUSED');
      return 'client';
    },
    async () => undefined,
  );
  await assert.rejects(
    slot.use(async (c) => c),
    /ECONNREFUSED/,
  );
  assert.equal(await slot.use(async (c) => c), 'client');
});
