import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventBody, microTime } from '../../src/observability/events.js';

test('MicroTime has exactly six fractional digits', () => {
  assert.equal(microTime(new Date('2026-11-23T12:00:00.123Z')), '2026-11-23T12:00:00.123000Z');
});

test('an Event names the run it is about, with a valid name and a note capped at 1 kB', () => {
  const body = eventBody(
    { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', namespace: 'ns', name: 'build-1', uid: 'u1' },
    'Warning',
    'NoArtifacts',
    'x'.repeat(5000),
    { instance: 'pod-1', now: new Date('2026-11-23T12:00:00Z') },
  ) as { metadata: { name: string; namespace: string }; note: string; regarding: Record<string, string>; reason: string; type: string; reportingController: string };
  assert.match(body.metadata.name, /^build-1\.[0-9a-f]+$/);
  assert.equal(body.metadata.namespace, 'ns');
  assert.ok(Buffer.byteLength(body.note) <= 1024);
  assert.deepEqual(body.regarding, { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', namespace: 'ns', name: 'build-1', uid: 'u1' });
  assert.equal(body.reason, 'NoArtifacts');
  assert.equal(body.type, 'Warning');
  assert.equal(body.reportingController, 'chainsmith.dev/controller');
});
