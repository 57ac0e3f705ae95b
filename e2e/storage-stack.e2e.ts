// Proves the storage stack add-on (e2e/stack/addons/storage-up.sh) with the official clients the product's storers will
// use: @google-cloud/storage against fake-gcs-server (bucket, upload, read back), the mongodb driver against FerretDB
// (a document with Chains' dotted label keys), @platformatic/kafka against kfake (produce, consume), and Archivista's
// HTTP API (a DSSE envelope uploaded, downloaded by gitoid, found through GraphQL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { MongoClient } from 'mongodb';
import {
  Consumer,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
} from '@platformatic/kafka';
import { storageEnv } from './lib/env.js';

const suffix = randomBytes(4).toString('hex');

test('fake-gcs-server: @google-cloud/storage creates a bucket, uploads an object and reads it back', async () => {
  const env = storageEnv();
  // A custom apiEndpoint makes the client skip authentication (no credentials on this machine).
  const storage = new Storage({ apiEndpoint: env.gcsUrl, projectId: 'chainsmith-test' });
  const [bucket] = await storage.createBucket(`chains-${suffix}`);
  const name = `taskrun-ci-${suffix}.payload`;
  const body = JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [] });
  await bucket.file(name).save(body, { resumable: false, contentType: 'application/json' });
  const [read] = await bucket.file(name).download();
  assert.equal(read.toString('utf8'), body);
  const [files] = await bucket.getFiles();
  assert.deepEqual(
    files.map((f) => f.name),
    [name],
  );
});

test('FerretDB: the mongodb driver stores and finds a document with dotted keys', async () => {
  const env = storageEnv();
  const client = new MongoClient(env.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
    const coll = client
      .db('chains')
      .collection<{ _id: string; name: string; object: unknown; signed: Buffer }>(`attestations_${suffix}`);
    // As Chains' docdb backend stores a TaskRun: label and annotation keys such as tekton.dev/task contain dots.
    const doc = {
      _id: `taskrun-${suffix}`,
      name: `taskrun-${suffix}`,
      object: { metadata: { labels: { 'tekton.dev/task': 'build', 'app.kubernetes.io/name': 'demo' } } },
      signed: Buffer.from('signature bytes'),
    };
    await coll.insertOne(doc);
    const found = await coll.findOne({ _id: doc._id });
    assert.ok(found, 'the inserted document is found');
    assert.deepEqual(found.object, doc.object);
    assert.equal(Buffer.from(found.signed.buffer).toString(), 'signature bytes');
  } finally {
    await client.close();
  }
});

test('kfake: @platformatic/kafka produces a message and consumes it back', async () => {
  const env = storageEnv();
  const brokers = [env.kafkaBrokers];
  const topic = `${env.kafkaTopic}-${suffix}`; // auto-created on first use
  const value = JSON.stringify({ name: `taskrun-${suffix}`, signature: 'MEUC' });
  const producer = new Producer({
    clientId: 'chainsmith-e2e',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    autocreateTopics: true, // kfake runs with AllowAutoTopicCreation, as a Kafka with auto.create.topics.enable
  });
  try {
    await producer.send({ messages: [{ topic, key: `taskrun-${suffix}`, value }] });
  } finally {
    await producer.close();
  }
  const consumer = new Consumer({
    clientId: 'chainsmith-e2e',
    groupId: `chainsmith-e2e-${suffix}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    const first = await new Promise<Message<string, string, string, string>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within 20 s`)), 20_000);
      stream.once('data', (m: Message<string, string, string, string>) => {
        clearTimeout(timer);
        resolve(m);
      });
      stream.once('error', (e: Error) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    assert.equal(first.topic, topic);
    assert.equal(first.key, `taskrun-${suffix}`);
    assert.equal(first.value, value);
    await stream.close();
  } finally {
    await consumer.close(true);
  }
});

test('Archivista: a DSSE envelope is uploaded, downloaded by gitoid and found through GraphQL', async () => {
  const env = storageEnv();
  const digest = randomBytes(32).toString('hex');
  const statement = {
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{ name: `registry.local/app-${suffix}`, digest: { sha256: digest } }],
    predicate: { buildType: 'tekton.dev/v1beta1/TaskRun', builder: { id: 'https://chainsmith.test' } },
  };
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
    signatures: [{ keyid: 'chainsmith-e2e', sig: randomBytes(64).toString('base64') }],
  };
  const up = await fetch(`${env.archivistaUrl}/upload`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(envelope),
  });
  assert.equal(up.status, 200, `POST /upload: ${await up.clone().text()}`);
  const { gitoid } = (await up.json()) as { gitoid: string };
  assert.match(gitoid, /^[0-9a-f]{64}$/);

  const down = await fetch(`${env.archivistaUrl}/download/${gitoid}`);
  assert.equal(down.status, 200);
  assert.deepEqual(await down.json(), envelope);

  const query = `query ($gitoid: String!) {
    dsses(where: { gitoidSha256: $gitoid }) {
      edges { node { gitoidSha256 payloadType statement { predicate subjects { edges { node { name } } } } } }
    }
  }`;
  const res = await fetch(`${env.archivistaUrl}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, variables: { gitoid } }),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    errors?: unknown[];
    data?: {
      dsses: {
        edges: {
          node: {
            gitoidSha256: string;
            payloadType: string;
            statement: { predicate: string; subjects: { edges: { node: { name: string } }[] } };
          };
        }[];
      };
    };
  };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  const nodes = body.data?.dsses.edges.map((e) => e.node) ?? [];
  assert.equal(nodes.length, 1);
  assert.equal(nodes[0]!.gitoidSha256, gitoid);
  assert.equal(nodes[0]!.payloadType, envelope.payloadType);
  assert.equal(nodes[0]!.statement.predicate, statement.predicateType);
  assert.deepEqual(
    nodes[0]!.statement.subjects.edges.map((e) => e.node.name),
    [statement.subject[0]!.name],
  );
});
