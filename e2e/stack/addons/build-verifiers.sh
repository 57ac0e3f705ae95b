#!/usr/bin/env bash
# Builds the small verifier-side pieces once per version (each a cache hit afterwards): cosign v3 (`go install`) and
# the olareg registry (wrapper module). Prints `cosign3 PATH` and `olareg PATH`. Takes the shared Go build lock.
# Kyverno (much larger) has its own script, build-kyverno.sh, which CI starts in the background.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/verifiers-versions.sh"

COSIGN3="$CACHE/bin/cosign-$COSIGN3_VERSION"
OLAREG="$CACHE/bin/olareg-$OLAREG_VERSION"
if [ ! -x "$COSIGN3" ] || [ ! -x "$OLAREG" ]; then
  need_go
  LOG=$(build_log "verifiers-$COSIGN3_VERSION-$OLAREG_VERSION")
  acquire_go_lock "$LOG"
  export CGO_ENABLED=0 GOFLAGS=-trimpath
  mkdir -p "$CACHE/bin"
  if [ ! -x "$COSIGN3" ]; then
    T=$(date +%s)
    say "installing cosign $COSIGN3_VERSION (cold: a few minutes; log: $LOG)"
    G="$CACHE/build/cosign-$COSIGN3_VERSION/bin"; mkdir -p "$G"
    run_logged "installing cosign $COSIGN3_VERSION" "$LOG" \
      env GOBIN="$G" go install -ldflags '-s -w' "github.com/sigstore/cosign/v3/cmd/cosign@$COSIGN3_VERSION"
    mv "$G/cosign" "$COSIGN3"
    say "built cosign $COSIGN3_VERSION in $(( $(date +%s) - T ))s"
  fi
  if [ ! -x "$OLAREG" ]; then
    T=$(date +%s)
    say "building olareg $OLAREG_VERSION (log: $LOG)"
    W="$CACHE/build/olareg-$OLAREG_VERSION"; mkdir -p "$W"
    [ -f "$W/go.mod" ] || printf 'module local/chainsmith-olareg\n\ngo 1.25.0\n' >"$W/go.mod"
    (cd "$W" && run_logged "resolving olareg $OLAREG_VERSION" "$LOG" go get "github.com/olareg/olareg/cmd/olareg@$OLAREG_VERSION" &&
      run_logged "building olareg $OLAREG_VERSION" "$LOG" go build -ldflags '-s -w' -o "$OLAREG.tmp" github.com/olareg/olareg/cmd/olareg)
    mv "$OLAREG.tmp" "$OLAREG"
    say "built olareg $OLAREG_VERSION in $(( $(date +%s) - T ))s"
  fi
fi
echo "cosign3 $COSIGN3"
echo "olareg $OLAREG"
