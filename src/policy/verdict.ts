// One policy on its own: is it valid (chains-config's parser accepts its overlay on chains-config's data) and granted,
// and what configuration do its runs get. Selection among the policies of a namespace is select.ts's.
import type { ChainsConfig } from '../config/types.js';
import { messageOf } from '../errors.js';
import { checkGrants } from './grants.js';
import { overlayOf } from './overlay.js';
import type {
  PolicyBinding,
  PolicyConfig,
  PolicyVerdict,
  SigningPolicy,
  SigningPolicyGrant,
  SigningPolicySpec,
} from './types.js';

/** The parser of chains-config data (config/parse.ts parseChainsConfig), injected. */
export type ConfigParser = (data: Record<string, string>) => ChainsConfig;

/** The audience of a keyless policy's ServiceAccount token when the policy names none (Fulcio's client ID). */
export const DEFAULT_KEYLESS_AUDIENCE = 'sigstore';

/** `secret/<name>`, `kms/<ref>`, `keyless/<namespace>/<serviceAccount>`, or `chains-config` without a signer. */
export function signerDescription(policy: SigningPolicy): string {
  const signer = policy.spec.signer;
  if (!signer) return 'chains-config';
  if ('x509' in signer) return `secret/${signer.x509.secretName}`;
  if ('kms' in signer) return `kms/${signer.kms.ref}`;
  return `keyless/${policy.metadata.namespace}/${signer.keyless.serviceAccount}`;
}

/** What the signers need to know about the policy (which Secret, which identity). */
export function policyBinding(policy: SigningPolicy): PolicyBinding {
  const { name, namespace, generation } = policy.metadata;
  const binding: PolicyBinding = { namespace, name, generation: generation ?? 0 };
  const signer: SigningPolicySpec['signer'] = policy.spec.signer;
  if (signer && 'x509' in signer) binding.secretName = signer.x509.secretName;
  if (signer && 'keyless' in signer) {
    const { serviceAccount, audience } = signer.keyless;
    binding.keyless = { serviceAccount, audience: audience ?? DEFAULT_KEYLESS_AUDIENCE };
  }
  return binding;
}

/**
 * The verdict on `policy`: Invalid when chains-config's parser refuses its overlay (the parser's message), NotGranted
 * when no grant allows its signer or builder id, else the overlay, binding and signer description.
 * `baseConfig` is `parse(baseData)` when the caller has it already. Never throws.
 */
export function policyVerdict(
  policy: SigningPolicy,
  grants: readonly SigningPolicyGrant[],
  baseData: Record<string, string>,
  parse: ConfigParser,
  baseConfig?: ChainsConfig,
): PolicyVerdict {
  const description = signerDescription(policy);
  const overlay = overlayOf(policy.spec);
  let base: ChainsConfig;
  try {
    base = baseConfig ?? parse(baseData);
  } catch (err) {
    return {
      ok: false,
      reason: 'Invalid',
      message: `chains-config: ${messageOf(err)}`,
      signerDescription: description,
    };
  }
  try {
    parse({ ...baseData, ...overlay });
  } catch (err) {
    return { ok: false, reason: 'Invalid', message: messageOf(err), signerDescription: description };
  }
  const granted = checkGrants(policy, grants, base);
  if (!granted.ok) return { ok: false, reason: 'NotGranted', message: granted.message, signerDescription: description };
  return { ok: true, overlay, binding: policyBinding(policy), signerDescription: description };
}

/** The configuration the runs of `policy` are signed under: chains-config's data with the overlay, parsed. Throws
 * the parser's error when the policy is invalid (policyVerdict says so first). */
export function policyConfig(
  policy: SigningPolicy,
  baseData: Record<string, string>,
  parse: ConfigParser,
): PolicyConfig {
  const config: PolicyConfig = parse({ ...baseData, ...overlayOf(policy.spec) });
  config.policy = policyBinding(policy);
  return config;
}
