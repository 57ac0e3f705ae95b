# Pinned versions of the independent verifiers and the referrers registry the stack builds (sourced by
# build-verifiers.sh, build-kyverno.sh and verifiers-up.sh).
# - cosign v3.1.3 (go 1.26.0, no replace): bundles in OCI 1.1 referrers by default; next to cosign v2 (COSIGN).
# - olareg v0.2.2: a registry with the OCI 1.1 referrers API (Debian's docker-registry 2.8.2 has none); its version
#   list is refused by the proxy, so it is built through a wrapper module.
# - Kyverno v1.19.1 (go 1.26.6, one replace): the CLI `kubectl-kyverno`, the real verifyImages/ImageValidatingPolicy
#   engine; built through a wrapper module that copies the replace line.
: "${COSIGN3_VERSION:=v3.1.3}"
: "${OLAREG_VERSION:=v0.2.2}"
: "${KYVERNO_VERSION:=v1.19.1}"
