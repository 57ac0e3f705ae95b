// Label selectors with Kubernetes semantics, and what makes two selectors the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { matchesSelector, sameSelector, specificity } from '../../src/policy/selector.js';
import type { LabelSelector } from '../../src/policy/types.js';

const labels = { 'app.kubernetes.io/part-of': 'payments', tier: 'backend' };

test('no selector, or an empty one, selects every run', () => {
  assert.equal(matchesSelector(undefined, {}), true);
  assert.equal(matchesSelector({}, labels), true);
  assert.equal(matchesSelector({ matchLabels: {}, matchExpressions: [] }, {}), true);
});

test('matchLabels needs every entry, with the same value', () => {
  assert.equal(matchesSelector({ matchLabels: { 'app.kubernetes.io/part-of': 'payments' } }, labels), true);
  assert.equal(
    matchesSelector({ matchLabels: { 'app.kubernetes.io/part-of': 'payments', tier: 'web' } }, labels),
    false,
  );
  assert.equal(matchesSelector({ matchLabels: { team: 'a' } }, labels), false);
  // an empty label value is a value: it matches only a label set to ""
  assert.equal(matchesSelector({ matchLabels: { team: '' } }, labels), false);
  assert.equal(matchesSelector({ matchLabels: { team: '' } }, { team: '' }), true);
});

test('In, NotIn, Exists, DoesNotExist; NotIn and DoesNotExist match runs without the key', () => {
  const m = (e: NonNullable<LabelSelector['matchExpressions']>[number], l: Record<string, string>) =>
    matchesSelector({ matchExpressions: [e] }, l);
  assert.equal(m({ key: 'tier', operator: 'In', values: ['backend', 'web'] }, labels), true);
  assert.equal(m({ key: 'tier', operator: 'In', values: ['web'] }, labels), false);
  assert.equal(m({ key: 'team', operator: 'In', values: ['a'] }, labels), false);
  assert.equal(m({ key: 'tier', operator: 'NotIn', values: ['web'] }, labels), true);
  assert.equal(m({ key: 'tier', operator: 'NotIn', values: ['backend'] }, labels), false);
  assert.equal(m({ key: 'team', operator: 'NotIn', values: ['a'] }, labels), true);
  assert.equal(m({ key: 'tier', operator: 'Exists' }, labels), true);
  assert.equal(m({ key: 'team', operator: 'Exists' }, labels), false);
  assert.equal(m({ key: 'team', operator: 'DoesNotExist' }, labels), true);
  assert.equal(m({ key: 'tier', operator: 'DoesNotExist' }, labels), false);
});

test('matchLabels and matchExpressions must all hold', () => {
  const sel: LabelSelector = {
    matchLabels: { tier: 'backend' },
    matchExpressions: [{ key: 'app.kubernetes.io/part-of', operator: 'NotIn', values: ['payments'] }],
  };
  assert.equal(matchesSelector(sel, labels), false);
  assert.equal(matchesSelector(sel, { tier: 'backend' }), true);
});

test('a label named like an Object property is not found on a run without it', () => {
  assert.equal(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {}), false);
  assert.equal(matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }] }, {}), true);
});

test('specificity counts matchLabels entries and matchExpressions requirements', () => {
  assert.equal(specificity(undefined), 0);
  assert.equal(specificity({}), 0);
  assert.equal(specificity({ matchLabels: { a: '1', b: '2' } }), 2);
  assert.equal(
    specificity({
      matchLabels: { a: '1' },
      matchExpressions: [
        { key: 'b', operator: 'Exists' },
        { key: 'c', operator: 'DoesNotExist' },
      ],
    }),
    3,
  );
});

