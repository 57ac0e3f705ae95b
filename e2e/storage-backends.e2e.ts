// The `gcs`, `docdb`, `kafka` and `archivista` storage backends through the real controller, against the real servers
// of the storage stack add-on (e2e/stack/addons/storage-up.sh): fake-gcs-server, FerretDB (MongoDB wire protocol),
// kfake (Kafka protocol) and Archivista on PostgreSQL. For each backend a TaskRun (with an image) and a PipelineRun end
// `chains.tekton.dev/signed: "true"`, alone and together with `tekton`, and what the server holds afterwards is read
// back with the server's own API and verified with the key's cosign.pub. Bad settings end in an Event, not a crash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { MongoClient } from 'mongodb';
import type { PipelineRun, TaskRun } from '../src/tekton/types.js';
import { pae } from '../src/sigstore/dsse.js';
import { storageEnv, type StorageEnv } from './lib/env.js';
import {
  createBucket,
  gcsObject as gcsObjectIn,
  imageTaskRun as imageTaskRunIn,
  signedPipelineRun as signedPipelineRunIn,
  signedTaskRun as signedTaskRunIn,
} from './lib/storage-backends.js';
import {
  closedPort,
  completePipelineRun,
  completeTaskRun,
  createNamespace,
  createPipelineRun,
  createTaskRun,
  eventsOf,
  getTaskRun,
  randomSuffix,
  runCommand,
  stackEnv,
  startSigningController,
  waitFor,
  writeChainsConfig,
  x509SecretsDir,
  type ControllerProcess,
  type CoreEvent,
} from './lib/index.js';

const SIGNED = 'chains.tekton.dev/signed';

interface Suite {
  env: StorageEnv;
  ns: string;
  systemNs: string;
  keysDir: string;
  publicKey: KeyObject;
  controller: ControllerProcess;
  /** a MONGO_SERVER_URL secret dir, as `storage.docdb.mongo-server-url-dir` names it */
  mongoDir: string;
}

let s: Suite;

/** A document as Chains' docstore stores it (BSON binary comes back as a Binary). */
interface StoredDocument {
  _id: string;
  Signed: { buffer: Uint8Array };
  Signature: string;
  Cert: string;
  Chain: string;
  Object: unknown;
  Name: string;
}

/** Writes chains-config and waits until the controller applied it (runs created after this use it). */
async function applyConfig(data: Record<string, string>): Promise<void> {
  const applied = () => s.controller.lines.filter((l) => l.includes('chains-config applied')).length;
  const before = applied();
  await writeChainsConfig(s.systemNs, data);
  await waitFor(async () => applied() > before, { timeoutMs: 15_000, description: 'chains-config applied' });
}

/** A TaskRun that built `<registry>/e2e/storage-app@sha256:<random>`: its name, uid and the image's 12-hex short key. */
const imageTaskRun = () => imageTaskRunIn(s.ns, `${stackEnv().registry}/e2e/storage-app`);

/** A PipelineRun without children, completed. */
async function completedPipelineRun(): Promise<PipelineRun> {
  const pr = await createPipelineRun(s.ns);
  return completePipelineRun(s.ns, pr.metadata.name!);
}

const signedTaskRun = (name: string): Promise<TaskRun> => signedTaskRunIn(s.ns, name);
const signedPipelineRun = (name: string): Promise<PipelineRun> => signedPipelineRunIn(s.ns, name);

/** Checks a DSSE envelope against cosign.pub and returns its statement. */
function verifiedStatement(envelope: Buffer | string): { predicateType: string; predicate: Record<string, unknown> } {
  const env = JSON.parse(envelope.toString()) as {
    payloadType: string;
    payload: string;
    signatures: Array<{ sig: string }>;
  };
  const payload = Buffer.from(env.payload, 'base64');
  assert.ok(
    cryptoVerify('sha256', pae(env.payloadType, payload), s.publicKey, Buffer.from(env.signatures[0]!.sig, 'base64')),
    'the DSSE envelope verifies with cosign.pub',
  );
  return JSON.parse(payload.toString()) as { predicateType: string; predicate: Record<string, unknown> };
}

