#!/usr/bin/env bash
# Exits 0 when the stack recorded in $STACK_DIR is live: every recorded process runs and
# etcd, kube-apiserver, the registry (and Rekor, Fulcio, Rekor v2, the TSA and olareg, when their add-ons are up) answer
# their health endpoints (each probe times out).
set -euo pipefail
. "$(dirname "$0")/common.sh"
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
[ -f "$STACK_DIR/env" ] || { echo "no stack: $STACK_DIR/env missing"; exit 1; }
for f in "$STACK_DIR"/pids/*.pid; do
  [ -f "$f" ] || { echo "no pid files in $STACK_DIR/pids"; exit 1; }
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || { echo "$(basename "$f" .pid) (pid $pid) is not running"; exit 1; }
done
# shellcheck disable=SC1091
. "$STACK_DIR/env"
curl -sf --max-time 3 "$CHAINSMITH_STACK_ETCD/health" >/dev/null || { echo "etcd unhealthy"; exit 1; }
TOKEN=$(sed -n 's/^ *token: //p' "$KUBECONFIG" | head -n 1)
curl -sf --max-time 5 --cacert "$STACK_DIR/pki/ca.crt" -H "Authorization: Bearer $TOKEN" \
  "$CHAINSMITH_STACK_APISERVER/readyz" >/dev/null || { echo "kube-apiserver not ready"; exit 1; }
curl -sf --max-time 3 "http://$CHAINSMITH_REGISTRY/v2/" >/dev/null || { echo "registry unhealthy"; exit 1; }
if [ -n "${REKOR_URL:-}" ]; then   # the rekor add-on
  curl -sf --max-time 3 "$REKOR_URL/api/v1/log" >/dev/null || { echo "rekor-server unhealthy"; exit 1; }
fi
if [ -n "${FULCIO_URL:-}" ]; then   # the fulcio add-on
  curl -sf --max-time 3 -o /dev/null "$FULCIO_URL/api/v1/rootCert" || { echo "fulcio unhealthy"; exit 1; }
fi
# The sigstore2 add-on: Rekor v2, its read path, the TSA. Only while its env.d file exists: restarting just this add-on
# (stop its pids, remove env.d/sigstore2.env, stack:up) leaves its old URLs in .stack/env until stack:up rewrites it.
if [ -n "${REKOR_V2_URL:-}" ] && [ -f "$STACK_DIR/env.d/sigstore2.env" ]; then
  case "$(curl -sf --max-time 3 "$REKOR_V2_URL/healthz" || true)" in
    *SERVING*) ;;
    *) echo "Rekor v2 (rekor-tiles) unhealthy"; exit 1 ;;
  esac
  curl -sf --max-time 3 -o /dev/null "$REKOR_V2_READ_URL/checkpoint" || { echo "Rekor v2's read path (checkpoint) unhealthy"; exit 1; }
  curl -sf --max-time 3 -o /dev/null "$TSA_URL/certchain" || { echo "timestamp authority unhealthy"; exit 1; }
fi
if [ -n "${REFERRERS_REGISTRY:-}" ]; then   # the verifiers add-on's olareg
  curl -sf --max-time 3 -o /dev/null "http://$REFERRERS_REGISTRY/v2/" || { echo "olareg (referrers registry) unhealthy"; exit 1; }
fi
if [ -n "${GCS_URL:-}" ]; then   # the storage add-on
  curl -sf --max-time 3 -o /dev/null "$GCS_URL/storage/v1/b?project=x" || { echo "fake-gcs-server unhealthy"; exit 1; }
  curl -sf --max-time 3 -o /dev/null -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' \
    "$ARCHIVISTA_URL/query" || { echo "archivista unhealthy"; exit 1; }
fi
echo "stack healthy"
