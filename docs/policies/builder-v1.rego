# SLSA v1.0 provenance (chains-config format slsa/v2alpha3 or slsa/v2alpha4) must come from our builder.
#   cosign verify-attestation --key cosign.pub --type slsaprovenance1 --policy builder-v1.rego IMAGE@DIGEST
package signature

default allow = false

allow {
	input.predicateType == "https://slsa.dev/provenance/v1"
	input.predicate.runDetails.builder.id == "https://tekton.dev/chains/v2"
}