/** Checks an image signature (simplesigning payload + raw signature) with the stack's cosign verify-blob. */
async function cosignVerifiesBlob(payload: Buffer, signature: Buffer): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'storage-blob-'));
  try {
    await writeFile(join(dir, 'payload.json'), payload);
    await writeFile(join(dir, 'sig'), signature.toString('base64'));
    const r = await runCommand(stackEnv().cosign, [
      'verify-blob',
      '--key',
      join(s.keysDir, 'cosign.pub'),
      '--signature',
      join(dir, 'sig'),
      '--insecure-ignore-tlog=true',
      join(dir, 'payload.json'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Verified OK/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The Warning Events of a run with `reason`, once there is one. */
async function warningOf(name: string, reason: string): Promise<CoreEvent> {
  return waitFor(async () => (await eventsOf(s.ns, { name })).find((e) => e.reason === reason), {
    timeoutMs: 45_000,
    description: `${reason} Event on ${name}`,
  });
}

before(async () => {
  const env = storageEnv();
  const ns = await createNamespace('storage');
  const systemNs = await createNamespace('storage-sys');
  const keysDir = await x509SecretsDir('storage-keys-');
  const mongoDir = await mkdtemp(join(tmpdir(), 'storage-mongo-'));
  await writeFile(join(mongoDir, 'MONGO_SERVER_URL'), `${env.mongoUrl}\n`);
  await writeChainsConfig(systemNs, { 'artifacts.oci.storage': 'tekton' });
  const controller = await startSigningController(ns, systemNs, keysDir, {
    // Chains' variable, in the host:port form its Go client reads as plain http
    env: { STORAGE_EMULATOR_HOST: env.gcsEmulatorHost },
  });
  const publicKey = createPublicKey(await readFile(join(keysDir, 'cosign.pub')));
  s = { env, ns, systemNs, keysDir, publicKey, controller, mongoDir };
});

after(async () => {
  if (!s) return;
  await s.controller.stop();
  await rm(s.keysDir, { recursive: true, force: true });
  await rm(s.mongoDir, { recursive: true, force: true });
});

describe('gcs (fake-gcs-server)', () => {
  const gcsObject = (bucket: string, name: string): Promise<Buffer> => gcsObjectIn(s.env, bucket, name);

  test('a TaskRun (gcs alone) and its image, a PipelineRun (gcs + tekton): Chains object names, verified', async () => {
    const bucket = `chains-e2e-${randomSuffix()}`;
    await createBucket(s.env, bucket);
    await applyConfig({
      'artifacts.taskrun.storage': 'gcs',
      'artifacts.oci.storage': 'gcs',
      'artifacts.pipelinerun.storage': 'gcs,tekton',
      'storage.gcs.bucket': bucket,
    });

    const { tr, short } = await imageTaskRun();
    const name = tr.metadata.name!;
    const signed = await signedTaskRun(name);
    const prefix = `taskrun-${s.ns}-${name}`;
    const envelope = await gcsObject(bucket, `${prefix}/taskrun-${tr.metadata.uid}.signature`);
    const statement = verifiedStatement(envelope);
    const payload = await gcsObject(bucket, `${prefix}/taskrun-${tr.metadata.uid}.payload`);
    assert.deepEqual(JSON.parse(payload.toString()), statement, 'the .payload object is the signed statement, raw');
    assert.equal((await gcsObject(bucket, `${prefix}/taskrun-${tr.metadata.uid}.cert`)).length, 0);
    assert.equal((await gcsObject(bucket, `${prefix}/taskrun-${tr.metadata.uid}.chain`)).length, 0);
    assert.equal(
      Object.keys(signed.metadata.annotations!).some((k) => k.startsWith('chains.tekton.dev/signature-')),
      false,
      'gcs alone writes no tekton annotations',
    );
    // the image signature sits under its TaskRun with the 12-hex short key; the real cosign checks it
    await cosignVerifiesBlob(
      await gcsObject(bucket, `${prefix}/${short}.payload`),
      await gcsObject(bucket, `${prefix}/${short}.signature`),
    );

    const pr = await completedPipelineRun();
    const prSigned = await signedPipelineRun(pr.metadata.name!);
    const prKey = `pipelinerun-${pr.metadata.uid}`;
    const prEnvelope = await gcsObject(bucket, `pipelinerun-${s.ns}-${pr.metadata.name}/${prKey}.signature`);
    const prStatement = verifiedStatement(prEnvelope);
    assert.equal((prStatement.predicate as { buildType?: string }).buildType, 'tekton.dev/v1/PipelineRun');
    assert.equal(
      Buffer.from(prSigned.metadata.annotations![`chains.tekton.dev/signature-${prKey}`]!, 'base64').toString(),
      prEnvelope.toString(),
      'tekton and gcs hold the same envelope',
    );
  });
});

describe('docdb (FerretDB, MongoDB wire protocol)', () => {
  test('a TaskRun (docdb alone) and a PipelineRun (docdb + tekton): Chains documents, one per key, verified', async () => {
    const database = `chains_e2e_${randomSuffix()}`;
    await applyConfig({
      'artifacts.taskrun.storage': 'docdb',
      'artifacts.oci.storage': 'docdb',
      'artifacts.pipelinerun.storage': 'docdb,tekton',
      'storage.docdb.url': `mongo://${database}/attestations?id_field=name`,
      'storage.docdb.mongo-server-url-dir': s.mongoDir,
    });
    const { tr, short } = await imageTaskRun();
    await signedTaskRun(tr.metadata.name!);
    const pr = await completedPipelineRun();
    const prSigned = await signedPipelineRun(pr.metadata.name!);

    const mongo = new MongoClient(s.env.mongoUrl);
    try {
      const coll = mongo.db(database).collection<StoredDocument>('attestations');
      const key = `taskrun-${tr.metadata.uid}`;
      const doc = await coll.findOne({ _id: key });
      assert.ok(doc, `document ${key}`);
      assert.deepEqual(Object.keys(doc).sort(), ['Cert', 'Chain', 'Name', 'Object', 'Signature', 'Signed', '_id']);
      assert.equal(doc.Name, key);
      assert.equal(doc.Cert, '');
      assert.equal(doc.Chain, '');
      const envelope = Buffer.from(doc.Signature, 'base64');
      const statement = verifiedStatement(envelope);
      const signedBytes = Buffer.from(doc.Signed.buffer);
      assert.deepEqual(JSON.parse(signedBytes.toString()), statement, 'Signed holds the statement bytes');
      assert.deepEqual(doc.Object, statement, 'Object is the statement as a document (dotted label keys kept)');

      const image = await coll.findOne({ _id: short });
      assert.ok(image, `image document ${short}`);
      await cosignVerifiesBlob(Buffer.from(image.Signed.buffer), Buffer.from(image.Signature, 'base64'));

      const prKey = `pipelinerun-${pr.metadata.uid}`;
      const prDoc = await coll.findOne({ _id: prKey });
      assert.ok(prDoc, `document ${prKey}`);
      assert.equal(
        Buffer.from(prDoc.Signature, 'base64').toString(),
        Buffer.from(prSigned.metadata.annotations![`chains.tekton.dev/signature-${prKey}`]!, 'base64').toString(),
      );
      assert.equal(await coll.countDocuments({ _id: { $in: [key, short, prKey] } }), 3);
    } finally {
      await mongo.close();
    }
  });

  test('a rotated MONGO_SERVER_URL secret file applies to the next store, without a restart', async () => {
    const database = `chains_e2e_${randomSuffix()}`;
    await applyConfig({
      'artifacts.taskrun.storage': 'docdb',
      'artifacts.oci.storage': 'tekton',
      'storage.docdb.url': `mongo://${database}/attestations?id_field=name`,
      'storage.docdb.mongo-server-url-dir': s.mongoDir,
    });
    const port = await closedPort();
    await writeFile(join(s.mongoDir, 'MONGO_SERVER_URL'), `mongodb://127.0.0.1:${port}/\n`);
    const created = await createTaskRun(s.ns);
    const name = created.metadata.name!;
    try {
      await completeTaskRun(s.ns, name);
      const ev = await warningOf(name, 'StorageFailed');
      assert.match(
        ev.message ?? '',
        new RegExp(
          `docdb: writing taskrun-[0-9a-f-]+ to mongo://${database}/attestations on mongodb://127\\.0\\.0\\.1:${port}/`,
        ),
      );
      assert.match(ev.message ?? '', /transient; retrying/);
    } finally {
      await writeFile(join(s.mongoDir, 'MONGO_SERVER_URL'), `${s.env.mongoUrl}\n`);
    }
    // the run's next attempt reads the restored file
    const tr = await signedTaskRun(name);
    const mongo = new MongoClient(s.env.mongoUrl);
    try {
      const doc = await mongo
        .db(database)
        .collection<StoredDocument>('attestations')
        .findOne({ _id: `taskrun-${tr.metadata.uid}` });
      assert.ok(doc, 'stored on the server the file names now');
      verifiedStatement(Buffer.from(doc.Signature, 'base64'));
    } finally {
      await mongo.close();
    }
  });
});

describe('kafka (kfake)', () => {
  /** Every record of `topic` from the beginning, until `count` arrived. */
  async function records(topic: string, count: number) {
    const consumer = new Consumer({
      groupId: `e2e-${randomSuffix()}`,
      clientId: 'chainsmith-e2e',
      bootstrapBrokers: [s.env.kafkaBrokers],
    });
    const out: Array<{ key: Buffer | undefined; value: Buffer; headers: Map<string, Buffer> }> = [];
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
        maxWaitTime: 500,
      });
      const timer = setTimeout(() => stream.destroy(), 20_000);
      for await (const m of stream) {
        const headers = new Map<string, Buffer>();
        for (const [k, v] of m.headers as Map<Buffer, Buffer>) headers.set(k.toString(), v);
        out.push({ key: m.key as Buffer | undefined, value: m.value as Buffer, headers });
        if (out.length >= count) break;
      }
      clearTimeout(timer);
      await new Promise<void>((r) => stream.close(() => r()));
    } finally {
      await consumer.close().catch(() => undefined);
    }
    return out;
  }

  test('a TaskRun (kafka alone) and its image (kafka + tekton): one record each, value and headers as Chains', async () => {
    const topic = `chains-e2e-${randomSuffix()}`;
    await applyConfig({
      'artifacts.taskrun.storage': 'kafka',
      'artifacts.oci.storage': 'kafka,tekton',
      'storage.pubsub.provider': 'kafka',
      'storage.pubsub.topic': topic,
      'storage.pubsub.kafka.bootstrap.servers': s.env.kafkaBrokers,
    });
    const { tr, short } = await imageTaskRun();
    const signed = await signedTaskRun(tr.metadata.name!);
    const got = await records(topic, 2);
    assert.equal(got.length, 2);
    const attestation = got.find((r) => r.value.subarray(0, 1).toString() === '{');
    const image = got.find((r) => r !== attestation);
    assert.ok(attestation && image);
    for (const r of got) {
      assert.equal(r.key, undefined, 'no key, as go-cloud kafkapubsub sends it');
      assert.deepEqual([...r.headers.keys()].sort(), ['payload', 'signature']);
      assert.ok(r.headers.get('signature')!.equals(r.value), 'header signature = the value');
    }
    const statement = verifiedStatement(attestation.value);
    assert.deepEqual(
      JSON.parse(Buffer.from(attestation.headers.get('payload')!.toString(), 'base64').toString()),
      statement,
      'header payload = base64(statement)',
    );
    const imagePayload = Buffer.from(image.headers.get('payload')!.toString(), 'base64');
    await cosignVerifiesBlob(imagePayload, image.value);
    assert.equal(
      signed.metadata.annotations![`chains.tekton.dev/signature-${short}`],
      image.value.toString('base64'),
      'tekton and kafka hold the same image signature',
    );
  });
});

describe('archivista (Archivista on PostgreSQL)', () => {
  /** The gitoid the controller logged for the store of `fullKey`. */
  async function loggedGitoid(fullKey: string): Promise<string> {
    return waitFor(
      async () => {
        for (const l of s.controller.jsonLogs()) {
          if (l.key !== fullKey || l.backend !== 'archivista') continue;
          const m = /^archivista gitoid ([0-9a-f]{64})/.exec(String(l.note ?? ''));
          if (m) return m[1];
        }
        return undefined;
      },
      { timeoutMs: 10_000, description: `archivista gitoid of ${fullKey} in the controller log` },
    );
  }

  async function download(gitoid: string): Promise<Buffer> {
    const r = await fetch(`${s.env.archivistaUrl}/download/${gitoid}`);
    assert.equal(r.status, 200, `download ${gitoid}`);
    return Buffer.from(await r.arrayBuffer());
  }

  test('a TaskRun (archivista alone) and a PipelineRun (archivista + tekton): envelopes read back and verified', async () => {
    await applyConfig({
      'artifacts.taskrun.storage': 'archivista',
      'artifacts.oci.storage': 'tekton',
      'artifacts.pipelinerun.storage': 'archivista,tekton',
      'storage.archivista.url': s.env.archivistaUrl,
    });
    const { tr } = await imageTaskRun();
    await signedTaskRun(tr.metadata.name!);
    const gitoid = await loggedGitoid(`tekton.dev-v1-TaskRun-${tr.metadata.uid}`);
    const statement = verifiedStatement(await download(gitoid));
    assert.equal((statement.predicate as { buildType?: string }).buildType, 'tekton.dev/v1/TaskRun');

    // Archivista indexed it: its GraphQL API lists the envelope under that gitoid
    const q = await fetch(`${s.env.archivistaUrl}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ dsses(where: {gitoidSha256: "${gitoid}"}) { edges { node { gitoidSha256 payloadType } } } }`,
      }),
    });
    const data = (await q.json()) as {
      data: { dsses: { edges: Array<{ node: { gitoidSha256: string; payloadType: string } }> } };
    };
    assert.deepEqual(data.data.dsses.edges, [
      { node: { gitoidSha256: gitoid, payloadType: 'application/vnd.in-toto+json' } },
    ]);

    const pr = await completedPipelineRun();
    const prSigned = await signedPipelineRun(pr.metadata.name!);
    const prGitoid = await loggedGitoid(`tekton.dev-v1-PipelineRun-${pr.metadata.uid}`);
    const stored = await download(prGitoid);
    verifiedStatement(stored);
    const annotation = Buffer.from(
      prSigned.metadata.annotations![`chains.tekton.dev/signature-pipelinerun-${pr.metadata.uid}`]!,
      'base64',
    );
    assert.deepEqual(JSON.parse(stored.toString()), JSON.parse(annotation.toString()), 'the same envelope');
  });
});

