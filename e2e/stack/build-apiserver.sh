#!/usr/bin/env bash
# Builds kube-apiserver from the k8s.io/kubernetes Go module through a throwaway
# wrapper module (k8s's own go.mod replaces staging modules with ./staging paths,
# which `go install` refuses). Output is cached by version outside the repo.
set -euo pipefail
K8S=${K8S_VERSION:-v1.34.4}
CACHE=${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}
OUT="$CACHE/bin/kube-apiserver-$K8S"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
export GOTOOLCHAIN=local GOFLAGS=-trimpath CGO_ENABLED=0
MINOR=$(echo "$K8S" | cut -d. -f2); STAGING=v0.${K8S#v1.}
W="$CACHE/build/apiserver-$K8S"; mkdir -p "$W" "$CACHE/bin"; cd "$W"
[ -f go.mod ] || printf 'module local/chainsmith-apiserver\n\ngo 1.24.0\n' > go.mod
GOMOD=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[ -f "$GOMOD" ] || { echo "could not download k8s.io/kubernetes@$K8S go.mod" >&2; exit 1; }
for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$GOMOD"); do
  go mod edit -replace="$m=$m@$STAGING"
done
go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S"
LDF="-s -w -X k8s.io/component-base/version.gitVersion=$K8S -X k8s.io/component-base/version.gitMajor=1"
LDF="$LDF -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/component-base/version.gitTreeState=clean"
LDF="$LDF -X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z"
go build -ldflags "$LDF" -o "$OUT.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$OUT.tmp" "$OUT"
echo "$OUT"
