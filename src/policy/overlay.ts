// What a SigningPolicy changes, as chains-config keys (config/parse.ts spells them): the effective configuration of
// a policy is chains-config's data with these keys on top, parsed by the same parser, so a policy can say nothing
// that chains-config could not.
import type { ConfigOverlay, SigningPolicySpec } from './types.js';

const ARTIFACT_TYPES = ['taskrun', 'pipelinerun', 'oci'] as const;

/** The chains-config keys `spec` sets, with their values. */
export function overlayOf(spec: SigningPolicySpec): ConfigOverlay {
  const overlay: ConfigOverlay = {};
  if (spec.builderId !== undefined) overlay['builder.id'] = spec.builderId;
  for (const type of ARTIFACT_TYPES) {
    const format = spec.formats?.[type];
    if (format !== undefined) overlay[`artifacts.${type}.format`] = format;
    // an empty list stores nothing, as `""` does in chains-config
    const storage = spec.storage?.[type];
    if (storage !== undefined) overlay[`artifacts.${type}.storage`] = storage.join(',');
  }
  if (spec.storage?.ociRepository !== undefined) overlay['storage.oci.repository'] = spec.storage.ociRepository;
  if (spec.transparency !== undefined) overlay['transparency.enabled'] = spec.transparency;
  Object.assign(overlay, signerKeys(spec.signer));
  return overlay;
}

/**
 * A policy's own signer signs every artifact type, including one chains-config turns off with signer `none`: the
 * key is the tenant's, so is the choice; a policy turns a type off with an empty storage list. (Keeping `none`
 * would make a policy's effect depend on a cluster setting its author cannot see.)
 */
function signerKeys(signer: SigningPolicySpec['signer']): ConfigOverlay {
  if (!signer) return {};
  const every = (name: 'x509' | 'kms'): ConfigOverlay =>
    Object.fromEntries(ARTIFACT_TYPES.map((t) => [`artifacts.${t}.signer`, name]));
  if ('x509' in signer) return { ...every('x509'), 'signers.x509.fulcio.enabled': 'false' };
  if ('kms' in signer) return { ...every('kms'), 'signers.kms.kmsref': signer.kms.ref };
  return { ...every('x509'), 'signers.x509.fulcio.enabled': 'true' };
}
