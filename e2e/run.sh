#!/usr/bin/env bash
# npm run e2e — runs every e2e/**/*.e2e.ts against the local test stack, one file at a time,
# bringing the stack up first when it is not (a cold machine builds it: see docs/testing.md).
# If the stack cannot be built or started, this FAILS with the reason; it never skips tests.
#
# The Kyverno CLI takes 5-15 min to build cold, so it is built in the background (kyverno-build.sh; .ci/run starts it
# even earlier) while the stack starts and the other suites run; the suites that need it (e2e/interop/kyverno*.e2e.ts)
# and the interop-matrix check (e2e/interop/zz-matrix.e2e.ts, which needs every cell) run last. Only if the build has
# not finished by the deadline (CHAINSMITH_CI_DEADLINE, an epoch second set by .ci/run, minus KYVERNO_SUITE_RESERVE)
# are those suites deferred, and this prints loudly which ones and why.
# The container image (e2e/image/build.sh, 4-8 min cold; .ci/run starts it first) is built the same way, in the
# background; e2e/image.e2e.ts runs after the core suites once it is built. A failed image build fails this run; one not
# finished by the deadline (minus IMAGE_SUITE_RESERVE) is deferred, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${E2E_TEST_TIMEOUT_MS:=300000}"   # one test; a hung test fails instead of hanging CI
: "${E2E_RUN_TIMEOUT:=3600}"         # each of the two suite groups
: "${KYVERNO_SUITE_RESERVE:=600}"    # seconds kept before the CI deadline for the Kyverno suites
: "${KYVERNO_WAIT:=3600}"            # without a CI deadline, how long to wait for the Kyverno build
: "${IMAGE_SUITE_RESERVE:=900}"      # seconds kept before the CI deadline for the image suite and the Kyverno suites
: "${IMAGE_WAIT:=3600}"              # without a CI deadline, how long to wait for the image build

# shellcheck disable=SC1091
. e2e/stack/addons/verifiers-versions.sh
KYVERNO_BUILD_LOG=${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}/logs/kyverno-background.log
mkdir -p "$(dirname "$KYVERNO_BUILD_LOG")"
# (a no-op when it is built; waits on the build lock when .ci/run's background build is running)
bash e2e/stack/addons/kyverno-build.sh >"$KYVERNO_BUILD_LOG.out" 2>"$KYVERNO_BUILD_LOG" &
KYVERNO_BUILD_PID=$!
IMAGE_BUILD_LOG=${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}/logs/image-background.log
# (waits on the image build lock when .ci/run's build is running, then reuses its layers; in its own session, so it
# can be stopped whole)
setsid --wait bash e2e/image/build.sh >"$IMAGE_BUILD_LOG" 2>&1 </dev/null &
IMAGE_BUILD_PID=$!
trap 'pkill -TERM -s "$IMAGE_BUILD_PID" 2>/dev/null || true' EXIT

if ! bash e2e/stack/up.sh; then
  echo "e2e: FAILED: the test stack could not be started (the error above names the log to read)" >&2
  kill "$KYVERNO_BUILD_PID" 2>/dev/null || true
  exit 1
fi
# shellcheck disable=SC1091
. .stack/env

mapfile -t files < <(find e2e -name '*.e2e.ts' -not -path '*/node_modules/*' | sort)
[ "${#files[@]}" -gt 0 ] || { echo "e2e: FAILED: no e2e/**/*.e2e.ts files found" >&2; exit 1; }
core=() late=() image=()
for f in "${files[@]}"; do
  case "$f" in
    e2e/interop/kyverno*.e2e.ts | e2e/interop/zz-*.e2e.ts) late+=("$f") ;;
    e2e/image.e2e.ts) image+=("$f") ;;
    *) core+=("$f") ;;
  esac
done
# A full run records the interop matrix afresh (e2e/lib/interop.ts).
rm -f "$STACK_DIR/interop/results.jsonl"

run_group() {
  local rc=0
  timeout --kill-after=30 "$E2E_RUN_TIMEOUT" \
    node --import tsx --test --test-concurrency=1 --test-timeout="$E2E_TEST_TIMEOUT_MS" "$@" || rc=$?
  if [ "$rc" -eq 124 ]; then echo "e2e: FAILED: a suite group did not finish within ${E2E_RUN_TIMEOUT}s" >&2; fi
  return "$rc"
}

