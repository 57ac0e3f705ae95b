#!/usr/bin/env bash
# npm run faults — the fault suite at the issue's full sizes (FAULTS_FULL=1: 500 runs and five kills, a 60 s
# registry outage, …) against the local test stack, then the measured table (docs/reliability.md).
# `npm run e2e` runs the same files at their bounded CI sizes. Any FAULTS_* variable overrides one size.
set -euo pipefail
cd "$(dirname "$0")/../.."
export FAULTS_FULL="${FAULTS_FULL:-1}"
if ! bash e2e/stack/up.sh; then
  echo "faults: FAILED: the test stack could not be started (the error above names the log to read)" >&2
  exit 1
fi
# shellcheck disable=SC1091
. .stack/env
rm -rf "$STACK_DIR/faults/results"
mapfile -t files < <(find e2e/faults -name '*.e2e.ts' | sort)
rc=0
node --import tsx --test --test-concurrency=1 --test-timeout=3600000 "${files[@]}" || rc=$?
node --import tsx e2e/faults/report.ts || true
exit "$rc"
