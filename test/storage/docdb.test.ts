import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON, Double } from 'mongodb';
import { ChainsmithError } from '../../src/errors.js';
import { DocdbStorer, parseDocdbUrl, signedDocument, type MongoWriter } from '../../src/storage/docdb.js';
import { resolveMongoServerUrl } from '../../src/storage/docdb-server-url.js';
import { attestationRequest, configWith, imageSignatureRequest, taskRun } from './service-requests.js';

/** A MongoDB stand-in: documents per server URL and collection, keyed by _id (replace = upsert). */
function memoryMongo() {
  const servers = new Map<string, Map<string, Map<string, Record<string, unknown>>>>();
  const connected: string[] = [];
  const closed: string[] = [];
  let fail: unknown;
  const connect = async (url: string): Promise<MongoWriter> => {
    connected.push(url);
    const colls = servers.get(url) ?? new Map<string, Map<string, Record<string, unknown>>>();
    servers.set(url, colls);
    return {
      async replace(db, coll, id, doc) {
        if (fail) throw fail;
        const key = `${db}.${coll}`;
        const docs = colls.get(key) ?? new Map<string, Record<string, unknown>>();
        colls.set(key, docs);
        docs.set(id, doc);
      },
      double: (n) => new Double(n),
      async close() {
        closed.push(url);
      },
    };
  };
  return { servers, connected, closed, connect, failWith: (e: unknown) => (fail = e) };
}

const URL_KEY = { 'storage.docdb.url': 'mongo://chains/attestations?id_field=name' };

test('storage.docdb.url: database, collection and id field as go-cloud reads them', () => {
  assert.deepEqual(parseDocdbUrl('mongo://chains/attestations?id_field=name'), {
    database: 'chains',
    collection: 'attestations',
    idField: 'name',
    keyField: 'Name',
  });
});

test('firestore:// and dynamodb:// are refused with InvalidConfig saying what is supported', () => {
  for (const url of [
    'firestore://projects/p/databases/(default)/documents/c?name_field=name',
    'dynamodb://t?partition_key=Name',
  ]) {
    assert.throws(
      () => parseDocdbUrl(url),
      (err: ChainsmithError) =>
        err.reason === 'InvalidConfig' &&
        /not supported by chainsmith/.test(err.message) &&
        /mongo:\/\//.test(err.message),
    );
  }
});

test('URLs Chains would open and then fail every store with are refused up front, each with a reason', () => {
  const cases: Array<[string | undefined, RegExp]> = [
    [undefined, /storage\.docdb\.url is not set/],
    ['mongo://chains/attestations', /no id_field; add \?id_field=name/],
    ['mongo://chains/attestations?id_field=name&w=1', /query parameter "w"/],
    ['mongo://chains?id_field=name', /no collection/],
    ['mongo://chains/attestations?id_field=uid', /names no document field/],
    ['mongo://chains/attestations?id_field=object', /not a string/],
    ['s3://bucket/key', /scheme s3:\/\/ is unknown/],
  ];
  for (const [url, message] of cases)
    assert.throws(
      () => parseDocdbUrl(url),
      (err: ChainsmithError) => err.reason === 'InvalidConfig' && message.test(err.message),
      String(url),
    );
});

test('the document: _id and Name = short key, Signed bytes, Signature base64, Cert, Chain, Object parsed', async () => {
  const req = await attestationRequest();
  const { id, document } = signedDocument(req, parseDocdbUrl(URL_KEY['storage.docdb.url']));
  assert.equal(id, req.shortKey);
  assert.deepEqual(Object.keys(document), ['_id', 'Signed', 'Signature', 'Cert', 'Chain', 'Object', 'Name']);
  assert.equal(document._id, req.shortKey);
  assert.equal(document.Name, req.shortKey);
  assert.ok((document.Signed as Buffer).equals(req.signed.payload));
  assert.equal(Buffer.from(document.Signature as string, 'base64').toString(), req.signed.signature.toString());
  assert.equal(document.Cert, '');
  assert.equal(document.Chain, '');
  assert.deepEqual(document.Object, JSON.parse(req.signed.payload.toString()));
});

