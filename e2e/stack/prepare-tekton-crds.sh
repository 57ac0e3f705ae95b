#!/usr/bin/env bash
# Prepares the v1-only Tekton CRDs (Task, TaskRun, Pipeline, PipelineRun) from the
# github.com/tektoncd/pipeline module at the pinned release; cached by version. Prints the directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
V=$TEKTON_PIPELINE_VERSION
OUT="$CACHE/crds/tekton-pipeline-$V"
[ -f "$OUT/pipelinerun.json" ] && { echo "$OUT"; exit 0; }
need_go
LOG=$(build_log "tekton-crds-$V")
say "fetching Tekton Pipelines $V CRDs from the Go module proxy (log: $LOG)"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# Outside any module, so the download touches no go.mod.
(cd "$TMP" && run_logged "downloading github.com/tektoncd/pipeline@$V" "$LOG" \
  sh -c 'go mod download -json "$1" > module.json || { sed -n "s/.*\"Error\": //p" module.json; exit 1; }' sh "github.com/tektoncd/pipeline@$V")
DIR=$(go_mod_field "$(cat "$TMP/module.json")" Dir)
[ -d "$DIR/config/300-crds" ] || die "github.com/tektoncd/pipeline@$V has no config/300-crds; see $LOG"
node --import tsx "$STACK_SCRIPTS/tekton-crds.ts" "$DIR" "$TMP/out" >>"$LOG" 2>&1 ||
  die "could not convert the Tekton CRDs: $(last_line "$LOG"); see $LOG"
mkdir -p "$(dirname "$OUT")"; rm -rf "$OUT"; mv "$TMP/out" "$OUT"
echo "$OUT"
