# Pinned version of the KMS server the stack add-ons build (sourced by build-vault.sh and vault-up.sh here).
# HashiCorp Vault v1.13.0 (2023-03, MPL-2.0) from the Go module proxy, built as a dependency with exactly the
# module versions its go.mod requires. Later releases do not work that way: a release's go.mod points its api/sdk
# at tags while HashiCorp builds it against the in-tree copies, and those drift apart over a release branch —
# v1.13.5 and v1.13.13 fail to compile (PolicyInfo.NamespacePath, logical.Externaler: no sdk tag has both), and
# v1.14.0 with sdk v0.9.2 compiles but panics at startup ("managed-keys/… defines a CreateOperation but no
# ExistenceCheck"). v1.13.13 is also BUSL-1.1 ("Vault Version 1.13.13 or later").
: "${VAULT_VERSION:=v1.13.0}"
