// A policy's status: Ready and Conflict, observedGeneration, the signer; lastTransitionTime moves only when a
// condition's status does, and an unchanged status compares equal so the controller does not write it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyStatus, statusEqual } from '../../src/policy/conditions.js';
import type { PolicyVerdict } from '../../src/policy/types.js';

const granted: PolicyVerdict = {
  ok: true,
  overlay: {},
  binding: { namespace: 'team-a', name: 'team-a', generation: 1 },
  signerDescription: 'secret/team-a-signing',
};
const refused: PolicyVerdict = {
  ok: false,
  reason: 'NotGranted',
  message: 'Secret "team-b-signing" is not granted to namespace "team-a"',
  signerDescription: 'secret/team-b-signing',
};
const T0 = '2026-12-04T08:00:00Z';
const T1 = '2026-12-04T09:00:00Z';

test('a granted policy without conflicts: Ready=True/Granted, Conflict=False, the signer and generation', () => {
  const s = policyStatus(undefined, { generation: 1, verdict: granted, conflictsWith: [], now: T0 });
  assert.deepEqual(s, {
    observedGeneration: 1,
    signer: 'secret/team-a-signing',
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Granted',
        message: 'signs with secret/team-a-signing',
        lastTransitionTime: T0,
        observedGeneration: 1,
      },
      {
        type: 'Conflict',
        status: 'False',
        reason: 'NoConflict',
        message: 'no other policy of the namespace selects the same runs with the same specificity',
        lastTransitionTime: T0,
        observedGeneration: 1,
      },
    ],
  });
});

test('a refused policy: Ready=False with the reason and message; conflicts are named, sorted', () => {
  const s = policyStatus(undefined, {
    generation: 2,
    verdict: refused,
    conflictsWith: ['zeta', 'alpha', 'zeta'],
    now: T0,
  });
  const [ready, conflict] = s.conditions!;
  assert.deepEqual([ready!.status, ready!.reason, ready!.message], ['False', 'NotGranted', refused.message]);
  assert.deepEqual([conflict!.status, conflict!.reason], ['True', 'Conflict']);
  assert.match(conflict!.message, /^selects the same runs with the same specificity as alpha, zeta:/);
  assert.equal(s.signer, 'secret/team-b-signing');
  const unknownSigner = policyStatus(undefined, {
    generation: 2,
    verdict: { ok: false, reason: 'Invalid', message: 'chains-config is not loaded yet' },
    conflictsWith: [],
    now: T0,
  });
  assert.equal('signer' in unknownSigner, false);
});

test('lastTransitionTime is kept while a status holds and moves when it changes', () => {
  const first = policyStatus(undefined, { generation: 1, verdict: granted, conflictsWith: [], now: T0 });
  // a new generation, same verdict: the times stay, observedGeneration moves
  const second = policyStatus(first, { generation: 2, verdict: granted, conflictsWith: [], now: T1 });
  assert.deepEqual(
    second.conditions!.map((c) => c.lastTransitionTime),
    [T0, T0],
  );
  assert.deepEqual(
    second.conditions!.map((c) => c.observedGeneration),
    [2, 2],
  );
  assert.equal(second.observedGeneration, 2);
  // Ready flips, Conflict does not
  const third = policyStatus(second, { generation: 3, verdict: refused, conflictsWith: [], now: T1 });
  assert.deepEqual(
    third.conditions!.map((c) => [c.type, c.lastTransitionTime]),
    [
      ['Ready', T1],
      ['Conflict', T0],
    ],
  );
  // a new message with the same status keeps the time too
  const other: PolicyVerdict = { ...refused, message: 'another reason' } as PolicyVerdict;
  const fourth = policyStatus(third, { generation: 3, verdict: other, conflictsWith: [], now: '2026-12-04T10:00:00Z' });
  assert.equal(fourth.conditions![0]!.lastTransitionTime, T1);
});

test('statusEqual: the same status in another condition order is equal; any change is not', () => {
  const s = policyStatus(undefined, { generation: 1, verdict: granted, conflictsWith: [], now: T0 });
  const again = policyStatus(s, { generation: 1, verdict: granted, conflictsWith: [], now: T1 });
  assert.equal(statusEqual(s, again), true, 'a re-evaluation that changes nothing is not written');
  assert.equal(statusEqual(s, { ...s, conditions: [...s.conditions!].reverse() }), true);
  assert.equal(statusEqual(s, { ...s, observedGeneration: 2 }), false);
  assert.equal(statusEqual(s, { ...s, signer: 'kms/x' }), false);
  assert.equal(statusEqual(s, { ...s, conditions: s.conditions!.slice(0, 1) }), false);
  const changed = s.conditions!.map((c) => (c.type === 'Ready' ? { ...c, message: 'x' } : c));
  assert.equal(statusEqual(s, { ...s, conditions: changed }), false);
  assert.equal(statusEqual(undefined, undefined), true);
  assert.equal(statusEqual(undefined, s), false);
  assert.equal(statusEqual(s, undefined), false);
});

test("a very long message is cut to the CRD's limit, so the status can still be written", () => {
  const long: PolicyVerdict = { ok: false, reason: 'Invalid', message: 'x'.repeat(40_000) };
  const s = policyStatus(undefined, { generation: 1, verdict: long, conflictsWith: [], now: T0 });
  assert.equal(s.conditions![0]!.message.length, 32_768);
});
