// The controller reads runs from the API server, not files: the same shape checks and limits apply on its path
// (the real signing wiring: type hinting, the image pass and the payload formats), so a hostile run ends as a
// failed outcome with a clear reason — which the reconciler turns into an Event — and nothing is signed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractArtifacts } from '../../src/artifacts/index.js';
import { extractOciImages } from '../../src/artifacts/images.js';
import { parseChainsConfig } from '../../src/config/parse.js';
import { signRun } from '../../src/pipeline/sign-run.js';
import { realSigningDeps, type RealSigningDepsOptions } from '../../src/pipeline/signing-deps.js';
import { ChainsmithError } from '../../src/errors.js';
import { payloadFormat, RUN_FORMATS } from '../../src/formats/index.js';
import type { Storer, StoreRequest } from '../../src/storage/storer.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { ephemeralSigner } from '../signing/fixtures.js';

const DIGEST = `sha256:${'4'.repeat(64)}`;
const signer = ephemeralSigner();
const image = (url: string) => [
  { name: 'IMAGE_URL', value: url },
  { name: 'IMAGE_DIGEST', value: DIGEST },
];

function taskRun(status: Record<string, unknown>, spec: Record<string, unknown> = {}): TaskRun {
  const run = {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'hostile', namespace: 'ci', uid: 'u-1' },
    spec,
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-01-01T00:00:00Z', ...status },
  };
  // what the informer hands over is whatever JSON the API server stored
  return run as unknown as TaskRun;
}

/** The controller's own wiring (realSigningDeps) with a test signer and a recording store. */
function controllerDeps(stored: StoreRequest[]) {
  const storer: Storer = {
    name: 'tekton',
    async store(req) {
      stored.push(req);
      return {};
    },
  };
  const opts = {
    signers: { get: async () => signer },
    storers: () => new Map([['tekton', storer]]),
    credentials: { dockerConfigsFor: async () => [] },
  } as unknown as RealSigningDepsOptions; // only the members signRun uses are provided
  return realSigningDeps(opts);
}

async function refusedBySigning(run: TaskRun, format: string, reason: string, message: RegExp): Promise<void> {
  const stored: StoreRequest[] = [];
  const config = parseChainsConfig({ 'artifacts.taskrun.format': format });
  const outcome = await signRun(run, [], config, controllerDeps(stored));
  assert.equal(outcome.status, 'failed', `${format}: ${JSON.stringify(outcome).slice(0, 300)}`);
  if (outcome.status !== 'failed') return;
  assert.ok(outcome.error instanceof ChainsmithError, `${format}: a ChainsmithError, got ${String(outcome.error)}`);
  assert.equal(outcome.error.reason, reason, `${format}: ${outcome.error.message}`);
  assert.match(outcome.messages.join('\n'), message);
  assert.ok(!outcome.messages.join('').includes('\n'), 'one line');
  assert.equal(stored.length, 0, 'nothing is stored');
}

test('a run with a 10 MB result value is InvalidResult in the controller pipeline, in every format', async () => {
  const run = taskRun({ results: image('r.example/app' + 'a'.repeat(10 * 1024 * 1024)) });
  for (const format of RUN_FORMATS) {
    const started = performance.now();
    // the one extraction validates the whole run first, and names it
    const message = /TaskRun ci\/hostile: status\.results\[0\]\.value \(IMAGE_URL\) is 10 MiB, more than 1\.5 MiB/;
    await refusedBySigning(run, format, 'InvalidResult', message);
    assert.ok(performance.now() - started < 5000, 'refused without processing the value');
  }
});

test('a run nested 100,000 levels deep is InvalidRun, not a stack overflow, in every format', async () => {
  let deep: unknown = 'leaf';
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const run = taskRun({ results: image('r.example/app') }, { podTemplate: deep });
  for (const format of RUN_FORMATS) {
    const message = /TaskRun ci\/hostile: the run is refused: it is nested deeper than 256 levels/;
    await refusedBySigning(run, format, 'InvalidRun', message);
    const create = () => payloadFormat(format).createPayload({ kind: 'TaskRun', run }, parseChainsConfig({}));
    assert.throws(create, message);
  }
});

test('wrong shapes from the API server are InvalidRun at every entry point the controller calls', async () => {
  const run = taskRun({ results: 'IMAGE_URL', steps: [null] });
  await refusedBySigning(run, 'in-toto', 'InvalidRun', /status\.results must be a list/);
  const invalidRun = (e: unknown) => e instanceof ChainsmithError && e.reason === 'InvalidRun';
  assert.throws(() => extractOciImages('IMAGE_URL' as never), invalidRun);
  const stepless = taskRun({ steps: [null] });
  const opts = { deepInspection: false };
  const extract = () => extractArtifacts({ kind: 'TaskRun', run: stepless }, 'slsa/v2alpha4', opts);
  assert.throws(extract, /TaskRun ci\/hostile: status\.steps\[0\] must be an object, got null/);
  const child = taskRun({ sidecars: 'x' });
  const metadata = { name: 'p', namespace: 'ci' };
  const pipelineRun = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata, spec: {} };
  const input = { kind: 'PipelineRun' as const, run: { run: pipelineRun as never, children: [child] } };
  const create = () => payloadFormat('slsa/v2alpha3').createPayload(input, parseChainsConfig({}));
  assert.throws(create, /TaskRun ci\/hostile: status\.sidecars must be a list/);
});

test('a valid run still signs through the same pipeline (the checks do not get in the way)', async () => {
  const stored: StoreRequest[] = [];
  const run = taskRun({ results: image('r.example/app') });
  const config = parseChainsConfig({ 'artifacts.oci.storage': 'tekton' });
  const outcome = await signRun(run, [], config, controllerDeps(stored));
  assert.equal(outcome.status, 'signed', JSON.stringify(outcome).slice(0, 300));
  assert.equal(stored.length, 2, 'the attestation and the image signature');
});