/** A TCP forwarder to `target` on a loopback port of its own: down (connections refused) until `up()`. */
async function switchableProxy(target: { host: string; port: number }) {
  const port = await closedPort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    port,
    async up(): Promise<void> {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        sockets.add(client).add(upstream);
        for (const so of [client, upstream]) so.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    },
    async close(): Promise<void> {
      for (const so of sockets) so.destroy();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    },
  };
}

describe('gcs and archivista down during a burst of 50 runs', () => {
  test('nothing is signed while they are down; all 50 are once they are back, with one stored object per signature', async () => {
    const RUNS = 50;
    const gcsTarget = new URL(`http://${s.env.gcsEmulatorHost}`);
    const archivistaTarget = new URL(s.env.archivistaUrl);
    const gcs = await switchableProxy({ host: gcsTarget.hostname, port: Number(gcsTarget.port) });
    const archivista = await switchableProxy({ host: archivistaTarget.hostname, port: Number(archivistaTarget.port) });
    const ns = await createNamespace('storage-burst');
    const systemNs = await createNamespace('storage-burst-sys');
    const bucket = `chains-burst-${randomSuffix()}`;
    await createBucket(s.env, bucket);
    await writeChainsConfig(systemNs, {
      'artifacts.taskrun.storage': 'gcs,archivista',
      'artifacts.oci.storage': 'tekton',
      'storage.gcs.bucket': bucket,
      'storage.archivista.url': `http://127.0.0.1:${archivista.port}`,
    });
    const controller = await startSigningController(ns, systemNs, s.keysDir, {
      env: { STORAGE_EMULATOR_HOST: `127.0.0.1:${gcs.port}` },
    });
    try {
      const names: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        const tr = await createTaskRun(ns);
        await completeTaskRun(ns, tr.metadata.name!);
        names.push(tr.metadata.name!);
      }
      await waitFor(async () => (await eventsOf(ns)).filter((e) => e.reason === 'StorageFailed').length >= 10, {
        timeoutMs: 30_000,
        description: 'StorageFailed Events while the servers are down',
      });
      const whileDown = await Promise.all(names.map((n) => getTaskRun(ns, n)));
      assert.equal(whileDown.filter((r) => r.metadata.annotations?.[SIGNED] === 'true').length, 0, 'none signed');
      assert.equal(
        whileDown.filter((r) => r.metadata.annotations?.[SIGNED] === 'failed').length,
        0,
        'transient failures do not count against the retry limit',
      );

      await gcs.up();
      await archivista.up();
      const signed = await waitFor(
        async () => {
          const runs = await Promise.all(names.map((n) => getTaskRun(ns, n)));
          return runs.every((r) => r.metadata.annotations?.[SIGNED] === 'true') ? runs : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1_000, description: `all ${RUNS} runs signed` },
      );

      const listed = (await (await fetch(`${s.env.gcsUrl}/storage/v1/b/${bucket}/o?maxResults=1000`)).json()) as {
        items?: Array<{ name: string }>;
      };
      const objects = (listed.items ?? []).map((i) => i.name).sort();
      const expected = signed
        .flatMap((r) =>
          ['signature', 'payload', 'cert', 'chain'].map(
            (ext) => `taskrun-${ns}-${r.metadata.name}/taskrun-${r.metadata.uid}.${ext}`,
          ),
        )
        .sort();
      assert.deepEqual(objects, expected, 'four objects per run in the bucket, nothing else');

      const gitoids = new Set<string>();
      for (const r of signed) {
        const notes = controller
          .jsonLogs()
          .filter((l) => l.backend === 'archivista' && l.key === `tekton.dev-v1-TaskRun-${r.metadata.uid}`)
          .map((l) => /^archivista gitoid ([0-9a-f]{64})/.exec(String(l.note ?? ''))?.[1]);
        assert.equal(new Set(notes).size, 1, `one envelope for ${r.metadata.name}`);
        gitoids.add(notes[0]!);
      }
      assert.equal(gitoids.size, RUNS);
      const q = await fetch(`${s.env.archivistaUrl}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `{ dsses(where: {gitoidSha256In: ${JSON.stringify([...gitoids])}}) { totalCount } }`,
        }),
      });
      const data = (await q.json()) as { data?: { dsses: { totalCount: number } }; errors?: unknown };
      assert.equal(data.data?.dsses.totalCount, RUNS, JSON.stringify(data.errors ?? data));
      for (const gitoid of [...gitoids].slice(0, 5)) {
        const r = await fetch(`${s.env.archivistaUrl}/download/${gitoid}`);
        verifiedStatement(Buffer.from(await r.arrayBuffer()));
      }
    } finally {
      await controller.stop();
      await gcs.close();
      await archivista.close();
    }
  });
});

// Last, so that the runs left failing here (retried, and looked at again on every config change) cannot reach the
// servers the tests above read back from.
describe('bad settings: an Event with the reason, the run not signed, no crash', () => {
  test('no bucket: a StorageFailed Event with InvalidConfig naming storage.gcs.bucket; not signed; no crash', async () => {
    await applyConfig({ 'artifacts.taskrun.storage': 'gcs', 'artifacts.oci.storage': 'tekton' });
    const created = await createTaskRun(s.ns);
    await completeTaskRun(s.ns, created.metadata.name!);
    const ev = await warningOf(created.metadata.name!, 'StorageFailed');
    assert.match(ev.message ?? '', /InvalidConfig: .*gcs: storage\.gcs\.bucket is not set/);
    assert.notEqual((await getTaskRun(s.ns, created.metadata.name!)).metadata.annotations?.[SIGNED], 'true');
    assert.equal(
      s.controller.lines.some((l) => /uncaught|unhandled/i.test(l)),
      false,
    );
  });

  test('firestore:// is refused with a StorageFailed Event saying what is supported; no crash', async () => {
    await applyConfig({
      'artifacts.taskrun.storage': 'docdb',
      'artifacts.oci.storage': 'tekton',
      'storage.docdb.url': 'firestore://projects/p/databases/(default)/documents/attestations?name_field=name',
    });
    const created = await createTaskRun(s.ns);
    await completeTaskRun(s.ns, created.metadata.name!);
    const ev = await warningOf(created.metadata.name!, 'StorageFailed');
    assert.match(ev.message ?? '', /InvalidConfig: .*firestore:\/\/ is not supported by chainsmith.*mongo:\/\//);
  });

  test('an unreachable broker: a transient StorageFailed Event naming topic and broker; not signed', async () => {
    const port = await closedPort();
    await applyConfig({
      'artifacts.taskrun.storage': 'kafka',
      'artifacts.oci.storage': 'tekton',
      'storage.pubsub.provider': 'kafka',
      'storage.pubsub.topic': 'chains',
      'storage.pubsub.kafka.bootstrap.servers': `127.0.0.1:${port}`,
    });
    const created = await createTaskRun(s.ns);
    await completeTaskRun(s.ns, created.metadata.name!);
    const ev = await warningOf(created.metadata.name!, 'StorageFailed');
    assert.match(
      ev.message ?? '',
      new RegExp(`kafka: sending taskrun-[0-9a-f-]+ to topic chains on 127\\.0\\.0\\.1:${port}`),
    );
    assert.match(ev.message ?? '', /transient; retrying/);
    assert.notEqual((await getTaskRun(s.ns, created.metadata.name!)).metadata.annotations?.[SIGNED], 'true');
  });

  test('an unreachable Archivista: a transient StorageFailed Event naming the server; not signed', async () => {
    const port = await closedPort();
    await applyConfig({
      'artifacts.taskrun.storage': 'archivista',
      'artifacts.oci.storage': 'tekton',
      'storage.archivista.url': `http://user:pa55word@127.0.0.1:${port}`,
    });
    const created = await createTaskRun(s.ns);
    await completeTaskRun(s.ns, created.metadata.name!);
    const ev = await warningOf(created.metadata.name!, 'StorageFailed');
    assert.match(
      ev.message ?? '',
      new RegExp(`archivista: uploading taskrun-[0-9a-f-]+ to http://127\\.0\\.0\\.1:${port}/`),
    );
    assert.match(ev.message ?? '', /transient; retrying/);
    assert.doesNotMatch(ev.message ?? '', /pa55word/);
    assert.equal(s.controller.logs().includes('pa55word'), false, 'the password is never logged');
  });

  test('an unknown provider is refused by the config: an InvalidConfig Event on chains-config; no crash', async () => {
    await writeChainsConfig(s.systemNs, {
      'artifacts.taskrun.storage': 'kafka',
      'storage.pubsub.provider': 'gcppubsub',
      'storage.pubsub.topic': 'chains',
    });
    const ev = await waitFor(
      async () =>
        (await eventsOf(s.systemNs, { name: 'chains-config' })).find(
          (e) => e.reason === 'InvalidConfig' && /storage\.pubsub\.provider.*gcppubsub/.test(e.message ?? ''),
        ),
      { timeoutMs: 20_000, description: 'InvalidConfig Event on chains-config' },
    );
    assert.match(ev.message ?? '', /keeping the previous configuration/);
    assert.equal(
      s.controller.lines.some((l) => /uncaught|unhandled/i.test(l)),
      false,
    );
  });
});
