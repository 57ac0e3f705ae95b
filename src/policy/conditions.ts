// A SigningPolicy's status as the controller writes it: the Ready and Conflict conditions, the generation they are
// about and the signer in use. lastTransitionTime moves only when a condition's status changes, and statusEqual
// lets the controller skip writes that would change nothing.
import type { Condition, PolicyVerdict, SigningPolicy } from './types.js';

export type PolicyStatus = NonNullable<SigningPolicy['status']>;

/** The CRD's limit on a condition's message: a longer one would make every status write fail. */
export const MAX_CONDITION_MESSAGE = 32_768;

export interface PolicyStatusInput {
  /** metadata.generation of the policy the verdict is about */
  generation: number;
  verdict: PolicyVerdict;
  /** names of the other policies of the namespace this one conflicts with (sorted by the caller or not) */
  conflictsWith: readonly string[];
  /** RFC 3339 time of this evaluation, for conditions whose status changes */
  now: string;
}

/** The status a policy should have, keeping each condition's lastTransitionTime from `prev` while its status holds. */
export function policyStatus(prev: SigningPolicy['status'], input: PolicyStatusInput): PolicyStatus {
  const { generation, verdict, now } = input;
  const others = [...new Set(input.conflictsWith)].sort();
  const ready: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> = verdict.ok
    ? { type: 'Ready', status: 'True', reason: 'Granted', message: `signs with ${verdict.signerDescription}` }
    : { type: 'Ready', status: 'False', reason: verdict.reason, message: verdict.message };
  const conflict: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> =
    others.length > 0
      ? {
          type: 'Conflict',
          status: 'True',
          reason: 'Conflict',
          message:
            `selects the same runs with the same specificity as ${others.join(', ')}: ` +
            'those runs are not signed until one selector is more specific',
        }
      : {
          type: 'Conflict',
          status: 'False',
          reason: 'NoConflict',
          message: 'no other policy of the namespace selects the same runs with the same specificity',
        };
  const conditions = [ready, conflict].map((c): Condition => {
    const before = prev?.conditions?.find((p) => p.type === c.type);
    const lastTransitionTime = before && before.status === c.status ? before.lastTransitionTime : now;
    return { ...c, message: bounded(c.message), lastTransitionTime, observedGeneration: generation };
  });
  const status: PolicyStatus = { observedGeneration: generation, conditions };
  if (verdict.signerDescription !== undefined) status.signer = verdict.signerDescription;
  return status;
}

function bounded(message: string): string {
  return message.length <= MAX_CONDITION_MESSAGE ? message : `${message.slice(0, MAX_CONDITION_MESSAGE - 1)}…`;
}

/** Whether two statuses say the same (condition order aside), so that an unchanged status is not written again. */
export function statusEqual(a: SigningPolicy['status'], b: SigningPolicy['status']): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.observedGeneration !== b.observedGeneration || a.signer !== b.signer) return false;
  const ca = sortedConditions(a.conditions);
  const cb = sortedConditions(b.conditions);
  return ca.length === cb.length && ca.every((c, i) => conditionEqual(c, cb[i]!));
}

function sortedConditions(conditions: readonly Condition[] | undefined): Condition[] {
  return [...(conditions ?? [])].sort((x, y) => (x.type < y.type ? -1 : x.type > y.type ? 1 : 0));
}

function conditionEqual(a: Condition, b: Condition): boolean {
  return (
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  );
}
