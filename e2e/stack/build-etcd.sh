#!/usr/bin/env bash
# Builds etcd from the go.etcd.io/etcd/server/v3 Go module (its root package is `main`) through a
# throwaway wrapper module: etcd's go.mod has `replace => ../api` lines, so `go install` refuses it.
# Kept apart from the apiserver wrapper so MVS does not mix their grpc/otel versions. Prints the path.
set -euo pipefail
. "$(dirname "$0")/common.sh"
E=$ETCD_VERSION
OUT="$CACHE/bin/etcd-$E"
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "etcd-$E")
acquire_go_lock "$LOG"; T_START=$(date +%s)
[ -x "$OUT" ] && { echo "$OUT"; exit 0; }
say "building etcd $E (cold: a few minutes; log: $LOG)"
export GOFLAGS=-trimpath CGO_ENABLED=0
W="$CACHE/build/etcd-$E"; mkdir -p "$W" "$CACHE/bin"; cd "$W"
[ -f go.mod ] || printf 'module local/chainsmith-etcd\n\ngo 1.24.0\n' > go.mod
run_logged "resolving etcd $E modules" "$LOG" go get "go.etcd.io/etcd/server/v3@$E"
run_logged "building etcd $E" "$LOG" go build -ldflags '-s -w' -o "$OUT.tmp" go.etcd.io/etcd/server/v3
mv "$OUT.tmp" "$OUT"
say "built $OUT in $(( $(date +%s) - T_START ))s"
echo "$OUT"
