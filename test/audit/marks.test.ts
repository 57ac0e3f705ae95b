// `audit --key`: a signed mark counts as signed only when a signature stored on the run verifies with the key and
// names the run; otherwise the run is reported as `unverified`, with why. Without a key, the report says the marks
// were not verified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { audit } from '../../src/audit/audit.js';
import { summariseRun, type Cluster, type RunKind, type RunQuery } from '../../src/audit/cluster.js';
import { renderAuditText } from '../../src/audit/render.js';
import { DEFAULT_CONFIG } from '../../src/config/parse.js';
import { markEvidence } from '../../src/pipeline/mark-trust.js';
import type { Signer } from '../../src/signing/signer.js';
import type { Run } from '../../src/tekton/types.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer: Signer = {
  sign: async (d) => cryptoSign('sha256', d, privateKey),
  publicKey: () => publicKey,
  cert: () => '',
  chain: () => '',
  description: 'k',
};

function run(name: string, annotations: Record<string, string>, namespace = 'team'): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name, namespace, uid: `uid-${name}`, annotations },
    spec: {},
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-11-23T11:00:00Z' },
  } as Run;
}

async function genuine(name: string): Promise<Run> {
  const r = run(name, {});
  const evidence = await markEvidence(
    { kind: 'TaskRun', namespace: 'team', name, uid: `uid-${name}` },
    DEFAULT_CONFIG,
    async () => signer,
    new Date('2026-11-23T11:00:05Z'),
  );
  r.metadata.annotations = { 'chains.tekton.dev/signed': 'true', ...evidence };
  return r;
}

/** A cluster holding these runs and nothing else. */
function cluster(runs: Run[]): Cluster {
  return {
    chainsConfig: async () => ({ config: DEFAULT_CONFIG }),
    runSummaries: async function* (kind: RunKind, _q: RunQuery, keys?: readonly KeyObject[]) {
      for (const r of runs) if (r.kind === kind) yield summariseRun(r, keys);
    },
    chainsmithEvents: async () => new Map(),
  } as unknown as Cluster;
}

const forged = () =>
  run('forged', { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T11:00:01Z' });

test('with a key, a genuine mark is signed and a forged one unverified, naming why', async () => {
  const result = await audit(cluster([await genuine('real'), forged()]), {
    systemNamespace: 'x',
    now: NOW,
    markKey: { key: publicKey, name: 'cosign.pub' },
  });
  assert.deepEqual(
    result.runs.map((e) => [e.name, e.state]),
    [
      ['forged', 'unverified'],
      ['real', 'signed'],
    ],
  );
  assert.match(
    result.runs[0]!.reason!,
    /^marked signed, but the mark is not backed by a valid signature: no chainsmith\.dev\/mark-signature/,
  );
  assert.equal(result.summary.totals.unverified, 1);
  assert.deepEqual(result.marks, { verified: true, key: 'cosign.pub' });
  const text = renderAuditText(result);
  assert.match(text, /signed marks verified with cosign\.pub/);
  assert.match(text, /NAMESPACE\s+SIGNED\s+UNVERIFIED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL/);
  assert.match(text, /team\s+1\s+1\s+0\s+0\s+0\s+2/);
  assert.match(text, /unverified\s+TaskRun\s+team\/forged\s+marked signed, but/);
});

test('another key: every mark is unverified', async () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const result = await audit(cluster([await genuine('real')]), {
    systemNamespace: 'x',
    now: NOW,
    markKey: { key: other, name: 'old.pub' },
  });
  assert.equal(result.runs[0]!.state, 'unverified');
  assert.match(result.runs[0]!.reason!, /mark-signature does not verify/);
});

test('without a key the report says marks were not verified, and keeps the four columns', async () => {
  const result = await audit(cluster([await genuine('real'), forged()]), { systemNamespace: 'x', now: NOW });
  assert.deepEqual(
    result.runs.map((e) => e.state),
    ['signed', 'signed'],
  );
  assert.deepEqual(result.marks, { verified: false });
  const text = renderAuditText(result);
  assert.match(text, /signed marks NOT verified \(no --key\/--kms\)/);
  assert.match(text, /NAMESPACE\s+SIGNED\s+FAILED\s+SKIPPED\s+PENDING\s+TOTAL/);
});
