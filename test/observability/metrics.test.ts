import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerMetrics } from '../../src/observability/metrics.js';

test("Chains' metric names are exported for both run kinds, failures labelled by error_type", async () => {
  const m = new ControllerMetrics({ defaultMetrics: false });
  m.forKind('TaskRun').signCreated.inc();
  m.forKind('PipelineRun').signingFailures.labels('storage').inc();
  const text = await m.registry.metrics();
  for (const kind of ['taskrun', 'pipelinerun']) {
    for (const name of [
      'sign_created_total',
      'payload_uploaded_total',
      'payload_stored_total',
      'marked_signed_total',
      'signing_failures_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE watcher_${kind}_${name} counter$`, 'm'), `watcher_${kind}_${name}`);
    }
  }
  assert.match(text, /^watcher_taskrun_sign_created_total 1$/m);
  assert.match(text, /^watcher_pipelinerun_signing_failures_total\{error_type="storage"\} 1$/m);
});

test('queue, latency and per-backend metrics exist', async () => {
  const m = new ControllerMetrics({ defaultMetrics: false });
  m.queueDepth.labels('live').set(3);
  m.signLatency.labels('TaskRun').observe(0.7);
  m.storeDuration.labels('oci').observe(0.05);
  m.storeFailures.labels('oci', 'RegistryUnauthorized').inc();
  const text = await m.registry.metrics();
  assert.match(text, /^chainsmith_queue_depth\{lane="live"\} 3$/m);
  assert.match(text, /^chainsmith_queue_oldest_pending_seconds /m);
  assert.match(text, /^chainsmith_completion_to_signed_seconds_bucket\{le="1",kind="TaskRun"\} 1$/m);
  assert.match(text, /^chainsmith_store_duration_seconds_count\{backend="oci"\} 1$/m);
  assert.match(text, /^chainsmith_store_failures_total\{backend="oci",reason="RegistryUnauthorized"\} 1$/m);
});
