#!/usr/bin/env bash
# Builds kube-apiserver from the k8s.io/kubernetes Go module through a throwaway
# wrapper module (k8s's own go.mod replaces staging modules with ./staging paths,
# which `go install` refuses), stamped with its version (knative-based controllers
# reject an unstamped v0.0.0-master). Cached by version outside the repo; prints the path.
set -euo pipefail
. "$(dirname "$0")/common.sh"
K8S=$K8S_VERSION
OUT="$CACHE/bin/kube-apiserver-$K8S"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "kube-apiserver-$K8S")
acquire_go_lock "$LOG"; T_START=$(date +%s)
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }   # built by whoever held the lock
say "building kube-apiserver $K8S (cold: several minutes on 2 cores; log: $LOG)"
export GOFLAGS=-trimpath CGO_ENABLED=0
MINOR=$(echo "$K8S" | cut -d. -f2); STAGING=v0.${K8S#v1.}
W="$CACHE/build/apiserver-$K8S"; mkdir -p "$W" "$CACHE/bin"; cd "$W"
[ -f go.mod ] || printf 'module local/chainsmith-apiserver\n\ngo 1.24.0\n' > go.mod
run_logged "downloading the k8s.io/kubernetes@$K8S go.mod" "$LOG" \
  sh -c 'go mod download -json "$1" > k8s-module.json || { sed -n "s/.*\"Error\": //p" k8s-module.json; exit 1; }' sh "k8s.io/kubernetes@$K8S"
GOMOD=$(go_mod_field "$(cat k8s-module.json)" GoMod)
[ -f "$GOMOD" ] || die "could not download the go.mod of k8s.io/kubernetes@$K8S; see $LOG"
for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$GOMOD"); do
  go mod edit -replace="$m=$m@$STAGING"
done
run_logged "resolving kube-apiserver $K8S modules" "$LOG" go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S"
LDF="-s -w -X k8s.io/component-base/version.gitVersion=$K8S -X k8s.io/component-base/version.gitMajor=1"
LDF="$LDF -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/component-base/version.gitTreeState=clean"
LDF="$LDF -X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z"
run_logged "building kube-apiserver $K8S" "$LOG" go build -ldflags "$LDF" -o "$OUT.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$OUT.tmp" "$OUT"
say "built $OUT in $(( $(date +%s) - T_START ))s"
echo "$OUT"