test('sameSelector ignores order and duplicates, and reads matchLabels as In', () => {
  assert.equal(sameSelector(undefined, {}), true);
  assert.equal(sameSelector({ matchLabels: { a: '1', b: '2' } }, { matchLabels: { b: '2', a: '1' } }), true);
  assert.equal(
    sameSelector(
      {
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x', 'y'] },
          { key: 'b', operator: 'Exists' },
        ],
      },
      {
        matchExpressions: [
          { key: 'b', operator: 'Exists' },
          { key: 'a', operator: 'In', values: ['y', 'x', 'x'] },
        ],
      },
    ),
    true,
  );
  assert.equal(
    sameSelector({ matchLabels: { a: '1' } }, { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }),
    true,
  );
  assert.equal(sameSelector({ matchLabels: { a: '1' } }, { matchLabels: { a: '2' } }), false);
  assert.equal(sameSelector({ matchLabels: { a: '1' } }, undefined), false);
  assert.equal(
    sameSelector(
      { matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] },
      { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] },
    ),
    false,
  );
});

// --- properties ---

const key = fc.constantFrom('a', 'b', 'c', 'app.kubernetes.io/part-of');
const value = fc.constantFrom('', 'x', 'y', 'z');
const labelSet = fc.dictionary(key, value, { maxKeys: 4 });
const requirement = fc.oneof(
  fc.record({
    key,
    operator: fc.constantFrom('In' as const, 'NotIn' as const),
    values: fc.array(value, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);
const selector: fc.Arbitrary<LabelSelector> = fc.record(
  { matchLabels: fc.dictionary(key, value, { maxKeys: 3 }), matchExpressions: fc.array(requirement, { maxLength: 3 }) },
  { requiredKeys: [] },
);
// Fisher-Yates with a small linear congruential generator: the same seed, the same order
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('property: a selector matches exactly when each of its parts does', () => {
  fc.assert(
    fc.property(selector, labelSet, (sel, l) => {
      const parts: LabelSelector[] = [
        ...Object.entries(sel.matchLabels ?? {}).map(([k, v]) => ({ matchLabels: { [k]: v } })),
        ...(sel.matchExpressions ?? []).map((e) => ({ matchExpressions: [e] })),
      ];
      assert.equal(
        matchesSelector(sel, l),
        parts.every((p) => matchesSelector(p, l)),
      );
    }),
  );
});

test('property: NotIn is the negation of In, DoesNotExist of Exists', () => {
  fc.assert(
    fc.property(key, fc.array(value, { minLength: 1, maxLength: 3 }), labelSet, (k, values, l) => {
      const m = (operator: 'In' | 'NotIn') => matchesSelector({ matchExpressions: [{ key: k, operator, values }] }, l);
      assert.equal(m('NotIn'), !m('In'));
      const e = (operator: 'Exists' | 'DoesNotExist') =>
        matchesSelector({ matchExpressions: [{ key: k, operator }] }, l);
      assert.equal(e('DoesNotExist'), !e('Exists'));
    }),
  );
});

test('property: selectors that are the same select the same runs, in any order', () => {
  fc.assert(
    fc.property(selector, fc.nat(), labelSet, (sel, seed, l) => {
      const reordered: LabelSelector = {
        matchLabels: Object.fromEntries(shuffled(Object.entries(sel.matchLabels ?? {}), seed)),
        matchExpressions: shuffled(sel.matchExpressions ?? [], seed).map((e) =>
          'values' in e ? { ...e, values: shuffled(e.values ?? [], seed + 1) } : e,
        ),
      };
      assert.equal(sameSelector(sel, reordered), true);
      assert.equal(specificity(sel), specificity(reordered));
      assert.equal(matchesSelector(sel, l), matchesSelector(reordered, l));
    }),
  );
});

test('property: a selector with an extra requirement selects no more runs', () => {
  fc.assert(
    fc.property(selector, requirement, labelSet, (sel, extra, l) => {
      const narrower: LabelSelector = { ...sel, matchExpressions: [...(sel.matchExpressions ?? []), extra] };
      if (matchesSelector(narrower, l)) assert.equal(matchesSelector(sel, l), true);
      assert.equal(specificity(narrower), specificity(sel) + 1);
    }),
  );
});
