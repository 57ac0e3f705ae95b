#!/usr/bin/env bash
# Stack add-on: the independent verifiers and a registry with the OCI 1.1 referrers API.
# - olareg (a real registry serving GET /v2/<name>/referrers/<digest>, with artifactType filtering and annotations),
#   in memory on a free loopback port: REFERRERS_REGISTRY (host:port). Debian's docker-registry (CHAINSMITH_REGISTRY)
#   stays for the tag layout and the referrers tag-schema fallback.
# - cosign v3 next to cosign v2: COSIGN3.
# - the Kyverno CLI: KYVERNO, when kyverno-build.sh has built it (a cold build takes 10-20 min, so it is not built
#   here: CI starts it in the background, and e2e/run.sh runs the Kyverno suites last, after waiting for it).
# Writes $STACK_DIR/env.d/verifiers.env. When olareg or cosign v3 cannot be built or started, it records
# CHAINSMITH_VERIFIERS_UNAVAILABLE=<the one-line error naming the log> and the suites that need them fail with it.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/verifiers-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${OLAREG_START_TIMEOUT:=30}"
ENV_FILE="$STACK_DIR/env.d/verifiers.env"
LOGS="$STACK_DIR/logs"
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$STACK_DIR/bin" "$LOGS"

# a failure records why the verifiers add-on is missing instead of failing the stack (common.sh addon_guard)
addon_guard verifiers 'the verifiers add-on' olareg

need_tool curl "apt-get install curl"
"$ADDONS/build-verifiers.sh" >"$LOGS/verifiers-build.out" 2>"$LOGS/verifiers-build.log" || true
COSIGN3=$(sed -n 's/^cosign3 //p' "$LOGS/verifiers-build.out")
OLAREG=$(sed -n 's/^olareg //p' "$LOGS/verifiers-build.out")
if [ -z "$COSIGN3" ] || [ ! -x "$COSIGN3" ] || [ -z "$OLAREG" ] || [ ! -x "$OLAREG" ]; then
  why=$(grep 'stack: error:' "$LOGS/verifiers-build.log" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300 || true)
  die "${why:-build-verifiers.sh did not produce cosign v3 and olareg; see $LOGS/verifiers-build.log}"
fi
ln -sfn "$COSIGN3" "$STACK_DIR/bin/cosign3"
ln -sfn "$OLAREG" "$STACK_DIR/bin/olareg"

pick_port OLAREG_PORT olareg
say "starting olareg $OLAREG_VERSION (OCI 1.1 referrers API) on 127.0.0.1:$OLAREG_PORT"
# --addr: olareg listens on every interface by default. In memory: each stack starts empty, like the registry.
OLAREG_PID=$(start_daemon olareg "$STACK_DIR/bin/olareg" serve --addr 127.0.0.1 --port "$OLAREG_PORT" \
  --store-type mem --api-delete --api-referrer)
wait_until "$OLAREG_START_TIMEOUT" "olareg" "$LOGS/olareg.log" "$OLAREG_PID" \
  curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$OLAREG_PORT/v2/"

KYVERNO_BIN="$CACHE/bin/kyverno-$KYVERNO_VERSION"
{
  echo "# olareg $OLAREG_VERSION, cosign $COSIGN3_VERSION, Kyverno $KYVERNO_VERSION (e2e/stack/addons/verifiers-up.sh)"
  printf 'export REFERRERS_REGISTRY=%q\n' "127.0.0.1:$OLAREG_PORT"
  printf 'export COSIGN3=%q\n' "$STACK_DIR/bin/cosign3"
  # The Kyverno CLI's path whether or not it is built yet (e2e/run.sh waits for kyverno-build.sh before its suites).
  printf 'export KYVERNO=%q\n' "$KYVERNO_BIN"
} >"$ENV_FILE"
say "verifiers up: olareg at 127.0.0.1:$OLAREG_PORT, cosign v3 $COSIGN3, Kyverno $([ -x "$KYVERNO_BIN" ] && echo built || echo 'not built yet')"
