// `chainsmith verify-run --from BACKEND` and `audit --from gcs` on runs the real controller signed into every backend
// of the storage stack add-on at once (fake-gcs-server, FerretDB, kfake, Archivista): what each server holds is read
// back by the CLI and verified with cosign.pub; another key, a tampered object or document, an unreachable server and
// an unconfigured backend each fail with exit 1 and say why. (grafeas: unit tests against its stand-in only.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { RunVerifyReport } from '../src/verify/run-annotations.js';
import type { AuditResult } from '../src/audit/audit.js';
import { storageEnv, type StorageEnv } from './lib/env.js';
import {
  closedPort,
  completePipelineRun,
  createNamespace,
  createPipelineRun,
  randomSuffix,
  stackEnv,
  type ControllerProcess,
} from './lib/index.js';
import { chainsmithCli, startSigningController, writeChainsConfig, x509SecretsDir } from './lib/scenario.js';
import {
  createBucket,
  gcsObject,
  imageTaskRun,
  putGcsObject,
  signedPipelineRun,
  signedTaskRun,
} from './lib/storage-backends.js';

interface Suite {
  env: StorageEnv;
  ns: string;
  systemNs: string;
  keys: string;
  otherKeys: string;
  mongoDir: string;
  controller: ControllerProcess;
  bucket: string;
  database: string;
  /** the signed TaskRun (built an image) and PipelineRun */
  tr: { name: string; uid: string; short: string };
  pr: { name: string; uid: string };
}

let s: Suite;

/** `chainsmith verify-run` with the controller's environment (the GCS emulator) and the suite's chains-config. */
function verifyRun(args: string[], env: Record<string, string> = {}) {
  return chainsmithCli(['verify-run', ...args, '--system-namespace', s.systemNs], {
    STORAGE_EMULATOR_HOST: s.env.gcsEmulatorHost,
    ...env,
  });
}

const key = () => join(s.keys, 'cosign.pub');

before(async () => {
  const env = storageEnv();
  const ns = await createNamespace('vr-backends');
  const systemNs = await createNamespace('vr-backends-sys');
  const keys = await x509SecretsDir('vr-backends-keys-');
  const otherKeys = await x509SecretsDir('vr-backends-other-');
  const mongoDir = await mkdtemp(join(tmpdir(), 'vr-backends-mongo-'));
  await writeFile(join(mongoDir, 'MONGO_SERVER_URL'), `${env.mongoUrl}\n`);
  const bucket = `vr-backends-${randomSuffix()}`;
  await createBucket(env, bucket);
  const database = `vr_backends_${randomSuffix()}`;
  await writeChainsConfig(systemNs, {
    // every backend at once; Archivista stores DSSE envelopes only (not image signatures), kafka no PipelineRuns
    'artifacts.taskrun.storage': 'tekton,gcs,docdb,kafka,archivista',
    'artifacts.oci.storage': 'tekton,gcs,docdb,kafka',
    'artifacts.pipelinerun.storage': 'tekton,gcs,docdb,archivista',
    'storage.gcs.bucket': bucket,
    'storage.docdb.url': `mongo://${database}/attestations?id_field=name`,
    'storage.docdb.mongo-server-url-dir': mongoDir,
    'storage.pubsub.provider': 'kafka',
    'storage.pubsub.topic': `vr-backends-${randomSuffix()}`,
    'storage.pubsub.kafka.bootstrap.servers': env.kafkaBrokers,
    'storage.archivista.url': env.archivistaUrl,
  });
  const controller = await startSigningController(ns, systemNs, keys, {
    env: { STORAGE_EMULATOR_HOST: env.gcsEmulatorHost },
  });
  const built = await imageTaskRun(ns, `${stackEnv().registry}/e2e/vr-backends`);
  const tr = await signedTaskRun(ns, built.tr.metadata.name!);
  const created = await createPipelineRun(ns);
  await completePipelineRun(ns, created.metadata.name!);
  const pr = await signedPipelineRun(ns, created.metadata.name!);
  s = {
    env,
    ns,
    systemNs,
    keys,
    otherKeys,
    mongoDir,
    controller,
    bucket,
    database,
    tr: { name: tr.metadata.name!, uid: tr.metadata.uid!, short: built.short },
    pr: { name: pr.metadata.name!, uid: pr.metadata.uid! },
  };
});

after(async () => {
  if (!s) return;
  await s.controller.stop();
  for (const d of [s.keys, s.otherKeys, s.mongoDir]) await rm(d, { recursive: true, force: true });
});

