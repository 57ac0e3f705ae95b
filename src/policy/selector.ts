// Label selectors as Kubernetes evaluates them (metav1.LabelSelector): matchLabels AND every matchExpressions
// requirement, and how specific a selector is, which decides between the policies that select the same run.
import type { LabelSelector } from './types.js';

type Requirement = NonNullable<LabelSelector['matchExpressions']>[number];

/** Whether a run with `labels` is selected; no selector (or an empty one) selects every run. */
export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labelOf(labels, key) !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((r) => requirementMatches(r, labels));
}

function labelOf(labels: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

// NotIn and DoesNotExist match a run without the key, as in Kubernetes.
function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const value = labelOf(labels, r.key);
  switch (r.operator) {
    case 'In':
      return value !== undefined && (r.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(r.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}

/** matchLabels entries plus matchExpressions requirements; 0 without a selector. */
export function specificity(selector: LabelSelector | undefined): number {
  if (!selector) return 0;
  return Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions ?? []).length;
}

/**
 * A canonical text of what a selector requires: `key: v` in matchLabels is the requirement `key In [v]`,
 * values are sorted and de-duplicated, requirements sorted and de-duplicated. Equal texts select the same runs.
 */
export function canonicalSelector(selector: LabelSelector | undefined): string {
  const reqs = new Set<string>();
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    reqs.add(JSON.stringify([key, 'In', [value]]));
  for (const r of selector?.matchExpressions ?? []) {
    const values = r.operator === 'In' || r.operator === 'NotIn' ? [...new Set(r.values ?? [])].sort() : [];
    reqs.add(JSON.stringify([r.key, r.operator, values]));
  }
  return `[${[...reqs].sort().join(',')}]`;
}

/** Whether two selectors require the same (order of entries, values and duplicates aside). */
export function sameSelector(a: LabelSelector | undefined, b: LabelSelector | undefined): boolean {
  return canonicalSelector(a) === canonicalSelector(b);
}
