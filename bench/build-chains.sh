#!/usr/bin/env bash
# Builds the Tekton Chains controller at a pinned release from the Go module proxy, through a
# throwaway wrapper module (Chains' go.mod has replace directives, so `go install` refuses it).
# v0.28.1 is the release chainsmith's format goldens come from (scripts/chains-goldens.sh, same module).
# Cached by version under ~/.cache/chainsmith/bin; prints the binary path. Go builds on this machine run
# one at a time: it takes the lock the e2e stack scripts and scripts/chains-goldens.sh share.
set -euo pipefail
C=${CHAINS_VERSION:-v0.28.1}
CACHE=${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}
OUT="$CACHE/bin/chains-controller-$C"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
[ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "build-chains: Go not found (install Go >= 1.26 at /usr/local/go)" >&2; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-trimpath CGO_ENABLED=0
W="$CACHE/build/chains-$C"; mkdir -p "$W" "$CACHE/bin"; cd "$W"
LOCK="$HOME/.cache/chainsmith/go-build.lock"
exec 9>"$LOCK"
flock -w 5400 9 || { echo "build-chains: timed out waiting for $LOCK" >&2; exit 1; }
DIR=$(go mod download -json "github.com/tektoncd/chains@$C" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[ -d "$DIR" ] || { echo "could not download github.com/tektoncd/chains@$C" >&2; exit 1; }
GOLINE=$(sed -n 's/^go \(.*\)$/\1/p' "$DIR/go.mod" | head -1)
printf 'module local/chainsmith-chains\n\ngo %s\n' "$GOLINE" > go.mod
# copy Chains' own replace directives (single-line and block form) into the wrapper
awk '/^replace \($/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0} /^replace [^(]/{print}' "$DIR/go.mod" >> go.mod
go get "github.com/tektoncd/chains/cmd/controller@$C"
go build -ldflags '-s -w' -o "$OUT.tmp" github.com/tektoncd/chains/cmd/controller
mv "$OUT.tmp" "$OUT"
echo "$OUT"