test('id_field=Name (the exact field name) keys by the short key and drops Name, as docstore does', async () => {
  const req = await attestationRequest();
  const { document } = signedDocument(req, parseDocdbUrl('mongo://chains/attestations?id_field=Name'));
  assert.equal(document._id, req.shortKey);
  assert.equal('Name' in document, false);
});

test('BSON types as Chains stores them: Signed binary, numbers doubles, dotted label keys kept', async () => {
  const req = await attestationRequest();
  const { document } = signedDocument(req, parseDocdbUrl(URL_KEY['storage.docdb.url']), (n) => new Double(n));
  const raw = BSON.deserialize(BSON.serialize(document), { promoteValues: false, promoteBuffers: false });
  assert.ok(raw.Signed instanceof BSON.Binary);
  assert.equal((raw.Signed as BSON.Binary).sub_type, 0);
  const params = (raw.Object as { predicate: { invocation: { parameters: Record<string, unknown> } } }).predicate
    .invocation.parameters;
  assert.ok(params.replicas instanceof BSON.Double, 'an integer is a double, as Go decodes JSON numbers');
  assert.equal((params.replicas as BSON.Double).value, 3);
  const labels = (raw.Object as { predicate: { labels: Record<string, unknown> } }).predicate.labels;
  assert.equal((labels['tekton.dev/task'] as BSON.BSONValue).toString(), 'build');
});

test('the image signature document carries the raw DER signature base64-encoded and the 12-hex key', () => {
  const req = imageSignatureRequest();
  const { document } = signedDocument(req, parseDocdbUrl(URL_KEY['storage.docdb.url']));
  assert.equal(document._id, '4d6dd704ef58');
  assert.equal(document.Signature, req.signed.signature.toString('base64'));
});

test('storing twice leaves one document, written to the database and collection of the URL', async () => {
  const mongo = memoryMongo();
  const config = configWith({ ...URL_KEY, 'storage.docdb.mongo-server-url': 'mongodb://127.0.0.1:27017/' });
  const storer = new DocdbStorer(config, mongo.connect);
  const req = await attestationRequest(taskRun, config);
  await storer.store(req);
  await storer.store(req);
  const docs = mongo.servers.get('mongodb://127.0.0.1:27017/')!.get('chains.attestations')!;
  assert.deepEqual([...docs.keys()], [req.shortKey]);
  assert.equal(mongo.connected.length, 1, 'one client per storer');
  await storer.close();
  assert.deepEqual(mongo.closed, ['mongodb://127.0.0.1:27017/']);
});

test('server URL precedence: url-path file > url-dir file > mongo-server-url > MONGO_SERVER_URL', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'docdb-url-'));
  await writeFile(join(dir, 'url'), 'mongodb://from-path/\n');
  await mkdir(join(dir, 'd'));
  await writeFile(join(dir, 'd', 'MONGO_SERVER_URL'), 'mongodb://from-dir/\n');
  const env = { MONGO_SERVER_URL: 'mongodb://from-env/' };
  const all = {
    mongoServerUrlPath: join(dir, 'url'),
    mongoServerUrlDir: join(dir, 'd'),
    mongoServerUrl: 'mongodb://from-key/',
  };
  assert.equal(await resolveMongoServerUrl({ url: 'x', ...all }, { env }), 'mongodb://from-path/');
  assert.equal(await resolveMongoServerUrl({ ...all, mongoServerUrlPath: undefined }, { env }), 'mongodb://from-dir/');
  assert.equal(await resolveMongoServerUrl({ mongoServerUrl: 'mongodb://from-key/' }, { env }), 'mongodb://from-key/');
  assert.equal(await resolveMongoServerUrl({}, { env }), 'mongodb://from-env/');
  await assert.rejects(resolveMongoServerUrl({}, { env: {} }), (err: ChainsmithError) => {
    assert.equal(err.reason, 'InvalidConfig');
    assert.match(err.message, /MONGO_SERVER_URL environment variable not set/);
    return true;
  });
});

