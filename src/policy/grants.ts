// The trust boundary (docs/signing-policies.md): a policy may sign only with what a SigningPolicyGrant naming its
// namespace lists, and may make the cluster's own signer vouch for a builder id only when a grant lists that id.
import type { ChainsConfig } from '../config/types.js';
import type { SigningPolicy, SigningPolicyGrant } from './types.js';

export type GrantCheck = { ok: true; grantedBy?: string[] } | { ok: false; message: string };

/** Whether the grants allow what `policy` asks for; `grantedBy` names the grants that do (sorted). */
export function checkGrants(
  policy: SigningPolicy,
  grants: readonly SigningPolicyGrant[],
  baseConfig: ChainsConfig,
): GrantCheck {
  const namespace = policy.metadata.namespace;
  const naming = grants.filter((g) => g.spec.namespaces.includes(namespace));
  const { signer, builderId } = policy.spec;
  let what: string;
  let lists: (g: SigningPolicyGrant) => boolean;
  let hint = 'no SigningPolicyGrant lists it';
  if (signer && 'x509' in signer) {
    what = `Secret ${JSON.stringify(signer.x509.secretName)}`;
    lists = (g) => (g.spec.secrets ?? []).includes(signer.x509.secretName);
  } else if (signer && 'kms' in signer) {
    what = `KMS key ${JSON.stringify(signer.kms.ref)}`;
    lists = (g) => (g.spec.kmsRefs ?? []).includes(signer.kms.ref);
  } else if (signer) {
    what = `ServiceAccount ${JSON.stringify(signer.keyless.serviceAccount)} (keyless)`;
    lists = (g) => (g.spec.serviceAccounts ?? []).includes(signer.keyless.serviceAccount);
  } else if (builderId !== undefined && builderId !== baseConfig.builder.id) {
    // the cluster's key would vouch for a builder the tenant named
    what = `builder id ${JSON.stringify(builderId)}`;
    lists = (g) => (g.spec.builderIds ?? []).includes(builderId);
    hint = "the policy keeps chains-config's signer, and no SigningPolicyGrant lists it in builderIds";
  } else {
    return { ok: true };
  }
  const granting = naming.filter(lists).map((g) => g.metadata.name);
  if (granting.length > 0) return { ok: true, grantedBy: [...new Set(granting)].sort() };
  const names = [...new Set(naming.map((g) => g.metadata.name))].sort();
  const seen = names.length > 0 ? `grants naming ${namespace}: ${names.join(', ')}` : `no grant names ${namespace}`;
  return {
    ok: false,
    message: `${what} is not granted to namespace ${JSON.stringify(namespace)}: ${hint} (${seen})`,
  };
}
