#!/usr/bin/env bash
# Builds HashiCorp Vault (a dev server with the transit engine, for hashivault:// signing in the e2e tests) from
# the Go module proxy into the cache and prints the binary's path; a cache hit is instant. Vault is built as a
# dependency of a wrapper module written here (its own go.mod replaces ./api and ./sdk with in-tree copies, which
# a dependency does not get), so its api and sdk come from the versions its go.mod requires.
# Takes the shared Go build lock; failures end in one line naming the log.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/kms-versions.sh"
OUT="$CACHE/bin/vault-$VAULT_VERSION"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "vault-$VAULT_VERSION")
acquire_go_lock "$LOG"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
W="$CACHE/build/vault-$VAULT_VERSION"
rm -rf "$W" && mkdir -p "$W" "$CACHE/bin" && cd "$W"
# Two pins on top of Vault's own requirements:
#  - sdk => v0.9.2: Vault 1.14.0 requires an sdk pseudo-version of main from 2023-05-30, but its in-tree sdk (what
#    HashiCorp builds it with) already has certutil.ParseBasicConstraintExtension and keysutil.Policy.WrapKey, which
#    the tag sdk/v0.9.2 (2023-07-25) is the first to carry.
#  - vault-plugin-secrets-azure => v0.16.1: the module proxy has no checksum-database entry for v0.16.0
#    (`go get` fails with "verifying module: … 404 Not Found").
cat >go.mod <<'MOD'
module local/chainsmith-vault

go 1.19

replace github.com/hashicorp/vault/sdk => github.com/hashicorp/vault/sdk v0.9.2

replace github.com/hashicorp/vault-plugin-secrets-azure => github.com/hashicorp/vault-plugin-secrets-azure v0.16.1
MOD
export CGO_ENABLED=0 GOFLAGS=-trimpath
say "building HashiCorp Vault $VAULT_VERSION (cold: 15-30 minutes on 2 cores; log: $LOG)"
run_logged "resolving Vault $VAULT_VERSION's modules" "$LOG" go get "github.com/hashicorp/vault@$VAULT_VERSION"
run_logged "building Vault $VAULT_VERSION" "$LOG" go build -ldflags '-s -w' -o "$OUT.tmp" github.com/hashicorp/vault
mv "$OUT.tmp" "$OUT"
rm -rf "$W"
say "built $OUT"
echo "$OUT"
