// Which policy of a namespace signs a run: the most specific matching one; a tie at the top is a conflict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectPolicy, staticConflicts } from '../../src/policy/select.js';
import { policy } from './fixtures.js';

const namespaceWide = policy('team-a', { builderId: 'https://ci.example.com/team-a' });
const payments = policy('payments', {
  selector: { matchLabels: { 'app.kubernetes.io/part-of': 'payments' } },
  builderId: 'https://ci.example.com/payments',
});

test("a team's policy with a selector beats the namespace-wide one for the runs it selects", () => {
  const r = selectPolicy([namespaceWide, payments], { 'app.kubernetes.io/part-of': 'payments' });
  assert.equal(r.kind, 'policy');
  assert.equal(r.kind === 'policy' && r.policy.metadata.name, 'payments');
  // the order the informer lists them in does not matter
  const again = selectPolicy([payments, namespaceWide], { 'app.kubernetes.io/part-of': 'payments' });
  assert.equal(again.kind === 'policy' && again.policy.metadata.name, 'payments');
});

test('runs the team policy does not select get the namespace-wide policy', () => {
  const r = selectPolicy([namespaceWide, payments], { 'app.kubernetes.io/part-of': 'checkout' });
  assert.equal(r.kind === 'policy' && r.policy.metadata.name, 'team-a');
  assert.equal(selectPolicy([namespaceWide, payments], {}).kind === 'policy', true);
});

test('no matching policy: chains-config alone', () => {
  assert.deepEqual(selectPolicy([payments], { app: 'other' }), { kind: 'default' });
  assert.deepEqual(selectPolicy([], { app: 'other' }), { kind: 'default' });
});

test('two matching policies of the same specificity conflict, named in order', () => {
  const byTier = policy('zz-backend', { selector: { matchLabels: { tier: 'backend' } }, transparency: 'true' });
  const r = selectPolicy([byTier, namespaceWide, payments], {
    'app.kubernetes.io/part-of': 'payments',
    tier: 'backend',
  });
  assert.equal(r.kind, 'conflict');
  if (r.kind !== 'conflict') return;
  assert.deepEqual(
    r.policies.map((p) => p.metadata.name),
    ['payments', 'zz-backend'],
  );
  assert.match(r.message, /SigningPolicies payments, zz-backend of namespace "team-a" select this run/);
  assert.match(r.message, /same specificity \(1\)/);
});

test('a more specific policy resolves what would otherwise be a tie', () => {
  const byTier = policy('backend', { selector: { matchLabels: { tier: 'backend' } }, transparency: 'true' });
  const both = policy('payments-backend', {
    selector: { matchLabels: { tier: 'backend', 'app.kubernetes.io/part-of': 'payments' } },
    transparency: 'false',
  });
  const r = selectPolicy([byTier, payments, both], { 'app.kubernetes.io/part-of': 'payments', tier: 'backend' });
  assert.equal(r.kind === 'policy' && r.policy.metadata.name, 'payments-backend');
});

test('two namespace-wide policies conflict on every run', () => {
  const other = policy('other', { transparency: 'true' });
  const r = selectPolicy([namespaceWide, other], {});
  assert.equal(r.kind, 'conflict');
});

test('staticConflicts: policies with the same selector always conflict, each names the others', () => {
  const a = policy('a', { selector: { matchLabels: { tier: 'backend', app: 'x' } }, transparency: 'true' });
  const b = policy('b', { selector: { matchLabels: { app: 'x', tier: 'backend' } }, transparency: 'false' });
  const c = policy('c', {
    selector: {
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['backend'] },
        { key: 'app', operator: 'In', values: ['x'] },
      ],
    },
    transparency: 'manual',
  });
  const d = policy('d', { selector: { matchLabels: { tier: 'backend' } }, transparency: 'true' });
  const conflicts = staticConflicts([c, a, d, b, namespaceWide]);
  assert.deepEqual(Object.fromEntries(conflicts), { a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] });
});

test('staticConflicts: two namespace-wide policies; one alone is no conflict', () => {
  const empty = policy('empty-selector', { selector: {}, transparency: 'true' });
  assert.deepEqual(Object.fromEntries(staticConflicts([namespaceWide, empty])), {
    'empty-selector': ['team-a'],
    'team-a': ['empty-selector'],
  });
  assert.equal(staticConflicts([namespaceWide]).size, 0);
});

test('staticConflicts: the same selector in another namespace is no conflict', () => {
  const elsewhere = policy('team-b', { builderId: 'https://ci.example.com/b' }, 'team-b');
  assert.equal(staticConflicts([namespaceWide, elsewhere]).size, 0);
});
