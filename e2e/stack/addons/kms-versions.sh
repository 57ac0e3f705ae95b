# Pinned version of the KMS server the stack add-ons build (sourced by build-vault.sh and vault-up.sh here).
# HashiCorp Vault v1.13.13 comes from the Go module proxy. Its licence is BUSL-1.1 (its LICENSE file: "Vault Version
# 1.13.13 or later"): the stack only builds it into the cache and runs it as a local test server; no Vault code is
# committed or shipped with chainsmith.
: "${VAULT_VERSION:=v1.13.13}"
