import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../../src/errors.js';
import { emulatorEndpoint, GcsStorer, type GcsObjectWriter } from '../../src/storage/gcs.js';
import { attestationRequest, configWith, imageSignatureRequest, pipelineRun, taskRun } from './service-requests.js';

/** An in-memory bucket store that records what was written where. */
function memoryWriter(fail?: (name: string) => unknown): GcsObjectWriter & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    objects,
    async write(bucket, name, data) {
      const err = fail?.(name);
      if (err) throw err;
      objects.set(`${bucket}/${name}`, Buffer.from(data));
    },
  };
}

const config = configWith({ 'storage.gcs.bucket': 'provenance' });

test('TaskRun attestation: Chains object names, raw envelope and statement bytes, empty cert/chain objects', async () => {
  const w = memoryWriter();
  const req = await attestationRequest(taskRun, config);
  assert.deepEqual(await new GcsStorer(config, async () => w).store(req), {});
  const prefix = `provenance/taskrun-team-a-build-1/taskrun-${taskRun.metadata.uid}`;
  assert.deepEqual([...w.objects.keys()].sort(), [
    `${prefix}.cert`,
    `${prefix}.chain`,
    `${prefix}.payload`,
    `${prefix}.signature`,
  ]);
  assert.ok(w.objects.get(`${prefix}.signature`)!.equals(req.signed.signature), 'envelope JSON, not base64');
  assert.ok(w.objects.get(`${prefix}.payload`)!.equals(req.signed.payload));
  assert.equal(w.objects.get(`${prefix}.cert`)!.length, 0);
  assert.equal(w.objects.get(`${prefix}.chain`)!.length, 0);
});

test('PipelineRun attestation goes under pipelinerun-<ns>-<name>/, with the PEM cert and chain when the key has one', async () => {
  const w = memoryWriter();
  const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const req = await attestationRequest(pipelineRun, config, { cert, chain: cert + cert });
  await new GcsStorer(config, async () => w).store(req);
  const prefix = `provenance/pipelinerun-team-b-release-7/pipelinerun-${pipelineRun.metadata.uid}`;
  assert.equal(w.objects.get(`${prefix}.cert`)!.toString(), cert);
  assert.equal(w.objects.get(`${prefix}.chain`)!.toString(), cert + cert);
});

test('image signature: under its TaskRun with the 12-hex short key; the raw DER signature and simplesigning JSON', async () => {
  const w = memoryWriter();
  const req = imageSignatureRequest(config);
  await new GcsStorer(config, async () => w).store(req);
  const prefix = 'provenance/taskrun-team-a-build-1/4d6dd704ef58';
  assert.ok(w.objects.get(`${prefix}.signature`)!.equals(req.signed.signature));
  assert.equal(w.objects.get(`${prefix}.payload`)!.toString(), req.signed.payload.toString());
});

test('storing twice overwrites the same four objects', async () => {
  const w = memoryWriter();
  const storer = new GcsStorer(config, async () => w);
  const req = await attestationRequest(taskRun, config);
  await storer.store(req);
  await storer.store(req);
  assert.equal(w.objects.size, 4);
});

test('no bucket configured: InvalidConfig naming the key, and nothing is written', async () => {
  let opened = false;
  const storer = new GcsStorer(configWith({}), async () => {
    opened = true;
    return memoryWriter();
  });
  await assert.rejects(storer.store(await attestationRequest()), (err: ChainsmithError) => {
    assert.equal(err.reason, 'InvalidConfig');
    assert.match(err.message, /gcs: storage\.gcs\.bucket is not set/);
    return true;
  });
  assert.equal(opened, false);
});

test('a 503 from GCS is a transient StorageFailed naming the bucket, the object and the server words', async () => {
  const unavailable = Object.assign(new Error('We encountered an internal error. Please try again.'), { code: 503 });
  const storer = new GcsStorer(config, async () => memoryWriter(() => unavailable));
  await assert.rejects(storer.store(await attestationRequest(taskRun, config)), (err: ChainsmithError) => {
    assert.equal(err.reason, 'StorageFailed');
    assert.equal(err.transient, true);
    assert.match(err.message, /^gcs: writing gs:\/\/provenance\/taskrun-team-a-build-1\/taskrun-[0-9a-f-]+\.\w+: /);
    assert.match(err.message, /internal error/);
    return true;
  });
});

test('a missing bucket (404) or a refused permission (403) is not retried; a refused connection is', async () => {
  const cases: Array<[unknown, boolean]> = [
    [Object.assign(new Error('The specified bucket does not exist.'), { code: 404 }), false],
    [Object.assign(new Error('does not have storage.objects.create access'), { code: 403 }), false],
    [
      Object.assign(new Error('request failed'), {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      }),
      true,
    ],
    [Object.assign(new Error('Too Many Requests'), { code: 429 }), true],
  ];
  for (const [failure, transient] of cases) {
    const storer = new GcsStorer(config, async () => memoryWriter(() => failure));
    await assert.rejects(storer.store(imageSignatureRequest(config)), (err: ChainsmithError) => {
      assert.equal(err.transient, transient, err.message);
      return true;
    });
  }
});

test('a client that cannot be created (no credentials) fails the store and is retried on the next one', async () => {
  let attempts = 0;
  const storer = new GcsStorer(config, async () => {
    attempts++;
    if (attempts === 1) throw new Error('Could not load the default credentials.');
    return memoryWriter();
  });
  await assert.rejects(
    storer.store(imageSignatureRequest(config)),
    /gcs: creating the client: Could not load the default/,
  );
  await storer.store(imageSignatureRequest(config));
  assert.equal(attempts, 2);
});

test('STORAGE_EMULATOR_HOST as Chains reads it: a bare host:port is plain http, a URL is kept', () => {
  assert.equal(emulatorEndpoint({ STORAGE_EMULATOR_HOST: '127.0.0.1:4443' }), 'http://127.0.0.1:4443');
  assert.equal(emulatorEndpoint({ STORAGE_EMULATOR_HOST: 'https://gcs.local:9000' }), 'https://gcs.local:9000');
  assert.equal(emulatorEndpoint({}), undefined);
});
