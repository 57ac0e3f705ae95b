// A policy's chains-config keys and the configuration they give: the chains-config parser accepts them, the runs get
// the policy's builder id, formats, storage and signer, and everything else stays chains-config's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KNOWN_KEYS, parseChainsConfig } from '../../src/config/parse.js';
import { overlayOf } from '../../src/policy/overlay.js';
import { policyConfig, policyVerdict, signerDescription } from '../../src/policy/verdict.js';
import type { SigningPolicySpec } from '../../src/policy/types.js';
import { grant, policy } from './fixtures.js';

const base: Record<string, string> = {
  'artifacts.taskrun.format': 'slsa/v1',
  'artifacts.oci.storage': 'oci',
  'storage.gcs.bucket': 'cluster-bucket',
  'transparency.url': 'https://rekor.internal',
  'builder.id': 'https://ci.example.com/cluster',
  'signers.kms.auth.address': 'https://vault.internal',
};

const full: SigningPolicySpec = {
  signer: { x509: { secretName: 'team-a-signing' } },
  builderId: 'https://ci.example.com/team-a',
  formats: { taskrun: 'in-toto', pipelinerun: 'slsa/v2alpha4', oci: 'simplesigning' },
  storage: {
    taskrun: ['tekton', 'oci'],
    pipelinerun: ['oci'],
    oci: [],
    ociRepository: 'registry.example.com/team-a/sigs',
  },
  transparency: 'manual',
};
const granted = [grant('team-a', { namespaces: ['team-a'], secrets: ['team-a-signing'] })];

test('the overlay sets chains-config keys the parser knows, with its spellings', () => {
  const overlay = overlayOf(full);
  for (const key of Object.keys(overlay)) assert.ok(KNOWN_KEYS.includes(key), key);
  assert.deepEqual(overlay, {
    'builder.id': 'https://ci.example.com/team-a',
    'artifacts.taskrun.format': 'in-toto',
    'artifacts.taskrun.storage': 'tekton,oci',
    'artifacts.pipelinerun.format': 'slsa/v2alpha4',
    'artifacts.pipelinerun.storage': 'oci',
    'artifacts.oci.format': 'simplesigning',
    'artifacts.oci.storage': '',
    'storage.oci.repository': 'registry.example.com/team-a/sigs',
    'transparency.enabled': 'manual',
    'artifacts.taskrun.signer': 'x509',
    'artifacts.pipelinerun.signer': 'x509',
    'artifacts.oci.signer': 'x509',
    'signers.x509.fulcio.enabled': 'false',
  });
  assert.deepEqual(overlayOf({}), {});
});

test("the policy's config has its builder id, formats, storage, transparency and signer; the rest is chains-config's", () => {
  const config = policyConfig(policy('team-a', full, 'team-a', 7), base, parseChainsConfig);
  assert.equal(config.builder.id, 'https://ci.example.com/team-a');
  assert.equal(config.artifacts.taskrun.format, 'in-toto');
  assert.equal(config.artifacts.pipelinerun.format, 'slsa/v2alpha4');
  assert.deepEqual(config.artifacts.taskrun.storage, ['oci', 'tekton']);
  assert.deepEqual(config.artifacts.pipelinerun.storage, ['oci']);
  assert.deepEqual(config.artifacts.oci.storage, [], 'an empty list stores nothing');
  assert.equal(config.storage.oci.repository, 'registry.example.com/team-a/sigs');
  assert.deepEqual([config.transparency.enabled, config.transparency.manual], [true, true]);
  assert.equal(config.transparency.url, 'https://rekor.internal', "the log stays the cluster's");
  assert.equal(config.storage.gcs.bucket, 'cluster-bucket', "backends keep chains-config's connection settings");
  assert.equal(config.artifacts.taskrun.signer, 'x509');
  assert.equal(config.signers.x509.fulcioEnabled, false);
  assert.deepEqual(config.policy, { namespace: 'team-a', name: 'team-a', generation: 7, secretName: 'team-a-signing' });
});

test('a policy that sets only a format keeps everything else of chains-config, and binds no Secret', () => {
  const p = policy('formats', { formats: { pipelinerun: 'slsa/v2alpha3' } });
  const config = policyConfig(p, base, parseChainsConfig);
  const { policy: binding, ...rest } = config;
  const expected = parseChainsConfig({ ...base, 'artifacts.pipelinerun.format': 'slsa/v2alpha3' });
  assert.deepEqual(rest, expected);
  assert.deepEqual(binding, { namespace: 'team-a', name: 'formats', generation: 1 });
});

