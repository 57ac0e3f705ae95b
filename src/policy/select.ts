// Which policy of a namespace signs a run (docs/signing-policies.md, "Which policy signs a run"): the most specific
// of those whose selector matches; two at the same, highest specificity are a conflict and sign nothing.
import { canonicalSelector, matchesSelector, specificity } from './selector.js';
import type { Resolution, SigningPolicy } from './types.js';

/** The resolution for a run with `labels` among the policies of its namespace. */
export function selectPolicy(
  policiesOfNamespace: readonly SigningPolicy[],
  labels: Record<string, string>,
): Resolution {
  let best: SigningPolicy[] = [];
  let bestSpecificity = -1;
  for (const policy of policiesOfNamespace) {
    if (!matchesSelector(policy.spec.selector, labels)) continue;
    const s = specificity(policy.spec.selector);
    if (s > bestSpecificity) [best, bestSpecificity] = [[policy], s];
    else if (s === bestSpecificity) best.push(policy);
  }
  if (best.length === 0) return { kind: 'default' };
  if (best.length === 1) return { kind: 'policy', policy: best[0]! };
  const policies = [...best].sort((a, b) => compareNames(a.metadata.name, b.metadata.name));
  const names = policies.map((p) => p.metadata.name).join(', ');
  const namespace = policies[0]!.metadata.namespace;
  return {
    kind: 'conflict',
    policies,
    message:
      `SigningPolicies ${names} of namespace ${JSON.stringify(namespace)} select this run with the same ` +
      `specificity (${bestSpecificity}); make one selector more specific or narrow the others`,
  };
}

/**
 * Per policy name, the other policies of its namespace whose selector requires the same with the same specificity:
 * they conflict on every run they select. Policies without such a twin are not in the map.
 */
export function staticConflicts(policies: readonly SigningPolicy[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const p of policies) {
    const sel = p.spec.selector;
    const key = JSON.stringify([p.metadata.namespace, specificity(sel), canonicalSelector(sel)]);
    let names = groups.get(key);
    if (!names) groups.set(key, (names = []));
    names.push(p.metadata.name);
  }
  const conflicts = new Map<string, string[]>();
  for (const names of groups.values()) {
    const unique = [...new Set(names)].sort(compareNames);
    if (unique.length < 2) continue;
    for (const name of unique)
      conflicts.set(
        name,
        unique.filter((n) => n !== name),
      );
  }
  return conflicts;
}

// code-unit order, not the locale's: the same on every machine
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
