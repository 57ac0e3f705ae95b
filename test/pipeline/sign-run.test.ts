import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { StorageName } from '../../src/config/types.js';
import { imageShortKey, planArtifacts, signRun, type SigningDeps } from '../../src/pipeline/sign-run.js';
import { ChainsmithError } from '../../src/errors.js';
import { payloadFormat } from '../../src/formats/index.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import type { Storer, StoreRequest } from '../../src/storage/storer.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { ephemeralSigner } from '../signing/fixtures.js';

const DIGEST = 'sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';
const signer = ephemeralSigner();

const tr: TaskRun = {
  apiVersion: 'tekton.dev/v1',
  kind: 'TaskRun',
  metadata: { name: 'b', namespace: 'n', uid: 'u' },
  spec: {},
  status: {
    startTime: '2026-11-23T12:00:00Z',
    completionTime: '2026-11-23T12:00:42Z',
    conditions: [{ type: 'Succeeded', status: 'True' }],
    results: [
      { name: 'IMAGE_URL', value: '127.0.0.1:5000/app' },
      { name: 'IMAGE_DIGEST', value: DIGEST },
    ],
  },
};

function deps(storers: Map<StorageName, Storer>): SigningDeps {
  return {
    formatFor: payloadFormat,
    signer: async () => signer,
    sign: signPayload,
    storers: () => storers,
    imagesToSign: async (_run, images) => images,
  };
}

class Recording implements Storer {
  readonly calls: StoreRequest[] = [];
  constructor(
    readonly name: string,
    private readonly fail?: ChainsmithError,
  ) {}
  async store(req: StoreRequest) {
    this.calls.push(req);
    if (this.fail) throw this.fail;
    return { annotations: { [`chains.tekton.dev/x-${this.name}-${req.shortKey}`]: 'ok' } };
  }
}

test('a TaskRun plans its attestation first, then one simplesigning object per image with the 12-hex short key', async () => {
  const { plans } = await planArtifacts(tr, [], parseChainsConfig({}), deps(new Map()));
  assert.deepEqual(
    plans.map((p) => p.type),
    ['taskrun', 'oci'],
  );
  assert.deepEqual(
    plans[0]!.objects.map((o) => [o.shortKey, o.fullKey]),
    [['taskrun-u', 'tekton.dev-v1-TaskRun-u']],
  );
  assert.deepEqual(
    plans[1]!.objects.map((o) => [o.shortKey, o.fullKey, o.format]),
    [['4d6dd704ef58', `127.0.0.1:5000/app@${DIGEST}`, 'simplesigning']],
  );
  assert.equal(imageShortKey(DIGEST), '4d6dd704ef58');
});

test('a PipelineRun never produces image signatures', async () => {
  const pr = { ...tr, kind: 'PipelineRun', spec: {} } as unknown as TaskRun;
  const { plans } = await planArtifacts(pr, [], parseChainsConfig({}), deps(new Map()));
  assert.deepEqual(
    plans.map((p) => [p.type, p.objects.length]),
    [['pipelinerun', 1]],
  );
});

test('every backend is tried in sorted order even after one fails; the failure stops later types and is reported', async () => {
  const oci = new Recording('oci', new ChainsmithError('RegistryUnauthorized', 'push denied'));
  const tekton = new Recording('tekton');
  const config = parseChainsConfig({ 'artifacts.taskrun.storage': 'tekton,oci', 'artifacts.oci.storage': 'tekton' });
  const out = await signRun(
    tr,
    [],
    config,
    deps(
      new Map<StorageName, Storer>([
        ['oci', oci],
        ['tekton', tekton],
      ]),
    ),
  );
  assert.equal(out.status, 'failed');
  assert.equal(out.status === 'failed' && out.errorType, 'storage');
  assert.equal(out.status === 'failed' && out.type, 'taskrun');
  assert.match(out.status === 'failed' ? out.messages.join() : '', /TaskRun attestation: push denied/);
  assert.equal(oci.calls.length, 1);
  assert.equal(tekton.calls.length, 1, 'tekton still stored the attestation');
  assert.ok(
    tekton.calls.every((c) => c.shortKey === 'taskrun-u'),
    'no image signature after the attestation type failed',
  );
});

