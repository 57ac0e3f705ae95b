// The trust boundary: a policy signs only with what a grant naming its namespace lists, and the cluster's own key
// vouches only for builder ids a grant lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, parseChainsConfig } from '../../src/config/parse.js';
import { checkGrants } from '../../src/policy/grants.js';
import { policyVerdict } from '../../src/policy/verdict.js';
import { grant, policy } from './fixtures.js';

const teamA = grant('team-a', {
  namespaces: ['team-a'],
  secrets: ['team-a-signing'],
  kmsRefs: ['hashivault://team-a'],
  serviceAccounts: ['builder'],
});
const teamB = grant('team-b', {
  namespaces: ['team-b'],
  secrets: ['team-b-signing'],
  kmsRefs: ['hashivault://team-b'],
  serviceAccounts: ['deployer'],
  builderIds: ['https://ci.example.com/b'],
});
const grants = [teamB, teamA];

test('signers listed by a grant naming the namespace are granted, and say by which grants', () => {
  const shared = grant('shared', { namespaces: ['team-c', 'team-a'], secrets: ['team-a-signing'] });
  assert.deepEqual(
    checkGrants(
      policy('p', { signer: { x509: { secretName: 'team-a-signing' } } }),
      [shared, ...grants],
      DEFAULT_CONFIG,
    ),
    {
      ok: true,
      grantedBy: ['shared', 'team-a'],
    },
  );
  assert.deepEqual(
    checkGrants(policy('p', { signer: { kms: { ref: 'hashivault://team-a' } } }), grants, DEFAULT_CONFIG),
    {
      ok: true,
      grantedBy: ['team-a'],
    },
  );
  const keyless = policy('p', { signer: { keyless: { serviceAccount: 'builder' } } });
  assert.deepEqual(checkGrants(keyless, grants, DEFAULT_CONFIG), { ok: true, grantedBy: ['team-a'] });
});

test("another team's Secret is refused, naming the Secret, the namespace and the grants that name it", () => {
  const r = checkGrants(policy('p', { signer: { x509: { secretName: 'team-b-signing' } } }), grants, DEFAULT_CONFIG);
  assert.deepEqual(r, {
    ok: false,
    message:
      'Secret "team-b-signing" is not granted to namespace "team-a": no SigningPolicyGrant lists it ' +
      '(grants naming team-a: team-a)',
  });
});

test('an ungranted KMS key and ServiceAccount are refused by name', () => {
  const kms = checkGrants(policy('p', { signer: { kms: { ref: 'hashivault://team-b' } } }), grants, DEFAULT_CONFIG);
  assert.equal(kms.ok, false);
  assert.match(!kms.ok ? kms.message : '', /^KMS key "hashivault:\/\/team-b" is not granted to namespace "team-a"/);
  // kmsRefs are exact: a longer ref under a granted one is not granted
  const prefix = checkGrants(
    policy('p', { signer: { kms: { ref: 'hashivault://team-a-admin' } } }),
    grants,
    DEFAULT_CONFIG,
  );
  assert.equal(prefix.ok, false);
  const sa = checkGrants(policy('p', { signer: { keyless: { serviceAccount: 'deployer' } } }), grants, DEFAULT_CONFIG);
  assert.equal(sa.ok, false);
  assert.match(!sa.ok ? sa.message : '', /^ServiceAccount "deployer" \(keyless\) is not granted to namespace "team-a"/);
});

test('a grant for another namespace does not count', () => {
  const inB = checkGrants(
    policy('p', { signer: { x509: { secretName: 'team-b-signing' } } }, 'team-b'),
    grants,
    DEFAULT_CONFIG,
  );
  assert.deepEqual(inB, { ok: true, grantedBy: ['team-b'] });
  const inC = checkGrants(
    policy('p', { signer: { x509: { secretName: 'team-b-signing' } } }, 'team-c'),
    grants,
    DEFAULT_CONFIG,
  );
  assert.equal(inC.ok, false);
  assert.match(!inC.ok ? inC.message : '', /namespace "team-c": .*\(no grant names team-c\)$/);
});

test("builderId with the cluster's signer needs the id in a grant's builderIds for the namespace", () => {
  const claim = policy('p', { builderId: 'https://ci.example.com/b' });
  const refused = checkGrants(claim, grants, DEFAULT_CONFIG);
  assert.equal(refused.ok, false);
  assert.match(
    !refused.ok ? refused.message : '',
    /^builder id "https:\/\/ci\.example\.com\/b" is not granted to namespace "team-a": .*builderIds/,
  );
  assert.deepEqual(checkGrants(claim, grants, parseChainsConfig({ 'builder.id': 'https://ci.example.com/b' })), {
    ok: true,
  });
  assert.deepEqual(
    checkGrants(policy('p', { builderId: 'https://ci.example.com/b' }, 'team-b'), grants, DEFAULT_CONFIG),
    {
      ok: true,
      grantedBy: ['team-b'],
    },
  );
});

test('with a granted signer of its own, a policy may claim any builder id', () => {
  const p = policy('p', { signer: { x509: { secretName: 'team-a-signing' } }, builderId: 'https://anything.example' });
  assert.equal(checkGrants(p, grants, DEFAULT_CONFIG).ok, true);
});

test('a policy without signer or builder id needs no grant', () => {
  assert.deepEqual(checkGrants(policy('p', { transparency: 'true' }), [], DEFAULT_CONFIG), { ok: true });
});

test('the verdict of an ungranted policy is NotGranted with the same message and still names its signer', () => {
  const p = policy('p', { signer: { x509: { secretName: 'team-b-signing' } } });
  const v = policyVerdict(p, grants, {}, parseChainsConfig);
  assert.equal(v.ok, false);
  if (v.ok) return;
  assert.equal(v.reason, 'NotGranted');
  assert.match(v.message, /Secret "team-b-signing" is not granted to namespace "team-a"/);
  assert.equal(v.signerDescription, 'secret/team-b-signing');
});
