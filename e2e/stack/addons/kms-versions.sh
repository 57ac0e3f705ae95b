# Pinned versions of the KMS servers the stack add-ons build (sourced by build-*.sh and *-up.sh here).
# Neither is served as a version by the Go module proxy (see build-openbao.sh / build-local-kms.sh).
: "${OPENBAO_VERSION:=v2.6.2}"     # github.com/openbao/openbao tag
: "${LOCAL_KMS_REV:=e4d9425}"      # github.com/nsmithuk/local-kms commit, 2023-10-25, three commits after 3.12.0