test('kms: every type signs with kms and the policy ref; the auth stays chains-config', () => {
  const p = policy('kms', { signer: { kms: { ref: 'hashivault://team-a' } } });
  const config = policyConfig(p, { ...base, 'artifacts.oci.signer': 'none' }, parseChainsConfig);
  assert.deepEqual(
    (['taskrun', 'pipelinerun', 'oci'] as const).map((t) => config.artifacts[t].signer),
    ['kms', 'kms', 'kms'],
  );
  assert.equal(config.signers.kms.kmsref, 'hashivault://team-a');
  assert.equal(config.signers.kms.auth.address, 'https://vault.internal');
  assert.equal(signerDescription(p), 'kms/hashivault://team-a');
});

test('keyless: x509 with Fulcio, the ServiceAccount bound with the default audience', () => {
  const p = policy('keyless', { signer: { keyless: { serviceAccount: 'builder' } } });
  const config = policyConfig(p, base, parseChainsConfig);
  assert.equal(config.artifacts.pipelinerun.signer, 'x509');
  assert.equal(config.signers.x509.fulcioEnabled, true);
  assert.deepEqual(config.policy?.keyless, { serviceAccount: 'builder', audience: 'sigstore' });
  const custom = policy('keyless', { signer: { keyless: { serviceAccount: 'builder', audience: 'fulcio.internal' } } });
  assert.equal(policyConfig(custom, base, parseChainsConfig).policy?.keyless?.audience, 'fulcio.internal');
  assert.equal(signerDescription(p), 'keyless/team-a/builder');
});

test('signer descriptions: secret/<name>, chains-config without a signer', () => {
  assert.equal(signerDescription(policy('p', full)), 'secret/team-a-signing');
  assert.equal(signerDescription(policy('p', { transparency: 'true' })), 'chains-config');
});

test('a granted policy is Ready with its overlay, binding and signer', () => {
  const v = policyVerdict(policy('team-a', full), granted, base, parseChainsConfig);
  assert.equal(v.ok, true);
  if (!v.ok) return;
  assert.equal(v.signerDescription, 'secret/team-a-signing');
  assert.equal(v.overlay['builder.id'], 'https://ci.example.com/team-a');
  assert.equal(v.binding.secretName, 'team-a-signing');
});

test("an unknown format is Invalid with the chains-config parser's message", () => {
  const v = policyVerdict(policy('p', { ...full, formats: { taskrun: 'slsa/v9' } }), granted, base, parseChainsConfig);
  assert.deepEqual(v, {
    ok: false,
    reason: 'Invalid',
    message: 'invalid artifacts.taskrun.format: "slsa/v9"; accepted: in-toto, slsa/v1, slsa/v2alpha3, slsa/v2alpha4',
    signerDescription: 'secret/team-a-signing',
  });
  assert.throws(() => policyConfig(policy('p', { formats: { taskrun: 'slsa/v9' } }), base, parseChainsConfig));
});

test('an unknown storage backend, and kafka for PipelineRuns, are Invalid as chains-config says', () => {
  const bad = policyVerdict(policy('p', { storage: { taskrun: ['s3'] } }), [], base, parseChainsConfig);
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.message : '', /invalid artifacts\.taskrun\.storage: "s3" \(item "s3"\)/);
  const kafka = policyVerdict(policy('p', { storage: { pipelinerun: ['kafka'] } }), [], base, parseChainsConfig);
  assert.equal(!kafka.ok && kafka.reason, 'Invalid');
});

test('the verdict uses the base config it is given, and never throws', () => {
  const p = policy('p', { builderId: 'https://ci.example.com/cluster' });
  assert.equal(policyVerdict(p, [], base, parseChainsConfig, parseChainsConfig(base)).ok, true);
  const broken = policyVerdict(
    p,
    [],
    { 'transparency.enabled': 'true', 'chainsmith.max-retries': 'x' },
    parseChainsConfig,
  );
  assert.equal(!broken.ok && broken.reason, 'Invalid');
  assert.match(!broken.ok ? broken.message : '', /^chains-config: invalid chainsmith\.max-retries/);
  const throwing = policyVerdict(p, [], base, () => {
    throw new TypeError('boom');
  });
  assert.deepEqual(throwing, {
    ok: false,
    reason: 'Invalid',
    message: 'chains-config: boom',
    signerDescription: 'chains-config',
  });
});
