# SLSA v0.2 provenance (chains-config format in-toto or slsa/v1) must come from our builder.
#   cosign verify-attestation --key cosign.pub --type slsaprovenance --policy builder.rego IMAGE@DIGEST
# cosign evaluates `data.signature.allow` with the in-toto statement as `input`, and parses the
# policy with Rego v0 syntax: `allow { ... }`, not `allow if { ... }`.
package signature

default allow = false

allow {
	input.predicateType == "https://slsa.dev/provenance/v0.2"
	input.predicate.builder.id == "https://tekton.dev/chains/v2"
}
