// Large runs are processed in time linear in their size: 20,000 steps pulling one image at different digests
// took half a minute per payload (a quadratic merge of materials), and large pipelines scanned every child per
// task. The bounds are generous (seconds, where the linear code needs well under one); timing figures live in bench/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractArtifacts } from '../../src/artifacts/index.js';
import { parseChainsConfig } from '../../src/config/parse.js';
import { payloadFormat, RUN_FORMATS } from '../../src/formats/index.js';
import { groupRuns } from '../../src/tekton/collect.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';

const STEPS = 20_000;
const hex = (i: number) => i.toString(16).padStart(64, '0');

function bigTaskRun(): TaskRun {
  const steps = [];
  const specSteps = [];
  const results = [];
  for (let i = 0; i < STEPS; i++) {
    // one repository, a different digest per step: every step image is a new material with the same uri
    steps.push({
      name: `s${i}`,
      imageID: `docker-pullable://registry.example/builder@sha256:${hex(i)}`,
      results: [
        { name: `R${i}_ARTIFACT_OUTPUTS`, value: { uri: 'o', digest: `sha256:${hex(i)}`, isBuildArtifact: 'true' } },
      ],
    });
    specSteps.push({ name: `s${i}`, image: 'alpine', script: 'true' });
    results.push({ name: `r${i}-IMAGE_URL`, value: 'registry.example/app' });
    results.push({ name: `r${i}-IMAGE_DIGEST`, value: `sha256:${hex(i)}` });
  }
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'big', namespace: 'ci', uid: 'u' },
    spec: {},
    status: {
      conditions: [{ type: 'Succeeded', status: 'True' }],
      completionTime: '2026-01-01T00:00:00Z',
      steps,
      results,
      taskSpec: { steps: specSteps },
    },
  };
}

function timed<T>(what: string, limitMs: number, fn: () => T): T {
  const started = performance.now();
  const out = fn();
  const ms = performance.now() - started;
  assert.ok(ms < limitMs, `${what} took ${Math.round(ms)} ms (limit ${limitMs} ms)`);
  return out;
}

test(`a TaskRun with ${STEPS} steps gets provenance in every format and its artifacts in seconds, not minutes`, () => {
  const run = bigTaskRun();
  const config = parseChainsConfig({});
  for (const format of RUN_FORMATS) {
    const create = () => payloadFormat(format).createPayload({ kind: 'TaskRun', run }, config);
    const payload = timed(`${format} payload`, 5000, create);
    const statement = JSON.parse(payload.bytes.toString()) as { subject?: unknown[] };
    // 20,000 images at one repository with different digests: 20,000 subjects (v0.2 family) — nothing merged away
    if (format !== 'slsa/v2alpha4') assert.equal(statement.subject?.length, STEPS, format);
    const extract = () => extractArtifacts({ kind: 'TaskRun', run }, format, { deepInspection: false });
    const artifacts = timed(`${format} artifacts`, 5000, extract);
    assert.ok(artifacts.materials.length >= STEPS, `${format}: every step image is a material`);
  }
});

test('a PipelineRun with 5,000 tasks and 5,000 child TaskRuns is grouped and described in seconds', () => {
  const n = 5000;
  const tasks = Array.from({ length: n }, (_, i) => ({ name: `t${i}`, taskRef: { name: 'build' } }));
  const children: TaskRun[] = tasks.map((t, i) => ({
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: `child-${i}`, labels: { 'tekton.dev/pipelineRun': 'p', 'tekton.dev/pipelineTask': t.name } },
    spec: {},
    status: {
      conditions: [{ type: 'Succeeded', status: 'True' }],
      startTime: '2026-01-01T00:00:00Z',
      completionTime: '2026-01-01T00:01:00Z',
      steps: [{ name: 'build', imageID: `registry.example/builder@sha256:${hex(i)}` }],
      taskSpec: { steps: [{ name: 'build', image: 'builder' }] },
      results: [
        { name: 'IMAGE_URL', value: 'registry.example/app' },
        { name: 'IMAGE_DIGEST', value: `sha256:${hex(i)}` },
      ],
    },
  }));
  const pr: PipelineRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name: 'p', namespace: 'ci', uid: 'u' },
    spec: {},
    status: {
      conditions: [{ type: 'Succeeded', status: 'True' }],
      pipelineSpec: { tasks },
      childReferences: children.map((c, i) => ({ kind: 'TaskRun', name: c.metadata.name!, pipelineTaskName: `t${i}` })),
    },
  };
  const groups = timed('grouping', 5000, () => groupRuns([pr, ...children.slice().reverse()]));
  assert.equal(groups.pipelineRuns[0]!.children.length, n);
  assert.equal(groups.pipelineRuns[0]!.children[0]!.metadata.name, 'child-0', 'children come in childReferences order');
  const config = parseChainsConfig({ 'artifacts.pipelinerun.enable-deep-inspection': 'true' });
  for (const format of RUN_FORMATS) {
    const input = { kind: 'PipelineRun' as const, run: groups.pipelineRuns[0]! };
    const payload = timed(`${format} payload`, 5000, () => payloadFormat(format).createPayload(input, config));
    assert.ok(payload.bytes.length > 0);
  }
});
