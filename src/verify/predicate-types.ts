// `--predicate-type` names, mapped exactly as cosign's `verify-attestation --type` maps them
// (cosign-format.md §2.4, sigstore/cosign `cmd/cosign/cli/options/predicate.go` PredicateTypeMap), so that
// `chainsmith verify --predicate-type X` and `cosign verify-attestation --type X` select the same attestations.

/** in-toto predicateType URIs. */
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

const PREDICATE_TYPE_MAP: Record<string, string> = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: SLSA_PROVENANCE_V02,
  slsaprovenance02: SLSA_PROVENANCE_V02,
  slsaprovenance1: SLSA_PROVENANCE_V1,
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  link: 'https://in-toto.io/Link/v1',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
};

/** The names accepted besides a URI, for help and error messages. */
export const PREDICATE_TYPE_NAMES: readonly string[] = Object.keys(PREDICATE_TYPE_MAP);

/**
 * The predicateType URI for a `--predicate-type` value: a known name, or a URI used verbatim.
 * Undefined for anything else (cosign would compare a typo verbatim and just find nothing; we say so up front).
 */
export function resolvePredicateType(value: string): string | undefined {
  const known = PREDICATE_TYPE_MAP[value];
  if (known) return known;
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(value) ? value : undefined;
}

/** Where an SLSA provenance predicate names its builder: v0.2 `builder.id`, v1.0 `runDetails.builder.id`. */
export function builderIdOf(predicateType: string, predicate: unknown): string | undefined {
  if (!predicate || typeof predicate !== 'object') return undefined;
  const p = predicate as { builder?: { id?: unknown }; runDetails?: { builder?: { id?: unknown } } };
  const id =
    predicateType === SLSA_PROVENANCE_V1
      ? p.runDetails?.builder?.id
      : predicateType === SLSA_PROVENANCE_V02
        ? p.builder?.id
        : undefined;
  return typeof id === 'string' ? id : undefined;
}
