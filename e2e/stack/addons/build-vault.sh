#!/usr/bin/env bash
# Builds HashiCorp Vault (a dev server with the transit engine, for hashivault:// signing in the e2e tests) from
# the Go module proxy into the cache and prints the binary's path; a cache hit is instant. Everything comes from
# the proxy: Vault is built as a dependency of a wrapper module written here, so Vault's own replace directives
# (./api, ./sdk) do not apply, and two pins make its module graph resolvable:
#  - github.com/hashicorp/vault/sdk => v0.9.1: Vault 1.13 is built against its in-tree sdk, whose
#    helper/testcluster package (imported by vault/testing.go) is missing from the v0.8.1 tag it requires; letting
#    Go pick the "latest" sdk instead drags in a 2025 dependency graph. v0.9.1 is the first tag that has it.
#  - github.com/hashicorp/vault-plugin-database-snowflake => v0.7.3: the module proxy refuses v0.7.4 (403).
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
cat >go.mod <<MOD
module local/chainsmith-vault

go 1.21

replace github.com/hashicorp/vault/sdk => github.com/hashicorp/vault/sdk v0.9.1

replace github.com/hashicorp/vault-plugin-database-snowflake => github.com/hashicorp/vault-plugin-database-snowflake v0.7.3
MOD
export CGO_ENABLED=0 GOFLAGS=-trimpath
say "building HashiCorp Vault $VAULT_VERSION (cold: 15-30 minutes on 2 cores; log: $LOG)"
run_logged "resolving Vault $VAULT_VERSION's modules" "$LOG" go get "github.com/hashicorp/vault@$VAULT_VERSION"
run_logged "building Vault $VAULT_VERSION" "$LOG" go build -ldflags '-s -w' -o "$OUT.tmp" github.com/hashicorp/vault
mv "$OUT.tmp" "$OUT"
rm -rf "$W"
say "built $OUT"
echo "$OUT"
