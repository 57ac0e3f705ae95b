import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { DEFAULT_CONFIG, parseChainsConfig } from '../../src/config/parse.js';
import { ConfigStore } from '../../src/controller/config-store.js';
import type { KubeClient } from '../../src/kube/client.js';
import { MemoryEventSink } from '../../src/observability/events.js';
import { createLogger } from '../../src/observability/logger.js';

function store() {
  const events = new MemoryEventSink();
  const lines: string[] = [];
  const logger = createLogger({ stream: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
  const s = new ConfigStore({
    client: {} as KubeClient,
    namespace: 'tekton-chains',
    parse: parseChainsConfig,
    defaults: DEFAULT_CONFIG,
    events,
    logger,
  });
  return { s, events, lines };
}

const cm = (data: Record<string, string>) => ({ metadata: { name: 'chains-config', uid: 'cm-uid' }, data });

test('a valid ConfigMap applies and notifies listeners; an identical one does not notify again', () => {
  const { s } = store();
  const seen: string[] = [];
  s.onChange((c) => seen.push(c.builder.id));
  s.apply(cm({ 'builder.id': 'https://b/1' }));
  s.apply(cm({ 'builder.id': 'https://b/1' }));
  s.apply(cm({ 'builder.id': 'https://b/2' }));
  assert.deepEqual(seen, ['https://b/1', 'https://b/2']);
  assert.equal(s.current?.builder.id, 'https://b/2');
});

test('an invalid ConfigMap keeps the last good config, logs why and records an Event on the ConfigMap', () => {
  const { s, events, lines } = store();
  s.apply(cm({ 'builder.id': 'https://b/1' }));
  s.apply(cm({ 'artifacts.taskrun.format': 'slsa/v9' }));
  assert.equal(s.current?.builder.id, 'https://b/1');
  assert.match(s.problem ?? '', /artifacts\.taskrun\.format/);
  assert.equal(events.events.length, 1);
  assert.equal(events.events[0]!.reason, 'InvalidConfig');
  assert.equal(events.events[0]!.target.kind, 'ConfigMap');
  assert.match(events.events[0]!.note, /slsa\/v9.*keeping the previous configuration/);
  assert.ok(lines.some((l) => l.includes('invalid chains-config')));
});

test('an invalid ConfigMap at start-up leaves no config (nothing is signed until it is fixed)', () => {
  const { s, events } = store();
  s.apply(cm({ 'artifacts.oci.signer': 'gpg' }));
  assert.equal(s.current, undefined);
  assert.match(events.events[0]!.note, /nothing will be signed until it is fixed/);
});

test('transparency.enabled is applied without a warning (uploads to Rekor are implemented)', () => {
  const { s, events } = store();
  s.apply(cm({ 'transparency.enabled': 'true', 'transparency.url': 'http://127.0.0.1:3000' }));
  assert.equal(s.current?.transparency.enabled, true);
  assert.equal(s.current?.transparency.url, 'http://127.0.0.1:3000');
  assert.equal(events.events.length, 0);
});

test('an unknown key (a typo) is warned about with the closest known key, and the rest still applies', () => {
  const { s, events } = store();
  s.apply(cm({ 'artifacts.taskrun.formats': 'slsa/v1', 'builder.id': 'https://b/1' }));
  assert.equal(s.current?.builder.id, 'https://b/1');
  assert.equal(s.current?.artifacts.taskrun.format, 'in-toto');
  assert.equal(events.events[0]!.reason, 'UnknownConfigKey');
  assert.match(events.events[0]!.note, /artifacts\.taskrun\.formats \(did you mean artifacts\.taskrun\.format\?\)/);
});
