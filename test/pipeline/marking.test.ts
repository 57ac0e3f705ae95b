import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addFinalizerPatch, failurePatch, finishPatch, rearmPatch, releasePatch } from '../../src/pipeline/marking.js';

const base = {
  kind: 'TaskRun' as const,
  resourceVersion: '42',
  finalizers: ['other.io/keep', 'chains.tekton.dev/taskrun'],
};
const now = new Date('2026-11-23T12:34:56.789Z');

test('the finish patch writes every annotation, the signed mark and signed-at, and drops only our finalizer, under a resourceVersion precondition', () => {
  const p = finishPatch(base, {
    annotations: { 'chains.tekton.dev/payload-taskrun-u': 'eyJ9', 'chains.tekton.dev/signature-taskrun-u': 'e30=' },
    signed: true,
    now,
  });
  assert.deepEqual(p, {
    metadata: {
      resourceVersion: '42',
      annotations: {
        'chains.tekton.dev/payload-taskrun-u': 'eyJ9',
        'chains.tekton.dev/signature-taskrun-u': 'e30=',
        'chains.tekton.dev/signed': 'true',
        'chainsmith.dev/signed-at': '2026-11-23T12:34:56Z',
        'chainsmith.dev/last-failure': null,
      },
      finalizers: ['other.io/keep'],
    },
  });
});

test('when nothing was signed the finish patch writes no signed mark, only releases the finalizer', () => {
  assert.deepEqual(finishPatch(base, { annotations: {}, signed: false, now }), {
    metadata: { resourceVersion: '42', finalizers: ['other.io/keep'] },
  });
});

test('a PipelineRun uses its own finalizer name', () => {
  const pr = { kind: 'PipelineRun' as const, resourceVersion: '1', finalizers: [] };
  assert.deepEqual(addFinalizerPatch(pr), {
    metadata: { resourceVersion: '1', finalizers: ['chains.tekton.dev/pipelinerun'] },
  });
});

test('adding the finalizer keeps other finalizers and never duplicates ours', () => {
  assert.deepEqual(
    addFinalizerPatch({ kind: 'TaskRun', resourceVersion: '3', finalizers: ['a/b'] }).metadata.finalizers,
    ['a/b', 'chains.tekton.dev/taskrun'],
  );
  assert.deepEqual(addFinalizerPatch(base).metadata.finalizers, ['other.io/keep', 'chains.tekton.dev/taskrun']);
});

test('release, failure and re-arm patches', () => {
  assert.deepEqual(releasePatch(base), { metadata: { resourceVersion: '42', finalizers: ['other.io/keep'] } });
  assert.deepEqual(failurePatch(base, { 'chains.tekton.dev/retries': '1' }, false), {
    metadata: { resourceVersion: '42', annotations: { 'chains.tekton.dev/retries': '1' } },
  });
  assert.deepEqual(failurePatch(base, { 'chains.tekton.dev/signed': 'failed' }, true).metadata.finalizers, [
    'other.io/keep',
  ]);
  assert.deepEqual(rearmPatch(base), {
    metadata: {
      resourceVersion: '42',
      annotations: {
        'chains.tekton.dev/signed': null,
        'chains.tekton.dev/retries': null,
        'chainsmith.dev/last-failure': null,
      },
    },
  });
});