describe('verify-run --from each backend: VERIFIED with the signing key, exit 1 with another', () => {
  const expected: Record<string, string[]> = {
    gcs: ['run-attestation', 'image-signature'],
    docdb: ['run-attestation', 'image-signature'],
    kafka: ['run-attestation', 'image-signature'],
    archivista: ['run-attestation'],
  };
  for (const backend of Object.keys(expected)) {
    test(`--from ${backend}`, async () => {
      const res = await verifyRun([`${s.ns}/${s.tr.name}`, '--from', backend, '--key', key(), '--json']);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const report = JSON.parse(res.stdout) as RunVerifyReport;
      assert.equal(report.verified, true);
      assert.equal(report.from?.backend, backend);
      assert.deepEqual(
        report.entries.map((e) => e.kind),
        expected[backend],
      );
      assert.equal(report.entries[0]!.shortKey, `taskrun-${s.tr.uid}`);
      const text = await verifyRun([`${s.ns}/${s.tr.name}`, '--from', backend, '--key', key()]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^VERIFIED {2}TaskRun ${s.ns}/${s.tr.name} .*\\n {2}from ${backend} \\(`));

      const wrong = await verifyRun([
        `${s.ns}/${s.tr.name}`,
        '--from',
        backend,
        '--key',
        join(s.otherKeys, 'cosign.pub'),
      ]);
      assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
      assert.match(wrong.stdout, /^NOT VERIFIED/);
      assert.match(
        wrong.stderr,
        new RegExp(
          `\\(from ${backend}\\): taskrun-${s.tr.uid}: signature: no signature verifies with the given public key`,
        ),
      );
    });
  }

  test('a PipelineRun --from gcs, docdb; --from all reports every configured backend', async () => {
    for (const backend of ['gcs', 'docdb']) {
      const res = await verifyRun([`${s.ns}/${s.pr.name}`, '--kind', 'pipelinerun', '--from', backend, '--key', key()]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /^VERIFIED {2}PipelineRun/);
    }
    const all = await verifyRun([`${s.ns}/${s.tr.name}`, '--from', 'all', '--key', key(), '--json']);
    assert.equal(all.code, 0, all.stdout + all.stderr);
    const out = JSON.parse(all.stdout) as { verified: boolean; reports: RunVerifyReport[] };
    assert.equal(out.verified, true);
    assert.deepEqual(
      out.reports.map((r) => [r.from?.backend, r.verified]),
      [
        ['tekton', true],
        ['gcs', true],
        ['docdb', true],
        ['kafka', true],
        ['archivista', true],
      ],
    );
  });
});

describe('audit --from gcs', () => {
  test('the signed TaskRun and PipelineRun are reported verified by what the bucket holds', async () => {
    const res = await chainsmithCli(
      ['audit', '-n', s.ns, '--system-namespace', s.systemNs, '--key', key(), '--from', 'gcs', '--json'],
      { STORAGE_EMULATOR_HOST: s.env.gcsEmulatorHost },
    );
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const result = JSON.parse(res.stdout) as AuditResult;
    const states = Object.fromEntries(result.runs.map((r) => [r.name, r.state]));
    assert.equal(states[s.tr.name], 'signed', JSON.stringify(result.runs));
    assert.equal(states[s.pr.name], 'signed', JSON.stringify(result.runs));
    assert.deepEqual(result.marks, { verified: true, key: key(), from: 'gcs' });
  });
});

describe('errors: exit 1 with the reason', () => {
  test('an unreachable server names the backend and the server; an unconfigured backend names the key', async () => {
    const port = await closedPort();
    const down = await verifyRun([`${s.ns}/${s.tr.name}`, '--from', 'gcs', '--key', key()], {
      STORAGE_EMULATOR_HOST: `127.0.0.1:${port}`,
    });
    assert.equal(down.code, 1, down.stdout + down.stderr);
    assert.match(
      down.stderr,
      new RegExp(`cannot read from gcs \\(gs://${s.bucket}\\): gcs: listing gs://${s.bucket}/`),
    );
    assert.match(down.stderr, /ECONNREFUSED/);
    const grafeas = await verifyRun([`${s.ns}/${s.tr.name}`, '--from', 'grafeas', '--key', key()]);
    assert.equal(grafeas.code, 1);
    assert.match(grafeas.stderr, /grafeas is not configured in chains-config .*storage\.grafeas\.projectid/);
  });
});

// Last: these change what the servers hold.
describe('tampering with what a server holds: exit 1', () => {
  test('an overwritten GCS payload object', async () => {
    const name = `taskrun-${s.ns}-${s.tr.name}/taskrun-${s.tr.uid}.payload`;
    const payload = await gcsObject(s.env, s.bucket, name);
    const statement = JSON.parse(payload.toString()) as { subject: unknown[] };
    statement.subject = [];
    await putGcsObject(s.env, s.bucket, name, Buffer.from(JSON.stringify(statement)));
    const res = await verifyRun([`${s.ns}/${s.tr.name}`, '--from', 'gcs', '--key', key()]);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(
      res.stderr,
      /taskrun-.*: payload: the stored payload differs from the statement inside the signed envelope/,
    );
    const audit = await chainsmithCli(
      ['audit', '-n', s.ns, '--system-namespace', s.systemNs, '--key', key(), '--from', 'gcs', '--json'],
      { STORAGE_EMULATOR_HOST: s.env.gcsEmulatorHost },
    );
    const result = JSON.parse(audit.stdout) as AuditResult;
    const run = result.runs.find((r) => r.name === s.tr.name);
    assert.equal(run?.state, 'unverified');
    assert.match(run?.reason ?? '', /read back from gcs does not verify: taskrun-.*: payload:/);
  });

  test('an updated Mongo document', async () => {
    const mongo = new MongoClient(s.env.mongoUrl);
    try {
      const coll = mongo.db(s.database).collection<{ _id: string; Signature: string }>('attestations');
      const doc = await coll.findOne({ _id: s.tr.short });
      assert.ok(doc, `image document ${s.tr.short}`);
      const other = await coll.findOne({ _id: `pipelinerun-${s.pr.uid}` });
      assert.ok(other);
      // another signature (valid, but over another payload) in the image's document
      await coll.updateOne(
        { _id: s.tr.short },
        { $set: { Signature: Buffer.from('not a signature').toString('base64') } },
      );
    } finally {
      await mongo.close();
    }
    const res = await verifyRun([`${s.ns}/${s.tr.name}`, '--from', 'docdb', '--key', key()]);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stderr, new RegExp(`\\(from docdb\\): ${s.tr.short}: signature:`));
  });
});
