#!/usr/bin/env bash
# Builds what the sigstore2 add-on runs, once per version (each a cache hit afterwards):
# - rekor-tiles' POSIX server (Rekor v2): `go install …/cmd/rekor-server/posix` (binary `posix`; no replace directives);
# - the timestamp authority: our own main (addons/tsa/main.go, REST API only) built through a wrapper module requiring
#   github.com/sigstore/timestamp-authority/v2, its go.sum seeded from upstream's; cached by version and main.go's hash.
# Stripped, -trimpath, CGO_ENABLED=0. Prints `rekor-tiles PATH` and `tsa PATH`, and each build's time. Takes the shared
# Go build lock; failures end in one line naming the log.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/sigstore2-versions.sh"

TSA_MAIN="$ADDONS/tsa/main.go"
[ -f "$TSA_MAIN" ] || die "missing $TSA_MAIN"
TSA_HASH=$(sha256sum "$TSA_MAIN" | cut -c1-12)
TILES="$CACHE/bin/rekor-tiles-posix-$REKOR_TILES_VERSION"
TSA="$CACHE/bin/chainsmith-tsa-$TSA_VERSION-$TSA_HASH"
if [ ! -x "$TILES" ] || [ ! -x "$TSA" ]; then
  need_go
  LOG=$(build_log "sigstore2-$REKOR_TILES_VERSION-$TSA_VERSION")
  acquire_go_lock "$LOG"
  export CGO_ENABLED=0 GOFLAGS=-trimpath
  mkdir -p "$CACHE/bin"
  if [ ! -x "$TILES" ]; then   # (or built by another stack:up while we waited for the lock)
    T=$(date +%s)
    say "building rekor-tiles (Rekor v2) $REKOR_TILES_VERSION (cold: minutes on 2 cores; log: $LOG)"
    G="$CACHE/build/rekor-tiles-$REKOR_TILES_VERSION/bin"; mkdir -p "$G"
    run_logged "building rekor-tiles $REKOR_TILES_VERSION" "$LOG" \
      env GOBIN="$G" go install -ldflags '-s -w' "github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix@$REKOR_TILES_VERSION"
    mv "$G/posix" "$TILES"
    rm -rf "$CACHE/build/rekor-tiles-$REKOR_TILES_VERSION"
    say "built rekor-tiles $REKOR_TILES_VERSION in $(( $(date +%s) - T ))s"
  fi
  if [ ! -x "$TSA" ]; then
    T=$(date +%s)
    say "building the timestamp authority $TSA_VERSION (addons/tsa/main.go $TSA_HASH; log: $LOG)"
    W="$CACHE/build/chainsmith-tsa-$TSA_VERSION-$TSA_HASH"
    rm -rf "$W" && mkdir -p "$W"
    printf 'module local/chainsmith-tsa\n\ngo 1.25.0\n' >"$W/go.mod"
    cp "$TSA_MAIN" "$W/main.go"
    (
      cd "$W"
      run_logged "downloading timestamp-authority $TSA_VERSION" "$LOG" \
        go mod download -json "github.com/sigstore/timestamp-authority/v2@$TSA_VERSION"
      # Upstream's go.sum: the exact versions it was released with, no checksum-database round trips.
      dir=$(go mod download -json "github.com/sigstore/timestamp-authority/v2@$TSA_VERSION" 2>>"$LOG")
      cat "$(go_mod_field "$dir" Dir)/go.sum" >go.sum
      run_logged "resolving timestamp-authority $TSA_VERSION" "$LOG" \
        go get "github.com/sigstore/timestamp-authority/v2@$TSA_VERSION"
      run_logged "tidying the timestamp authority's wrapper module" "$LOG" go mod tidy
      run_logged "building the timestamp authority $TSA_VERSION" "$LOG" \
        go build -ldflags '-s -w' -o "$TSA.tmp" .
    )
    mv "$TSA.tmp" "$TSA"
    rm -rf "$W"
    say "built timestamp-authority $TSA_VERSION (chainsmith-tsa) in $(( $(date +%s) - T ))s"
  fi
fi
echo "rekor-tiles $TILES"
echo "tsa $TSA"
