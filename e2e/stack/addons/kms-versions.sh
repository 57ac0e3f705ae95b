# Pinned version of the KMS server the stack add-ons build (sourced by build-vault.sh and vault-up.sh here).
# HashiCorp Vault v1.14.0 (2023-06, MPL-2.0) from the Go module proxy. Why not 1.13.x: v1.13.13 is BUSL-1.1 (its
# LICENSE: "Vault Version 1.13.13 or later"), and 1.13 patch releases do not compile as a dependency — their in-tree
# sdk mixes changes no single sdk tag has (logical.Externaler, gone in sdk v0.9.1, and PolicyInfo.NamespacePath /
# helper/testcluster, first in v0.9.1). v1.14.0 requires an sdk pseudo-version of main that the proxy serves.
: "${VAULT_VERSION:=v1.14.0}"
