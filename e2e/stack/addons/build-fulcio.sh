#!/usr/bin/env bash
# Builds what the Fulcio add-on runs, once per version: the fulcio server (go install from the Go module proxy; its
# module has no replace directives), stripped and -trimpath. Prints `fulcio PATH`; a cache hit is instant. Takes the
# shared Go build lock; failures end in one line naming the log.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/fulcio-versions.sh"

BIN="$CACHE/bin/fulcio-$FULCIO_VERSION"
[ -x "$BIN" ] && { echo "fulcio $BIN"; exit 0; }

need_go
LOG=$(build_log "fulcio-$FULCIO_VERSION")
acquire_go_lock "$LOG"
[ -x "$BIN" ] && { echo "fulcio $BIN"; exit 0; }   # built by another stack:up while we waited
T=$(date +%s)
export CGO_ENABLED=0 GOFLAGS=-trimpath
GOBIN_DIR="$CACHE/build/fulcio-stack/bin"
mkdir -p "$CACHE/bin" "$GOBIN_DIR"
say "building fulcio $FULCIO_VERSION (cold: minutes on 2 cores; log: $LOG)"
run_logged "building fulcio $FULCIO_VERSION" "$LOG" \
  env GOBIN="$GOBIN_DIR" go install -ldflags '-s -w' "github.com/sigstore/fulcio@$FULCIO_VERSION"
mv "$GOBIN_DIR/fulcio" "$BIN"
rm -rf "$CACHE/build/fulcio-stack"
say "built fulcio $FULCIO_VERSION in $(( $(date +%s) - T ))s"
echo "fulcio $BIN"
