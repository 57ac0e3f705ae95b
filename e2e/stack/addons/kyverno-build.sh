#!/usr/bin/env bash
# Builds the Kyverno CLI (kubectl-kyverno) once per version, through a wrapper module: kyverno's go.mod has a replace
# line (k8s.io/pod-security-admission => github.com/kyverno/pod-security-admission), which `go install` refuses, so the
# wrapper copies it (and seeds go.sum from kyverno's own). Cold: several hundred modules and 10-20 min on 2 cores, so
# it takes its own lock (KYVERNO_BUILD_LOCK), not the shared Go build lock: CI starts it in the background at the start
# (.ci/run) while the core stack builds and the unit tests run. Prints `kyverno PATH`.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/verifiers-versions.sh"

BIN="$CACHE/bin/kyverno-$KYVERNO_VERSION"
[ -x "$BIN" ] && { echo "kyverno $BIN"; exit 0; }
need_go
LOG=$(build_log "kyverno-$KYVERNO_VERSION")
: "${KYVERNO_BUILD_LOCK:=$CACHE/kyverno-build.lock}"
mkdir -p "$CACHE/bin" "$(dirname "$KYVERNO_BUILD_LOCK")"
exec 9>"$KYVERNO_BUILD_LOCK"
flock -w "$GO_LOCK_TIMEOUT" 9 || die "timed out waiting for $KYVERNO_BUILD_LOCK (another Kyverno build); see $LOG"
[ -x "$BIN" ] && { echo "kyverno $BIN"; exit 0; }
T=$(date +%s)
export CGO_ENABLED=0 GOFLAGS=-trimpath
MOD=github.com/kyverno/kyverno
PKG=$MOD/cmd/cli/kubectl-kyverno
W="$CACHE/build/kyverno-$KYVERNO_VERSION"; mkdir -p "$W"; cd "$W"
say "building kyverno $KYVERNO_VERSION CLI (cold: 10-20 min on 2 cores; log: $LOG)"
[ -f go.mod ] || printf 'module local/chainsmith-kyverno\n\ngo 1.26.6\n' >go.mod
run_logged "downloading kyverno $KYVERNO_VERSION" "$LOG" go mod download -json "$MOD@$KYVERNO_VERSION"
DIR=$(go mod download -json "$MOD@$KYVERNO_VERSION" 2>>"$LOG" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)
[ -n "$DIR" ] || die "could not locate the kyverno $KYVERNO_VERSION module; see $LOG"
cat "$DIR/go.sum" >>go.sum 2>/dev/null || true
sort -u go.sum -o go.sum
# Copy kyverno's non-local replace directives (single-line and block form) into the wrapper.
awk '/^replace[[:space:]]*\(/{b=1;next} b&&/^\)/{b=0;next} b{print;next} /^replace[[:space:]]/{sub(/^replace[[:space:]]+/,"");print}' "$DIR/go.mod" |
  sed 's#//.*##' | while read -r from fv arrow to tv; do
    [ "$fv" = "=>" ] && { tv=$to; to=$arrow; fv=""; }
    case "$to" in ''|.*|/*) continue ;; esac
    go mod edit -replace="$from${fv:+@$fv}=$to${tv:+@$tv}"
  done
run_logged "resolving kyverno $KYVERNO_VERSION modules" "$LOG" go get "$PKG@$KYVERNO_VERSION"
run_logged "building kyverno $KYVERNO_VERSION CLI" "$LOG" go build -ldflags '-s -w' -o "$BIN.tmp" "$PKG"
mv "$BIN.tmp" "$BIN"
say "built kyverno $KYVERNO_VERSION in $(( $(date +%s) - T ))s"
echo "kyverno $BIN"