echo "e2e: ${#files[@]} files against the stack in $STACK_DIR (apiserver $CHAINSMITH_STACK_APISERVER, registry $CHAINSMITH_REGISTRY)"
rc=0
run_group "${core[@]}" || rc=$?

if [ "${#image[@]}" -gt 0 ]; then
  limit=$IMAGE_WAIT
  if [ -n "${CHAINSMITH_CI_DEADLINE:-}" ]; then
    limit=$(( CHAINSMITH_CI_DEADLINE - IMAGE_SUITE_RESERVE - $(date +%s) ))
    [ "$limit" -ge 0 ] || limit=0
  fi
  T=$(date +%s)
  while kill -0 "$IMAGE_BUILD_PID" 2>/dev/null && [ $(( $(date +%s) - T )) -lt "$limit" ]; do sleep 5; done
  # each step's time, from whichever build ran (.ci/run's, then this script's warm one)
  cat "$(dirname "$IMAGE_BUILD_LOG")/image-ci.log" "$IMAGE_BUILD_LOG" 2>/dev/null | grep -h 'image: ' || true
  if kill -0 "$IMAGE_BUILD_PID" 2>/dev/null; then
    pkill -TERM -s "$IMAGE_BUILD_PID" 2>/dev/null || true
    {
      echo "################################################################################"
      echo "e2e: DEFERRED ${image[*]}"
      echo "e2e: because the container image was not built in time (CHAINSMITH_CI_DEADLINE or IMAGE_WAIT; still building after ${limit}s of waiting; log $IMAGE_BUILD_LOG)"
      echo "e2e: run it with: npm run image && node --import tsx --test ${image[*]}"
      echo "################################################################################"
    } >&2
  elif wait "$IMAGE_BUILD_PID"; then
    [ $(( $(date +%s) - T )) -le 5 ] || echo "e2e: waited $(( $(date +%s) - T ))s for the image build"
    run_group "${image[@]}" || rc=$?
  else
    echo "e2e: FAILED: the container image could not be built: $(grep -h 'stack: error:' "$IMAGE_BUILD_LOG" | tail -n 1 | cut -c1-300) (log $IMAGE_BUILD_LOG)" >&2
    rc=1
  fi
fi

if [ "${#late[@]}" -gt 0 ]; then
  limit=$KYVERNO_WAIT
  if [ -n "${CHAINSMITH_CI_DEADLINE:-}" ]; then
    limit=$(( CHAINSMITH_CI_DEADLINE - KYVERNO_SUITE_RESERVE - $(date +%s) ))
    [ "$limit" -ge 0 ] || limit=0
  fi
  T=$(date +%s)
  while kill -0 "$KYVERNO_BUILD_PID" 2>/dev/null && [ $(( $(date +%s) - T )) -lt "$limit" ]; do sleep 5; done
  KYVERNO=${KYVERNO:-${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}/bin/kyverno-$KYVERNO_VERSION}
  # the build time, from whichever build ran (this script's or .ci/run's)
  cat "$KYVERNO_BUILD_LOG" "$(dirname "$KYVERNO_BUILD_LOG")/kyverno-ci.log" 2>/dev/null | grep -h 'built kyverno' || true
  if [ -x "$KYVERNO" ]; then
    [ $(( $(date +%s) - T )) -le 5 ] || echo "e2e: waited $(( $(date +%s) - T ))s for the Kyverno CLI build"
    run_group "${late[@]}" || rc=$?
  else
    why="the Kyverno CLI ($KYVERNO) was not built"
    if kill -0 "$KYVERNO_BUILD_PID" 2>/dev/null; then
      why="$why by the CI deadline (still building after ${limit}s of waiting; log $KYVERNO_BUILD_LOG)"
      kill "$KYVERNO_BUILD_PID" 2>/dev/null || true
    else
      why="$why: $(grep 'stack: error:' "$KYVERNO_BUILD_LOG" | tail -n 1 | cut -c1-300) (log $KYVERNO_BUILD_LOG)"
    fi
    {
      echo "################################################################################"
      echo "e2e: DEFERRED ${#late[@]} suites: ${late[*]}"
      echo "e2e: because $why"
      echo "e2e: run them with: npm run e2e (after the build finishes), or: $0"
      echo "################################################################################"
    } >&2
  fi
fi
wait "$KYVERNO_BUILD_PID" 2>/dev/null || true
if [ "$rc" -ne 0 ]; then echo "e2e: stack logs are in $STACK_DIR/logs" >&2; fi
exit "$rc"
