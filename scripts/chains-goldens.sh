#!/usr/bin/env bash
# Regenerates the golden payloads of Tekton Chains' own formatters (test/fixtures/formats/chains-v0.28.1/) and the
# Go type layout chainsmith writes embedded Tekton objects with, by building the harness in
# test/fixtures/formats/chains-harness (a Go module requiring github.com/tektoncd/chains v0.28.1 from the Go module
# proxy) into ~/.cache/chainsmith/build/chains-harness. Nothing built is written into the repository.
#
#   scripts/chains-goldens.sh            build (prints the build time), then write goldens and layout
#   scripts/chains-goldens.sh --check    the same into a temporary directory; fails if a recorded file differs
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS="$REPO/test/fixtures/formats/chains-harness"
GOLDENS="$REPO/test/fixtures/formats/chains-v0.28.1"
LAYOUT="$REPO/src/formats/go-types/layout.json"
CACHE=${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}
W="$CACHE/build/chains-harness"
BIN="$W/chains-harness"

[ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "chains-goldens: Go not found (install Go >= 1.26 at /usr/local/go)" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# a build cache of its own under the chainsmith cache: the first build is cold, later ones reuse it
export GOCACHE="$W/go-build"
mkdir -p "$W"

# Go builds on this machine run one at a time (the lock the e2e stack scripts share)
LOCK="$HOME/.cache/chainsmith/go-build.lock"
exec 9>"$LOCK"
flock -w 5400 9 || { echo "chains-goldens: timed out waiting for $LOCK" >&2; exit 1; }

start=$(date +%s)
(cd "$HARNESS" && go build -mod=readonly -trimpath -ldflags='-s -w' -o "$BIN.tmp" .) 2>&1 | tee "$W/build.log" >&2
mv "$BIN.tmp" "$BIN"
echo "chains-goldens: harness built in $(( $(date +%s) - start ))s ($BIN)" >&2
exec 9>&-

check=false
[ "${1:-}" = "--check" ] && check=true
if $check; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  goldens="$out/goldens" layout="$out/layout.json"
else
  goldens="$GOLDENS" layout="$LAYOUT"
  mkdir -p "$(dirname "$LAYOUT")"
fi

# logging.FromContext falls back to a development logger; its lines are not part of the output
"$BIN" goldens -root "$REPO" -cases "$GOLDENS/cases.json" -out "$goldens" 2>"$W/goldens.log" ||
  { cat "$W/goldens.log" >&2; exit 1; }
"$BIN" schema -out "$layout"

# a recorded golden whose case is gone from cases.json
stale() { for f in "$GOLDENS"/*.json; do b=$(basename "$f"); [ "$b" = cases.json ] || [ -f "$goldens/$b" ] || echo "$f"; done; }
if $check; then
  status=0
  for f in "$goldens"/*.json; do
    cmp -s "$f" "$GOLDENS/$(basename "$f")" || { echo "differs: $GOLDENS/$(basename "$f")" >&2; status=1; }
  done
  for f in $(stale); do echo "no case: $f" >&2; status=1; done
  cmp -s "$layout" "$LAYOUT" || { echo "differs: $LAYOUT" >&2; status=1; }
  [ $status -eq 0 ] && echo "chains-goldens: the recorded goldens and layout are what Chains writes" >&2
  exit $status
fi
for f in $(stale); do rm -- "$f"; echo "chains-goldens: removed $f (no such case)" >&2; done
echo "chains-goldens: wrote $GOLDENS and $LAYOUT" >&2
