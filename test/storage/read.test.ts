// The readers of src/storage/read: each backend's storer writes into an in-memory client, the reader reads it back
// through an injected client, and src/verify/read-back.ts checks it — the same checks as the annotations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChainsmithError } from '../../src/errors.js';
import { archivistaBody, gitoidOf } from '../../src/storage/archivista.js';
import { DocdbStorer, type MongoWriter } from '../../src/storage/docdb.js';
import { GcsStorer } from '../../src/storage/gcs.js';
import { KafkaStorer, type KafkaRecord } from '../../src/storage/kafka.js';
import { ArchivistaReader } from '../../src/storage/read/archivista.js';
import { DocdbReader, type StoredDocument } from '../../src/storage/read/docdb.js';
import { GcsReader } from '../../src/storage/read/gcs.js';
import { configuredReaders, openReader } from '../../src/storage/read/index.js';
import { KafkaReader, type ConsumedRecord } from '../../src/storage/read/kafka.js';
import { TektonStorer } from '../../src/storage/tekton.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { verifyRunFrom } from '../../src/verify/read-back.js';
import { verifyRunAnnotations } from '../../src/verify/run-annotations.js';
import { HEX, SHORT, signedFixture, type SignedFixture } from './read-fixtures.js';

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

function withConfig(f: SignedFixture, edit: (c: SignedFixture['config']) => void): SignedFixture['config'] {
  const c = structuredClone(f.config);
  edit(c);
  return c;
}

describe('tekton reader: the annotations, through the same checks', () => {
  it('reads what TektonStorer wrote; verify-run --from tekton = verifyRunAnnotations', async () => {
    const f = await signedFixture();
    const annotations: Record<string, string> = {};
    for (const req of f.requests) Object.assign(annotations, (await new TektonStorer().store(req)).annotations);
    const run: TaskRun = { ...f.run, metadata: { ...f.run.metadata, annotations } };
    const report = await verifyRunFrom(run, openReader('tekton', f.config), f.signer.publicKey());
    assert.equal(report.verified, true, report.firstFailure);
    assert.deepEqual(
      report.entries.map((e) => [e.shortKey, e.kind, e.ok]),
      [
        [`taskrun-${f.run.metadata.uid}`, 'run-attestation', true],
        [SHORT, 'image-signature', true],
      ],
    );
    assert.deepEqual(report, verifyRunAnnotations(run, f.signer.publicKey()));
  });
});

describe('gcs reader', () => {
  async function bucket(f: SignedFixture) {
    const objects = new Map<string, Buffer>();
    const config = withConfig(f, (c) => (c.storage.gcs.bucket = 'b'));
    const storer = new GcsStorer(config, async () => ({
      write: async (bucketName, name, data) => void objects.set(`${bucketName}/${name}`, data),
    }));
    for (const req of [...f.requests, f.otherRequest]) await storer.store({ ...req, config });
    const reader = new GcsReader(config, async () => ({
      list: async (b, prefix) =>
        [...objects.keys()].filter((k) => k.startsWith(`${b}/${prefix}`)).map((k) => k.slice(b.length + 1)),
      read: async (b, name) => objects.get(`${b}/${name}`)!,
    }));
    return { objects, reader };
  }

  it('reads the objects under the run prefix and they verify; the other run’s objects are not read', async () => {
    const f = await signedFixture();
    const { reader } = await bucket(f);
    const report = await verifyRunFrom(f.run, reader, f.signer.publicKey());
    assert.equal(report.verified, true, report.firstFailure);
    assert.deepEqual(report.from, { backend: 'gcs', location: 'gs://b' });
    assert.equal(report.entries.length, 2);
    assert.match(report.entries[0]!.where!, /^gs:\/\/b\/taskrun-ns-build\/taskrun-7f6c.*\.signature$/);
  });

  it('a wrong key fails the signature check; an overwritten payload object fails the payload check', async () => {
    const f = await signedFixture();
    const { objects, reader } = await bucket(f);
    const wrong = await verifyRunFrom(f.run, reader, f.wrongKey);
    assert.equal(wrong.verified, false);
    assert.match(wrong.firstFailure!, /^taskrun-.*: signature:/);
    const name = `b/taskrun-ns-build/taskrun-${f.run.metadata.uid}.payload`;
    objects.set(name, Buffer.from(objects.get(name)!.toString().replace('"b"', '"evil"')));
    const tampered = await verifyRunFrom(f.run, reader, f.signer.publicKey());
    assert.equal(tampered.verified, false);
    assert.match(tampered.firstFailure!, /payload: the stored payload differs/);
  });

  it('no objects: nothing stored; no bucket: InvalidConfig; a refused connection: StorageFailed naming the bucket', async () => {
    const f = await signedFixture();
    const config = withConfig(f, (c) => (c.storage.gcs.bucket = 'b'));
    const empty = new GcsReader(config, async () => ({ list: async () => [], read: async () => Buffer.alloc(0) }));
    const none = await verifyRunFrom(f.run, empty, f.signer.publicKey());
    assert.equal(none.verified, false);
    assert.match(none.firstFailure!, /nothing stored for this run in gcs \(gs:\/\/b\)/);
    assert.throws(
      () => new GcsReader(f.config),
      (e: unknown) =>
        e instanceof ChainsmithError && e.reason === 'InvalidConfig' && /storage\.gcs\.bucket/.test(e.message),
    );
    const down = new GcsReader(config, async () => ({
      list: async () => Promise.reject(refused()),
      read: async () => Buffer.alloc(0),
    }));
    await assert.rejects(down.read(f.run), (e: unknown) => {
      assert.ok(e instanceof ChainsmithError);
      assert.equal(e.reason, 'StorageFailed');
      assert.match(e.message, /gcs: listing gs:\/\/b\/taskrun-ns-build\/\*: connect ECONNREFUSED/);
      return true;
    });
  });
});

