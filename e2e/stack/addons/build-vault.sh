#!/usr/bin/env bash
# Builds HashiCorp Vault (a dev server with the transit engine, for hashivault:// signing in the e2e tests) from
# the Go module proxy into the cache and prints the binary's path; a cache hit is instant. Vault is built as a
# dependency of a wrapper module written here (its own go.mod replaces ./api and ./sdk with in-tree copies, which
# a dependency does not get), so its api and sdk come from the tags its go.mod requires (kms-versions.sh says why that pins v1.13.0).
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
printf 'module local/chainsmith-vault\n\ngo 1.19\n' >go.mod
export CGO_ENABLED=0 GOFLAGS=-trimpath
say "building HashiCorp Vault $VAULT_VERSION (cold: 15-30 minutes on 2 cores; log: $LOG)"
run_logged "resolving Vault $VAULT_VERSION's modules" "$LOG" go get "github.com/hashicorp/vault@$VAULT_VERSION"
run_logged "building Vault $VAULT_VERSION" "$LOG" go build -ldflags '-s -w' -o "$OUT.tmp" github.com/hashicorp/vault
mv "$OUT.tmp" "$OUT"
rm -rf "$W"
say "built $OUT"
echo "$OUT"