test('a signed outcome collects the annotations of every backend and says what was signed', async () => {
  const tekton = new Recording('tekton');
  const out = await signRun(
    tr,
    [],
    parseChainsConfig({ 'artifacts.oci.storage': 'tekton' }),
    deps(new Map<StorageName, Storer>([['tekton', tekton]])),
  );
  assert.equal(out.status, 'signed');
  assert.deepEqual(Object.keys(out.status === 'signed' ? out.annotations : {}).sort(), [
    'chains.tekton.dev/x-tekton-4d6dd704ef58',
    'chains.tekton.dev/x-tekton-taskrun-u',
  ]);
  assert.equal(out.status === 'signed' && out.signed.length, 2);
});

test('nothing to sign: image signing only and no images', async () => {
  const plain = { ...tr, status: { ...tr.status, results: [] } } as TaskRun;
  const out = await signRun(
    plain,
    [],
    parseChainsConfig({ 'artifacts.taskrun.signer': 'none', 'artifacts.oci.storage': 'tekton' }),
    deps(new Map<StorageName, Storer>([['tekton', new Recording('tekton')]])),
  );
  assert.equal(out.status, 'nothing');
});

test('a configured backend that cannot store (gcs without a bucket) fails the run (never a silent success)', async () => {
  const { buildStorers } = await import('../../src/storage/index.js');
  const { StaticCredentialSource } = await import('../../src/kube/registry-credentials.js');
  const config = parseChainsConfig({ 'artifacts.taskrun.storage': 'tekton,gcs', 'artifacts.oci.storage': '' });
  const storers = buildStorers(config, { credentials: new StaticCredentialSource([]) });
  const out = await signRun(tr, [], config, deps(storers));
  assert.equal(out.status, 'failed');
  assert.match(out.status === 'failed' ? out.messages.join() : '', /gcs: storage\.gcs\.bucket is not set/);
});

test('one extraction per run: the format gets the extraction the images and findings came from', async () => {
  const config = parseChainsConfig({ 'artifacts.taskrun.format': 'slsa/v2alpha4', 'artifacts.oci.storage': 'tekton' });
  const seen: Array<{ kind: string; extraction?: unknown }> = [];
  const d = deps(new Map([['tekton', new Recording('tekton')]]));
  const recording: SigningDeps = {
    ...d,
    formatFor: (name) => {
      const f = payloadFormat(name);
      return {
        name: f.name,
        createPayload: (input, cfg) => {
          seen.push({ kind: input.kind, ...(input.kind !== 'Image' ? { extraction: input.extraction } : {}) });
          return f.createPayload(input, cfg);
        },
      };
    },
  };
  const withNearMiss: TaskRun = {
    ...tr,
    status: { ...tr.status!, results: [...tr.status!.results!, { name: 'image_url', value: 'x' }] },
  };
  const outcome = await signRun(withNearMiss, [], config, recording);
  assert.equal(outcome.status, 'signed');
  const run = seen.find((s) => s.kind === 'TaskRun')!;
  const extraction = run.extraction as {
    format: string;
    artifacts: { images: Array<{ digest: string }>; findings: Array<{ reason: string }> };
  };
  assert.equal(extraction.format, 'slsa/v2alpha4', 'made for the configured format');
  assert.deepEqual(
    extraction.artifacts.images.map((i) => i.digest),
    [DIGEST],
    'the images signed are those of the extraction',
  );
  assert.equal(seen.filter((s) => s.kind === 'Image').length, 1);
  // the near-miss finding is reported once, from the same pass
  assert.deepEqual(
    outcome.findings.filter((f) => f.reason === 'NearMissName').map((f) => f.result),
    ['image_url'],
  );
  assert.deepEqual(
    extraction.artifacts.findings.map((f) => f.reason),
    outcome.findings.map((f) => f.reason),
  );
});
