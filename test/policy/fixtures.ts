// Small builders for the policy tests: a SigningPolicy or SigningPolicyGrant with only what a test cares about.
import type {
  SigningPolicy,
  SigningPolicyGrant,
  SigningPolicyGrantSpec,
  SigningPolicySpec,
} from '../../src/policy/types.js';

export function policy(name: string, spec: SigningPolicySpec, namespace = 'team-a', generation = 1): SigningPolicy {
  return { metadata: { name, namespace, uid: `uid-${namespace}-${name}`, generation }, spec };
}

export function grant(name: string, spec: SigningPolicyGrantSpec): SigningPolicyGrant {
  return { metadata: { name }, spec };
}
