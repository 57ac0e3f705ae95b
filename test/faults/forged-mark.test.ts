// A `chains.tekton.dev/signed: "true"` mark is trusted only with evidence a signer wrote it (docs/reliability.md):
// a run *created* with the mark must be signed, not silently skipped as Tekton Chains skips it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import { decide } from '../../src/controller/decide.js';
import { signedMarkTrusted, summarise } from '../../src/controller/run-cache.js';
import type { TaskRun } from '../../src/tekton/types.js';

function doneTaskRun(annotations: Record<string, string>, uid = 'c0ffee-1'): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: 'build', namespace: 'ns', uid, resourceVersion: '9', annotations },
    spec: {},
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-11-23T12:00:00Z' },
  };
}

test('a done run carrying only a forged signed "true" mark is signed, not skipped', () => {
  const run = doneTaskRun({ 'chains.tekton.dev/signed': 'true' });
  assert.equal(signedMarkTrusted(run), false);
  assert.deepEqual(decide(summarise(run), DEFAULT_CONFIG), { action: 'sign' });
});

test('a mark backed by chainsmith.dev/signed-at is trusted', () => {
  const run = doneTaskRun({ 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T12:00:01Z' });
  assert.equal(signedMarkTrusted(run), true);
  assert.deepEqual(decide(summarise(run), DEFAULT_CONFIG), { action: 'none', why: 'reconciled' });
});

test("a mark backed by a stored signature for this run's UID (Chains' tekton storage) is trusted; one for another UID is not", () => {
  const own = doneTaskRun({ 'chains.tekton.dev/signed': 'true', 'chains.tekton.dev/signature-taskrun-c0ffee-1': 'e30=' });
  assert.deepEqual(decide(summarise(own), DEFAULT_CONFIG), { action: 'none', why: 'reconciled' });
  // copied from another run (e.g. `kubectl get -o yaml | kubectl create -f -`): the UID no longer matches
  const copied = doneTaskRun({ 'chains.tekton.dev/signed': 'true', 'chains.tekton.dev/signature-taskrun-c0ffee-1': 'e30=' }, 'beef-2');
  assert.deepEqual(decide(summarise(copied), DEFAULT_CONFIG), { action: 'sign' });
});

test('a "failed" mark needs no evidence: it never hides a run as signed', () => {
  const run = doneTaskRun({ 'chains.tekton.dev/signed': 'failed' });
  assert.deepEqual(decide(summarise(run), DEFAULT_CONFIG), { action: 'none', why: 'reconciled' });
});
