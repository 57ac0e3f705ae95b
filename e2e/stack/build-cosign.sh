#!/usr/bin/env bash
# Installs the cosign CLI (v2, the signature layout Tekton Chains uses) from the Go module proxy
# into the cache. cosign's go.mod has no replace directives, so plain `go install` works. Prints the path.
set -euo pipefail
. "$(dirname "$0")/common.sh"
V=$COSIGN_VERSION
OUT="$CACHE/bin/cosign-$V"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "cosign-$V")
acquire_go_lock "$LOG"; T_START=$(date +%s)
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
say "installing cosign $V (cold: a few minutes; log: $LOG)"
GOBIN_DIR="$CACHE/build/cosign-$V/bin"; mkdir -p "$GOBIN_DIR" "$CACHE/bin"
export CGO_ENABLED=0 GOFLAGS=-trimpath GOBIN="$GOBIN_DIR"
run_logged "installing cosign $V" "$LOG" go install -ldflags '-s -w' "github.com/sigstore/cosign/v2/cmd/cosign@$V"
mv "$GOBIN_DIR/cosign" "$OUT"
say "installed $OUT in $(( $(date +%s) - T_START ))s"
echo "$OUT"
