// chainsmith's signing policies (docs/signing-policies.md): reading the two resources, selecting the policy of a
// run, checking grants, building a policy's configuration and its status. Pure functions; the controller does I/O.
export { POLICY_LIMITS, readSigningPolicy, readSigningPolicyGrant } from './parse.js';
export { canonicalSelector, matchesSelector, sameSelector, specificity } from './selector.js';
export { overlayOf } from './overlay.js';
export { checkGrants, type GrantCheck } from './grants.js';
export {
  DEFAULT_KEYLESS_AUDIENCE,
  policyBinding,
  policyConfig,
  policyVerdict,
  signerDescription,
  type ConfigParser,
} from './verdict.js';
export { selectPolicy, staticConflicts } from './select.js';
export {
  MAX_CONDITION_MESSAGE,
  policyStatus,
  statusEqual,
  type PolicyStatus,
  type PolicyStatusInput,
} from './conditions.js';
export * from './types.js';