describe('docdb reader', () => {
  async function collection(f: SignedFixture, idField = 'name') {
    const docs = new Map<string, StoredDocument>();
    const config = withConfig(f, (c) => {
      c.storage.docdb.url = `mongo://db/coll?id_field=${idField}`;
      c.storage.docdb.mongoServerUrl = 'mongodb://user:s3cret@127.0.0.1:27017/';
    });
    const writer: MongoWriter = {
      replace: async (_d, _c, id, document) => void docs.set(id, structuredClone(document)),
      double: (n) => n,
      close: async () => undefined,
    };
    const storer = new DocdbStorer(config, async () => writer);
    for (const req of [...f.requests, f.otherRequest]) await storer.store({ ...req, config });
    const queries: Array<{ field: string; keys: string[] }> = [];
    const reader = new DocdbReader(config, async () => ({
      find: async (_d, _c, field, keys) => {
        queries.push({ field, keys });
        return [...docs.values()].filter((d) => keys.includes(String(d[field])));
      },
      close: async () => undefined,
    }));
    return { docs, reader, queries };
  }

  it('reads the run’s document and its image’s by _id; they verify; the URL password is never shown', async () => {
    const f = await signedFixture();
    const { reader, queries } = await collection(f);
    const report = await verifyRunFrom(f.run, reader, f.signer.publicKey());
    assert.equal(report.verified, true, report.firstFailure);
    assert.deepEqual(
      report.entries.map((e) => e.shortKey),
      [`taskrun-${f.run.metadata.uid}`, SHORT],
    );
    assert.deepEqual(queries, [{ field: '_id', keys: [`taskrun-${f.run.metadata.uid}`, SHORT] }]);
    assert.doesNotMatch(JSON.stringify(report), /s3cret/);
    assert.match(report.entries[0]!.where!, /on mongodb:\/\/127\.0\.0\.1:27017\//);
  });

  it('with another id_field, documents are found by Name', async () => {
    const f = await signedFixture();
    const { reader, queries } = await collection(f, 'signature');
    const report = await verifyRunFrom(f.run, reader, f.signer.publicKey());
    assert.equal(report.verified, true, report.firstFailure);
    assert.equal(queries[0]!.field, 'Name');
  });

  it('an updated document fails the check; a refused server is a StorageFailed naming the collection', async () => {
    const f = await signedFixture();
    const { docs, reader } = await collection(f);
    const doc = docs.get(SHORT)!;
    doc.Signed = Buffer.from(String(doc.Signed).replace('05f95b26ed10', '05f95b26ed11'));
    const report = await verifyRunFrom(f.run, reader, f.signer.publicKey());
    assert.equal(report.verified, false);
    assert.match(report.firstFailure!, new RegExp(`^${SHORT}: `));
    const config = withConfig(f, (c) => {
      c.storage.docdb.url = 'mongo://db/coll?id_field=name';
      c.storage.docdb.mongoServerUrl = 'mongodb://user:s3cret@127.0.0.1:1/';
    });
    const down = new DocdbReader(config, async () => Promise.reject(refused()));
    await assert.rejects(down.read(f.run), (e: unknown) => {
      assert.ok(e instanceof ChainsmithError);
      assert.match(
        e.message,
        /docdb: connecting to mongo:\/\/db\/coll on mongodb:\/\/127\.0\.0\.1:1\/: connect ECONNREFUSED/,
      );
      assert.doesNotMatch(e.message, /s3cret/);
      return true;
    });
  });
});

describe('kafka reader', () => {
  async function topic(f: SignedFixture) {
    const sent: KafkaRecord[] = [];
    const config = withConfig(f, (c) => {
      c.storage.pubsub.provider = 'kafka';
      c.storage.pubsub.topic = 't';
      c.storage.pubsub.kafkaBootstrapServers = '127.0.0.1:9092';
    });
    const storer = new KafkaStorer(config, async () => ({
      send: async (_t, record) => void sent.push(record),
      close: async () => undefined,
    }));
    // the other run first, the run's provenance twice (a retried send), its image signature
    for (const req of [f.otherRequest, f.requests[0]!, f.requests[0]!, f.requests[1]!]) await storer.store(req);
    let consumed = 0;
    const reader = new KafkaReader(config, async () => {
      consumed++;
      return sent.map((r, i): ConsumedRecord => ({
        partition: 0,
        offset: BigInt(i),
        value: r.value,
        headers: new Map(Object.entries(r.headers)),
      }));
    });
    return { reader, sent, consumed: () => consumed };
  }

  it('keeps the attestation naming this run and the image signature it names; consumes the topic once', async () => {
    const f = await signedFixture();
    const { reader, consumed } = await topic(f);
    const report = await verifyRunFrom(f.run, reader, f.signer.publicKey());
    assert.equal(report.verified, true, report.firstFailure);
    assert.deepEqual(
      report.entries.map((e) => [e.shortKey, e.where]),
      [
        [`taskrun-${f.run.metadata.uid}`, 'record 0/1 of topic t on 127.0.0.1:9092'],
        [SHORT, 'record 0/3 of topic t on 127.0.0.1:9092'],
      ],
    );
    const other = await verifyRunFrom(f.otherRun, reader, f.signer.publicKey());
    assert.equal(other.verified, true, other.firstFailure);
    assert.equal(other.entries[0]!.where, 'record 0/0 of topic t on 127.0.0.1:9092');
    assert.equal(consumed(), 1, 'one consumption for both runs');
  });

  it('a wrong key fails; an unreachable broker is a StorageFailed naming the topic', async () => {
    const f = await signedFixture();
    const { reader } = await topic(f);
    const wrong = await verifyRunFrom(f.run, reader, f.wrongKey);
    assert.equal(wrong.verified, false);
    assert.match(wrong.firstFailure!, /signature/);
    const config = withConfig(f, (c) => {
      c.storage.pubsub.provider = 'kafka';
      c.storage.pubsub.topic = 't';
      c.storage.pubsub.kafkaBootstrapServers = '127.0.0.1:1';
    });
    const down = new KafkaReader(config, async () => Promise.reject(refused()));
    await assert.rejects(
      down.read(f.run, { ownsStatement: () => true }),
      /kafka: reading topic t on 127\.0\.0\.1:1: connect ECONNREFUSED/,
    );
  });
});

describe('archivista reader', () => {
  async function server(f: SignedFixture) {
    const stored = new Map<string, Buffer>();
    for (const req of [f.requests[0]!, f.otherRequest]) {
      const body = archivistaBody(req.signed.signature)!;
      stored.set(gitoidOf(body), body);
    }
    const queries: unknown[] = [];
    const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      if (url.pathname === '/query') {
        const q = JSON.parse(String(init?.body)) as { variables: { digests: string[] } };
        queries.push(q.variables.digests);
        const edges = [...stored.keys()].map((g) => ({ node: { gitoidSha256: g } }));
        return Response.json({ data: { dsses: { edges, pageInfo: { hasNextPage: false } } } });
      }
      const body = stored.get(url.pathname.replace('/download/', ''));
      return body ? new Response(new Uint8Array(body)) : new Response('not found', { status: 404 });
    }) as typeof fetch;
    const config = withConfig(f, (c) => (c.storage.archivista.url = 'http://arch.example'));
    return { reader: new ArchivistaReader(config, fetchFn), queries };
  }

  it('finds envelopes by the results’ digest, keeps the one naming this run, and it verifies', async () => {
    const f = await signedFixture();
    const { reader, queries } = await server(f);
    const report = await verifyRunFrom(f.run, reader, f.signer.publicKey());
    assert.equal(report.verified, true, report.firstFailure);
    assert.equal(report.entries.length, 1);
    assert.match(report.entries[0]!.where!, /^gitoid [0-9a-f]{64} on http:\/\/arch\.example\/$/);
    assert.deepEqual(queries, [[HEX]], 'one query, by the digest the results name');
  });

  it('a GraphQL error is a StorageFailed with the server’s words; a run without digests: nothing stored, said why', async () => {
    const f = await signedFixture();
    const config = withConfig(f, (c) => (c.storage.archivista.url = 'http://arch.example'));
    const failing = new ArchivistaReader(config, (async () =>
      Response.json({ errors: [{ message: 'boom' }], data: null })) as unknown as typeof fetch);
    await assert.rejects(
      failing.read(f.run, { ownsStatement: () => true }),
      /archivista: querying http:\/\/arch\.example\/: boom/,
    );
    const bare: TaskRun = { ...f.run, status: { ...f.run.status!, results: [] } };
    const report = await verifyRunFrom(bare, failing, f.signer.publicKey());
    assert.match(report.firstFailure!, /archivista is searched by subject digest and this run's results name none/);
  });
});

describe('configured readers', () => {
  it('the readable backends of a run kind: its own storage, and the images’ for TaskRuns', async () => {
    const f = await signedFixture();
    const c = withConfig(f, (x) => {
      x.artifacts.taskrun.storage = ['gcs', 'tekton'];
      x.artifacts.oci.storage = ['oci', 'kafka'];
      x.artifacts.pipelinerun.storage = ['docdb'];
    });
    assert.deepEqual(configuredReaders(c, 'TaskRun'), ['tekton', 'gcs', 'kafka']);
    assert.deepEqual(configuredReaders(c, 'PipelineRun'), ['docdb']);
  });
});
