import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChainsConfig, DEFAULT_CONFIG, enabledTypesFor } from '../../src/config/parse.js';
import { childSettled, decide } from '../../src/controller/decide.js';
import { summarise, type CachedRun } from '../../src/controller/run-cache.js';
import type { TaskRun } from '../../src/tekton/types.js';

function taskRun(
  over: {
    done?: boolean | 'unknown';
    annotations?: Record<string, string>;
    finalizers?: string[];
    deleting?: boolean;
    managedBy?: string;
  } = {},
): CachedRun {
  const tr: TaskRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: {
      name: 'build',
      namespace: 'ns',
      uid: 'u1',
      resourceVersion: '7',
      annotations: over.annotations ?? {},
      finalizers: over.finalizers ?? [],
      ...(over.deleting ? { deletionTimestamp: '2026-11-23T12:00:00Z' } : {}),
    },
    spec: over.managedBy !== undefined ? { managedBy: over.managedBy } : {},
    status:
      over.done === false
        ? {}
        : {
            conditions: [{ type: 'Succeeded', status: over.done === 'unknown' ? 'Unknown' : 'True' }],
            completionTime: '2026-11-23T12:00:00Z',
          },
  };
  return summarise(tr);
}

test('a done, unsigned run is signed; failed and cancelled runs are done too', () => {
  assert.deepEqual(decide(taskRun(), DEFAULT_CONFIG), { action: 'sign' });
});

test('running runs get our finalizer ahead of completion, and are otherwise left alone until done', () => {
  assert.deepEqual(decide(taskRun({ done: 'unknown' }), DEFAULT_CONFIG), { action: 'protect' });
  assert.deepEqual(decide(taskRun({ done: false }), DEFAULT_CONFIG), { action: 'protect' });
  const protectedRun = taskRun({ done: 'unknown', finalizers: ['chains.tekton.dev/taskrun'] });
  assert.deepEqual(decide(protectedRun, DEFAULT_CONFIG), { action: 'none', why: 'not-done' });
  const disabled = parseChainsConfig({ 'artifacts.taskrun.signer': 'none', 'artifacts.oci.signer': 'none' });
  assert.deepEqual(
    decide(taskRun({ done: 'unknown' }), disabled),
    { action: 'none', why: 'not-done' },
    'no finalizer when nothing would be signed',
  );
  const other = taskRun({ done: 'unknown', managedBy: 'example.com/other' });
  assert.deepEqual(decide(other, DEFAULT_CONFIG), { action: 'none', why: 'filtered' });
});

test('signed "true" and "failed" are reconciled; any other value is not', () => {
  assert.equal(
    decide(
      taskRun({
        annotations: { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T12:00:01Z' },
      }),
      DEFAULT_CONFIG,
    ).action,
    'none',
  );
  assert.equal(
    decide(taskRun({ annotations: { 'chains.tekton.dev/signed': 'failed' } }), DEFAULT_CONFIG).action,
    'none',
  );
  assert.equal(
    decide(taskRun({ annotations: { 'chains.tekton.dev/signed': 'false' } }), DEFAULT_CONFIG).action,
    'sign',
  );
});

test('our finalizer is released from a run deleted before it finished, and from a signed run being deleted', () => {
  const fin = ['chains.tekton.dev/taskrun'];
  assert.deepEqual(decide(taskRun({ done: 'unknown', deleting: true, finalizers: fin }), DEFAULT_CONFIG), {
    action: 'release',
    why: 'deleted-before-done',
  });
  assert.deepEqual(
    decide(
      taskRun({
        annotations: { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T12:00:01Z' },
        deleting: true,
        finalizers: fin,
      }),
      DEFAULT_CONFIG,
    ),
    { action: 'release', why: 'reconciled' },
  );
  // a signed run that is not being deleted keeps a Chains-era finalizer: no write per historical run
  assert.deepEqual(
    decide(
      taskRun({
        annotations: { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T12:00:01Z' },
        finalizers: fin,
      }),
      DEFAULT_CONFIG,
    ),
    { action: 'none', why: 'reconciled' },
  );
});

test('a done run being deleted is still signed first', () => {
  assert.deepEqual(decide(taskRun({ deleting: true, finalizers: ['chains.tekton.dev/taskrun'] }), DEFAULT_CONFIG), {
    action: 'sign',
  });
});

test('spec.managedBy: tekton.dev/pipeline and empty pass, others only when listed in filter.managed-by', () => {
  assert.equal(decide(taskRun({ managedBy: 'tekton.dev/pipeline' }), DEFAULT_CONFIG).action, 'sign');
  assert.equal(decide(taskRun({ managedBy: '' }), DEFAULT_CONFIG).action, 'sign');
  assert.deepEqual(decide(taskRun({ managedBy: 'kueue.x-k8s.io/multikueue' }), DEFAULT_CONFIG), {
    action: 'none',
    why: 'filtered',
  });
  const allow = parseChainsConfig({ 'filter.managed-by': 'kueue.x-k8s.io/multikueue' });
  assert.equal(decide(taskRun({ managedBy: 'kueue.x-k8s.io/multikueue' }), allow).action, 'sign');
});

test('no valid config yet: nothing is done', () => {
  assert.deepEqual(decide(taskRun(), undefined), { action: 'none', why: 'no-config' });
});

test('a run whose artifact types are all disabled is reported, not signed', () => {
  const off = parseChainsConfig({ 'artifacts.taskrun.signer': 'none', 'artifacts.oci.storage': '' });
  assert.deepEqual(enabledTypesFor('TaskRun', off), []);
  assert.deepEqual(decide(taskRun(), off), { action: 'disabled' });
  // only the image type left: still signable
  const ociOnly = parseChainsConfig({ 'artifacts.taskrun.signer': 'none' });
  assert.deepEqual(enabledTypesFor('TaskRun', ociOnly), ['oci']);
  assert.deepEqual(enabledTypesFor('PipelineRun', DEFAULT_CONFIG), ['pipelinerun']);
});

test('a child TaskRun settles a waiting PipelineRun when signed, failed, filtered or disabled — not while unsigned', () => {
  assert.equal(childSettled(taskRun(), DEFAULT_CONFIG), false);
  assert.equal(childSettled(taskRun({ done: 'unknown' }), DEFAULT_CONFIG), false);
  assert.equal(childSettled(taskRun({ annotations: { 'chains.tekton.dev/signed': 'failed' } }), DEFAULT_CONFIG), true);
  assert.equal(childSettled(taskRun({ managedBy: 'other/controller' }), DEFAULT_CONFIG), true);
  assert.equal(
    childSettled(taskRun(), parseChainsConfig({ 'artifacts.taskrun.signer': 'none', 'artifacts.oci.signer': 'none' })),
    true,
  );
});