test('a rotated server URL file takes effect on the next store; the old client is closed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'docdb-rotate-'));
  await writeFile(join(dir, 'MONGO_SERVER_URL'), 'mongodb://old:27017/\n');
  const mongo = memoryMongo();
  const config = configWith({ ...URL_KEY, 'storage.docdb.mongo-server-url-dir': dir });
  const storer = new DocdbStorer(config, mongo.connect);
  await storer.store(await attestationRequest(taskRun, config));
  await writeFile(join(dir, 'MONGO_SERVER_URL'), 'mongodb://new:27017/\n');
  await storer.store(await attestationRequest(taskRun, config));
  assert.deepEqual(mongo.connected, ['mongodb://old:27017/', 'mongodb://new:27017/']);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(mongo.closed, ['mongodb://old:27017/']);
});

test('a secret file not mounted yet is a transient StorageFailed; the store works once it appears', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'docdb-late-'));
  const mongo = memoryMongo();
  const config = configWith({ ...URL_KEY, 'storage.docdb.mongo-server-url-path': join(dir, 'url') });
  const storer = new DocdbStorer(config, mongo.connect);
  await assert.rejects(storer.store(imageSignatureRequest(config)), (err: ChainsmithError) => {
    assert.equal(err.reason, 'StorageFailed');
    assert.equal(err.transient, true);
    return true;
  });
  await writeFile(join(dir, 'url'), 'mongodb://late:27017/');
  await storer.store(imageSignatureRequest(config));
});

test('an unreachable server: transient StorageFailed naming the collection and server, never its password', async () => {
  const mongo = memoryMongo();
  const server = 'mongodb://chains:s3cret@db.example:27017/?authSource=admin';
  const config = configWith({ ...URL_KEY, 'storage.docdb.mongo-server-url': server });
  const storer = new DocdbStorer(config, mongo.connect);
  mongo.failWith(
    Object.assign(new Error(`Server selection timed out after 10000 ms connecting to ${server}`), {
      name: 'MongoServerSelectionError',
    }),
  );
  await assert.rejects(storer.store(imageSignatureRequest(config)), (err: ChainsmithError) => {
    assert.equal(err.reason, 'StorageFailed');
    assert.equal(err.transient, true);
    assert.match(
      err.message,
      /^docdb: writing 4d6dd704ef58 to mongo:\/\/chains\/attestations on mongodb:\/\/db\.example:27017\//,
    );
    assert.match(err.message, /Server selection timed out/);
    assert.doesNotMatch(err.message, /s3cret/);
    return true;
  });
});

test('a refused write (unauthorised) is not retried', async () => {
  const mongo = memoryMongo();
  const config = configWith({ ...URL_KEY, 'storage.docdb.mongo-server-url': 'mongodb://db:27017/' });
  const storer = new DocdbStorer(config, mongo.connect);
  mongo.failWith(
    Object.assign(new Error('not authorized on chains to execute command'), { name: 'MongoServerError', code: 13 }),
  );
  await assert.rejects(storer.store(imageSignatureRequest(config)), (err: ChainsmithError) => !err.transient);
});

test('a bad URL is InvalidConfig on every store, without connecting', async () => {
  const mongo = memoryMongo();
  const config = configWith({ 'storage.docdb.url': 'firestore://projects/p/databases/(default)/documents/c' });
  const storer = new DocdbStorer(config, mongo.connect);
  await assert.rejects(storer.store(imageSignatureRequest(config)), { reason: 'InvalidConfig' });
  assert.equal(mongo.connected.length, 0);
});
