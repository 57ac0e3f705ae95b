// `audit --key K --from BACKEND`: a signed run counts as verified when its provenance read back from the backend
// verifies (not its annotations); a run whose stored provenance is missing, tampered or unreadable is `unverified`
// with why. Lookups run a page at a time, a few at once, through one reader.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { audit } from '../../src/audit/audit.js';
import type { Cluster, RunKind, RunQuery } from '../../src/audit/cluster.js';
import { renderAuditText } from '../../src/audit/render.js';
import type { StoredReader, StoredSignature } from '../../src/storage/read/types.js';
import type { Run, TaskRun } from '../../src/tekton/types.js';
import { signedFixture, taskRun } from '../storage/read-fixtures.js';

const NOW = Date.parse('2026-12-04T02:00:00Z');

function cluster(runs: Run[]): Cluster {
  return {
    chainsConfig: async () => ({ config: (await signedFixture()).config }),
    runPages: async function* (kind: RunKind, _q: RunQuery) {
      yield runs.filter((r) => r.kind === kind);
    },
    runSummaries: () => {
      throw new Error('audit --from reads whole runs, not summaries');
    },
    chainsmithEvents: async () => new Map(),
  } as unknown as Cluster;
}

test('runs verified by what the backend stored; missing, tampered or unreadable provenance is unverified', async () => {
  const f = await signedFixture();
  const stored = new Map<string, StoredSignature[]>();
  const entry = (i: number, payload = f.requests[i]!.signed.payload): StoredSignature => ({
    shortKey: f.requests[i]!.shortKey,
    payload,
    signature: f.requests[i]!.signed.signature,
    where: `object ${i}`,
  });
  stored.set(f.run.metadata.uid!, [entry(0), entry(1)]);
  const tampered = taskRun('tampered', f.run.metadata.uid!.replace(/1$/, '3'));
  stored.set(tampered.metadata.uid!, [
    { ...entry(0), shortKey: `taskrun-${tampered.metadata.uid}`, payload: Buffer.from('{}') },
  ]);
  const missing = taskRun('missing', f.run.metadata.uid!.replace(/1$/, '4'));
  const broken = taskRun('broken', f.run.metadata.uid!.replace(/1$/, '5'));
  const unsigned: TaskRun = taskRun('unsigned', f.run.metadata.uid!.replace(/1$/, '6'));
  unsigned.metadata.annotations = {};
  const reads: string[] = [];
  const reader: StoredReader = {
    name: 'gcs',
    location: 'gs://b',
    read: async (run) => {
      reads.push(run.metadata.name!);
      if (run.metadata.name === 'broken') throw new Error('connect ECONNREFUSED 127.0.0.1:4443');
      return stored.get(run.metadata.uid!) ?? [];
    },
  };
  const result = await audit(cluster([f.run, tampered, missing, broken, unsigned]), {
    systemNamespace: 'x',
    now: NOW,
    markKey: { key: f.signer.publicKey(), name: 'cosign.pub' },
    readBack: { reader, key: f.signer.publicKey(), concurrency: 2 },
  });
  const byName = Object.fromEntries(result.runs.map((r) => [r.name, r]));
  assert.equal(byName.build!.state, 'signed');
  assert.equal(byName.tampered!.state, 'unverified');
  assert.match(
    byName.tampered!.reason!,
    /^marked signed, but its provenance read back from gcs does not verify: taskrun-/,
  );
  assert.equal(byName.missing!.state, 'unverified');
  assert.match(byName.missing!.reason!, /nothing stored for this run in gcs \(gs:\/\/b\)/);
  assert.equal(byName.broken!.state, 'unverified');
  assert.match(byName.broken!.reason!, /cannot read: connect ECONNREFUSED/);
  assert.equal(byName.unsigned!.state, 'pending');
  assert.deepEqual(reads.sort(), ['broken', 'build', 'missing', 'tampered'], 'only signed runs are looked up');
  assert.deepEqual(result.marks, { verified: true, key: 'cosign.pub', from: 'gcs' });
  assert.match(
    renderAuditText(result),
    /signed runs verified by their provenance read back from gcs, with cosign\.pub/,
  );
});
