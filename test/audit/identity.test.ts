// `audit` shows who signed each run keylessly: the SAN and OIDC issuer of the Fulcio certificate the `tekton` storage
// stored on it (`chains.tekton.dev/cert-<key>`, base64 PEM), per run in the JSON and counted per identity in the
// text; runs signed with a key (cert "") show nothing new.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../../src/audit/audit.js';
import { summariseRun, type Cluster, type RunKind } from '../../src/audit/cluster.js';
import { signingIdentityOf } from '../../src/audit/identity.js';
import { renderAuditText } from '../../src/audit/render.js';
import { parseChainsConfig } from '../../src/config/parse.js';
import type { ChainsConfig } from '../../src/config/types.js';
import type { Run } from '../../src/tekton/types.js';
import { IDENTITY, ISSUER, testFulcio } from '../verify/fulcio-fixtures.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const FULCIO = testFulcio(new Date(NOW));
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const SIGNED = { 'chains.tekton.dev/signed': 'true', 'chainsmith.dev/signed-at': '2026-11-23T11:00:04Z' };
const OTHER = 'https://kubernetes.io/namespaces/tekton-chains/serviceaccounts/old-controller';

function run(name: string, annotations: Record<string, string>, kind: RunKind = 'TaskRun'): Run {
  return {
    apiVersion: 'tekton.dev/v1',
    kind,
    metadata: { name, namespace: 'team', uid: `uid-${name}`, annotations },
    spec: {},
    status: { conditions: [{ type: 'Succeeded', status: 'True' }], completionTime: '2026-11-23T11:00:00Z' },
  } as Run;
}

/** The annotations the tekton storage writes for a keyless provenance of run `name`. */
function keyless(name: string, identity = IDENTITY, kind = 'taskrun'): Record<string, string> {
  const leaf = FULCIO.leaf(new Date(NOW - 3_600_000), { uri: identity });
  return {
    [`chains.tekton.dev/cert-${kind}-uid-${name}`]: b64(leaf.pem),
    [`chains.tekton.dev/chain-${kind}-uid-${name}`]: b64(FULCIO.intermediate.pem + FULCIO.root.pem),
  };
}

function cluster(runs: Run[], config: ChainsConfig): Cluster {
  return {
    chainsConfig: async () => ({ config }),
    runSummaries: async function* (kind: RunKind, _q: unknown, keys?: never, cfg?: ChainsConfig) {
      for (const r of runs) if (r.kind === kind) yield summariseRun(r, keys, cfg);
    },
    chainsmithEvents: async () => new Map(),
  } as unknown as Cluster;
}

test('the signing identity is the SAN and issuer of the run’s stored certificate; a key-signed run has none', () => {
  assert.deepEqual(signingIdentityOf(run('a', { ...SIGNED, ...keyless('a') })), { identity: IDENTITY, issuer: ISSUER });
  // Chains writes "" for cert/chain when the signer has no certificate
  const keyed = { ...SIGNED, 'chains.tekton.dev/cert-taskrun-uid-b': '', 'chains.tekton.dev/chain-taskrun-uid-b': '' };
  assert.equal(signingIdentityOf(run('b', keyed)), undefined);
  assert.equal(summariseRun(run('b', keyed)).signer, undefined);
  // an image signature's certificate (cert-<12 hex>) when the provenance has none; garbage is no identity
  const leaf = FULCIO.leaf(new Date(NOW), { uri: OTHER });
  assert.deepEqual(signingIdentityOf(run('c', { 'chains.tekton.dev/cert-0123456789ab': b64(leaf.pem) })), {
    identity: OTHER,
    issuer: ISSUER,
  });
  assert.equal(signingIdentityOf(run('d', { 'chains.tekton.dev/cert-taskrun-uid-d': b64('not a cert') })), undefined);
});

test('audit: the identity per run in JSON, counted per identity and state in the text, and beside unlogged runs', async () => {
  const runs = [
    run('one', { ...SIGNED, ...keyless('one') }),
    run('two', { ...SIGNED, ...keyless('two') }),
    run('pipe', { ...SIGNED, ...keyless('pipe', IDENTITY, 'pipelinerun') }, 'PipelineRun'),
    run('old', { ...SIGNED, ...keyless('old', OTHER), 'chains.tekton.dev/transparency': '' }),
    run('keyed', { ...SIGNED, 'chains.tekton.dev/cert-taskrun-uid-keyed': '' }),
  ];
  const result = await audit(cluster(runs, parseChainsConfig({ 'transparency.enabled': 'true' })), {
    systemNamespace: 'tekton-chains',
    now: NOW,
  });
  const byName = Object.fromEntries(result.runs.map((r) => [r.name, r]));
  assert.deepEqual(byName.one!.signer, { identity: IDENTITY, issuer: ISSUER });
  assert.equal(byName.keyed!.signer, undefined);
  assert.equal(byName.old!.state, 'unlogged');
  assert.deepEqual(
    result.summary.signers.map((s) => [s.identity, s.issuer, s.signed, s.unlogged, s.total]),
    [
      [IDENTITY, ISSUER, 0, 3, 3],
      [OTHER, ISSUER, 0, 1, 1],
    ],
  );
  const text = renderAuditText(result);
  assert.match(text, /Keyless signing identities/);
  assert.match(
    text,
    new RegExp(`${IDENTITY.replace(/\./g, '\\.')}\\s+https://127\\.0\\.0\\.1:6443\\s+0\\s+3\\s+0\\s+0\\s+0\\s+3`),
  );
  assert.match(text, /STATE\s+KIND\s+RUN\s+IDENTITY\s+WHY/);
  assert.match(text, new RegExp(`unlogged\\s+TaskRun\\s+team/old\\s+${OTHER.replace(/\./g, '\\.')}`));
  assert.match(text, /unlogged\s+TaskRun\s+team\/keyed\s+-\s+signed, but/);
  const json = JSON.parse(JSON.stringify(result)) as { runs: Array<{ name: string; signer?: unknown }> };
  assert.deepEqual(json.runs.find((r) => r.name === 'two')!.signer, { identity: IDENTITY, issuer: ISSUER });
});

test('audit of key-signed runs only: no identity table, no identity column', async () => {
  const runs = [run('keyed', { ...SIGNED }), run('pending', {})];
  const result = await audit(cluster(runs, parseChainsConfig({})), { systemNamespace: 'tekton-chains', now: NOW });
  assert.deepEqual(result.summary.signers, []);
  const text = renderAuditText(result);
  assert.doesNotMatch(text, /Keyless signing identities|IDENTITY/);
});
