import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'winston';
import type { KubeClient } from '../../src/kube/client.js';
import { eventBody, KubeEventSink, microTime } from '../../src/observability/events.js';

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
  ) as {
    metadata: { name: string; namespace: string };
    note: string;
    regarding: Record<string, string>;
    reason: string;
    type: string;
    reportingController: string;
  };
  assert.match(body.metadata.name, /^build-1\.[0-9a-f]+$/);
  assert.equal(body.metadata.namespace, 'ns');
  assert.ok(Buffer.byteLength(body.note) <= 1024);
  assert.deepEqual(body.regarding, {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    namespace: 'ns',
    name: 'build-1',
    uid: 'u1',
  });
  assert.equal(body.reason, 'NoArtifacts');
  assert.equal(body.type, 'Warning');
  assert.equal(body.reportingController, 'chainsmith.dev/controller');
});

// A client whose creates complete only when the test releases them, counting how many are in flight.
function gatedClient(failNames: string[] = []) {
  const sent: string[] = [];
  const gates: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    async create(_res: unknown, _ns: string, body: { regarding: { name: string } }, priority: string) {
      assert.equal(priority, 'low', 'Events yield the rate limit to run writes');
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => gates.push(r));
      inFlight--;
      sent.push(body.regarding.name);
      if (failNames.includes(body.regarding.name)) throw new Error('HTTP 500');
      return {};
    },
  };
  const releaseAll = async (): Promise<void> => {
    while (gates.length > 0) {
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { client: client as unknown as KubeClient, sent, releaseAll, maxInFlight: () => maxInFlight };
}

const logger = (lines: string[]): Logger =>
  ({ warn: (m: string, f: object) => lines.push(`${m} ${JSON.stringify(f)}`) }) as unknown as Logger;
const target = (name: string) => ({ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', namespace: 'ns', name });

test('under a burst, Events are sent two at a time, in order, and flush() waits for every one (failures logged, not thrown)', async () => {
  const g = gatedClient(['run-3']);
  const lines: string[] = [];
  const sink = new KubeEventSink(g.client, logger(lines), { instance: 'pod' });
  for (let i = 0; i < 10; i++) sink.record(target(`run-${i}`), 'Normal', 'Signed', 'signed');
  let flushed = false;
  const f = sink.flush().then(() => (flushed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(flushed, false);
  await g.releaseAll();
  await f;
  assert.equal(g.maxInFlight(), 2);
  assert.deepEqual(
    g.sent,
    Array.from({ length: 10 }, (_, i) => `run-${i}`),
  );
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^could not record event .*"name":"run-3".*HTTP 500/);
});

test('beyond maxPending, new Events are dropped with one warning and a count, so an outage cannot grow memory', async () => {
  const g = gatedClient();
  const lines: string[] = [];
  const sink = new KubeEventSink(g.client, logger(lines), { instance: 'pod', maxPending: 3, concurrency: 1 });
  for (let i = 0; i < 10; i++) sink.record(target(`run-${i}`), 'Warning', 'StorageFailed', 'registry down');
  const f = sink.flush();
  await g.releaseAll();
  await f;
  assert.deepEqual(g.sent, ['run-0', 'run-1', 'run-2', 'run-3']);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^too many Events waiting/);
  assert.match(lines[1]!, /"dropped":6/);
});

test('an Event note quoting a run or registry is escaped (kubectl describe prints it raw), cut at 1024 bytes', () => {
  const t = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', namespace: 'ns', name: 'build-1' };
  const opts = { instance: 'pod-1', now: new Date('2026-11-23T12:00:00Z') };
  const note = 'result IMAGE_URL "\u001b[2J\u001b[32mVERIFIED\u009b0m\u202eevil\nline"';
  const hostile = eventBody(t, 'Warning', 'InvalidResult', note, opts) as { note: string };
  assert.equal(hostile.note, 'result IMAGE_URL "\\x1b[2J\\x1b[32mVERIFIED\\x9b0m\\u202eevil\\nline"');
  // multi-byte text: the API's limit is in bytes, not characters
  const long = eventBody(t, 'Warning', 'SigningFailed', 'é'.repeat(2000), opts) as { note: string };
  assert.ok(Buffer.byteLength(long.note) <= 1024, `${Buffer.byteLength(long.note)} bytes`);
  assert.ok(long.note.endsWith('…'), 'a cut note says it was cut');
  assert.ok(!long.note.includes('\ufffd'), 'no character is split');
  const exact = eventBody(t, 'Normal', 'Signed', 'a'.repeat(1024), opts) as { note: string };
  assert.equal(exact.note, 'a'.repeat(1024), 'a note of exactly 1024 bytes is kept whole');
});

test("an Event about a run whose name is cut at 200 characters still has a valid name (no '-' before '.')", () => {
  const name = `${'a'.repeat(199)}-b`;
  const target = { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', namespace: 'ns', name };
  const opts = { instance: 'pod-1', now: new Date('2026-11-23T12:00:00Z') };
  const body = eventBody(target, 'Normal', 'Signed', 'ok', opts) as { metadata: { name: string } };
  assert.match(body.metadata.name, /^a{199}\.[0-9a-f]+$/);
});
