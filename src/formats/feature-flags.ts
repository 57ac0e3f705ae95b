// `tekton-pipelines-feature-flags` as Chains writes them (spec §3.4): Chains decodes
// `status.provenance.featureFlags` into Tekton's FeatureFlags struct (Go matches JSON keys to fields
// case-insensitively) and re-encodes it (camelCase names, `omitempty`). We do the same for the flags
// Tekton v1.14 (the version Chains v0.28.1 builds with) knows, and keep unknown (newer) flags verbatim instead
// of dropping them.

/** Tekton v1.14 FeatureFlags fields: JSON name → kind of zero value that `omitempty` drops. */
const KNOWN_FLAGS: Record<string, 'bool' | 'string' | 'int' | 'pointer'> = {
  disableCredsInit: 'bool',
  runningInEnvWithInjectedSidecars: 'bool',
  requireGitSSHSecretKnownHosts: 'bool',
  enableAPIFields: 'string',
  sendCloudEventsForRuns: 'bool',
  awaitSidecarReadiness: 'bool',
  enforceNonfalsifiability: 'string',
  enableKeepPodOnCancel: 'bool',
  verificationNoMatchPolicy: 'string',
  enableProvenanceInStatus: 'bool',
  resultExtractionMethod: 'string',
  maxResultSize: 'int',
  setSecurityContext: 'bool',
  setSecurityContextReadOnlyRootFilesystem: 'bool',
  coschedule: 'string',
  enableCELInWhenExpression: 'bool',
  enableStepActions: 'bool',
  enableParamEnum: 'bool',
  enableArtifacts: 'bool',
  disableInlineSpec: 'string',
  enableConciseResolverSyntax: 'bool',
  enableKubernetesSidecar: 'bool',
  enableWaitExponentialBackoff: 'bool',
  enableTerminationMessageCompression: 'bool',
  enableTektonOCIBundles: 'pointer',
};

const BY_FOLDED_NAME = new Map(Object.keys(KNOWN_FLAGS).map((k) => [k.toLowerCase(), k]));

function isZero(kind: (typeof KNOWN_FLAGS)[string], v: unknown): boolean {
  if (v === null || v === undefined) return true;
  switch (kind) {
    case 'bool':
      return v === false;
    case 'string':
      return v === '';
    case 'int':
      return v === 0;
    default:
      return false; // a *bool is only omitted when nil
  }
}

/** The feature flags as Chains re-marshals them: known flags renamed to their JSON name, zero values dropped. */
export function normaliseFeatureFlags(flags: Record<string, unknown>): Record<string, unknown> {
  const known: Record<string, unknown> = {};
  const unknown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) {
    // Go prefers an exact field name, else a case-insensitive match; a later key overwrites an earlier one
    const name = Object.hasOwn(KNOWN_FLAGS, key) ? key : BY_FOLDED_NAME.get(key.toLowerCase());
    if (name) known[name] = value;
    else unknown[key] = value;
  }
  const out: Record<string, unknown> = { ...unknown };
  for (const [name, value] of Object.entries(known)) {
    if (!isZero(KNOWN_FLAGS[name]!, value)) out[name] = value;
  }
  return out;
}
