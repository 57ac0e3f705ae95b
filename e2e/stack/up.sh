#!/usr/bin/env bash
# npm run stack:up — starts the local test stack: etcd + kube-apiserver with the Tekton v1 CRDs,
# an OCI registry (Debian docker-registry) and cosign, all on free loopback ports, then the add-ons
# in e2e/stack/addons/*-up.sh. Writes .stack/env (sourceable). Builds missing pieces once into
# ~/.cache/chainsmith. Idempotent: a live, healthy stack is left alone; a stale one is cleaned up.
set -euo pipefail
. "$(dirname "$0")/common.sh"

export STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
LOGS="$STACK_DIR/logs"
: "${STACK_LOCK_TIMEOUT:=3600}"   # another stack:up may be doing a cold build
: "${ETCD_TIMEOUT:=60}" "${APISERVER_TIMEOUT:=180}" "${CRD_TIMEOUT:=120}" "${REGISTRY_TIMEOUT:=60}" "${ADDON_TIMEOUT:=3600}"

mkdir -p "$STACK_DIR"
exec 8>"$STACK_DIR/.lock"
if ! flock -n 8; then
  say "another stack:up/down is running in this checkout; waiting (at most ${STACK_LOCK_TIMEOUT}s)"
  flock -w "$STACK_LOCK_TIMEOUT" 8 || die "timed out waiting for $STACK_DIR/.lock held by another stack:up/down"
fi

# addons_to_run [missing]: the executable add-ons, in order; with `missing`, only those that have not
# written their env.d file yet (added since the stack started). None with STACK_SKIP_ADDONS (bench/).
addons_to_run() {
  local a
  [ -n "${STACK_SKIP_ADDONS:-}" ] && return 0
  for a in "$STACK_SCRIPTS"/addons/*-up.sh; do
    [ -x "$a" ] || continue
    [ "${1:-}" = missing ] && [ -f "$STACK_DIR/env.d/$(basename "$a" -up.sh).env" ] && continue
    echo "$a"
  done
}

# run_addon SCRIPT: one add-on; it may build its server on a cold machine, so progress lines and a
# generous timeout. It appends exports to env.d/<name>.env and pid files to pids/.
run_addon() {
  local name why
  name=$(basename "$1" -up.sh)
  say "starting add-on $name"
  RUN_NICE=0 BUILD_TIMEOUT=$ADDON_TIMEOUT run_logged "add-on $name" "$LOGS/addon-$name.log" \
    env STACK_DIR="$STACK_DIR" CHAINSMITH_CACHE="$CACHE" KUBECONFIG="$KUBECONFIG" KUBECTL="$KUBECTL" \
    CHAINSMITH_REGISTRY="$CHAINSMITH_REGISTRY" "$1" 8>&-
  # An add-on that could not start its server says why in its env file (its e2e tests fail with that reason).
  # shellcheck disable=SC1090
  # (unset first: on a live stack, .stack/env was sourced and may hold this add-on's reason from an earlier try)
  why=$(v="CHAINSMITH_${name^^}_UNAVAILABLE"; unset "$v"; . "$STACK_DIR/env.d/$name.env"; echo "${!v:-}") 2>/dev/null || true
  [ -z "$why" ] || say "add-on $name is unavailable: $why"
}

# write_env_file: .stack/env = every env.d/*.env; its presence means "up", so it is written last.
write_env_file() {
  {
    echo "# Written by e2e/stack/up.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ); source it: . .stack/env"
    cat "$STACK_DIR"/env.d/*.env
  } >"$STACK_DIR/env.tmp"
  mv "$STACK_DIR/env.tmp" "$STACK_DIR/env"
}

# install_chainsmith_crds: chainsmith's own CRDs from the checkout (manifests/crds). Applied, not created: a live
# stack picks up edits to them on the next stack:up, and a test's `kubectl apply -k manifests` updates them quietly.
CHAINSMITH_CRDS=(signingpolicies.chainsmith.dev signingpolicygrants.chainsmith.dev)
install_chainsmith_crds() {
  timeout 60 "$KUBECTL" apply -f "$REPO_ROOT/manifests/crds" >>"$LOGS/crds.log" 2>&1 ||
    die "installing chainsmith's CRDs (manifests/crds) failed: $(last_line "$LOGS/crds.log"); see $LOGS/crds.log"
}

# --- already up? -----------------------------------------------------------------------------
if [ -f "$STACK_DIR/env" ]; then
  if STACK_DIR="$STACK_DIR" "$STACK_SCRIPTS/health.sh" >/dev/null 2>&1; then
    # A live stack gets the checkout's CRDs (new or edited since it started); Established is checked by the tests.
    # shellcheck disable=SC1091
    (. "$STACK_DIR/env" && install_chainsmith_crds)
    mapfile -t new_addons < <(addons_to_run missing)
    if [ "${#new_addons[@]}" -eq 0 ]; then
      say "stack already up ($STACK_DIR/env)"
      exit 0
    fi
    # A live stack is kept; only add-ons added since it started are brought up.
    # shellcheck disable=SC1091
    . "$STACK_DIR/env"
    for a in "${new_addons[@]}"; do run_addon "$a"; done
    write_env_file
    say "stack already up; started the new add-ons ($STACK_DIR/env)"
    exit 0
  fi
  say "found a stale or unhealthy stack in $STACK_DIR (crashed or interrupted run); cleaning it up"
fi
if [ -n "$(ls -A "$STACK_DIR/pids" 2>/dev/null)" ] || [ -f "$STACK_DIR/datadir" ] || [ -f "$STACK_DIR/env" ]; then
  STACK_LOCK_HELD=1 "$STACK_SCRIPTS/down.sh" >&2
fi

# Anything below that fails leaves no process behind: down.sh stops what was started so far.
started=0
cleanup_on_failure() {
  local rc=$?
  if [ "$started" -ne 1 ]; then
    say "stack:up did not finish; stopping what it started (logs kept in $LOGS)"
    STACK_LOCK_HELD=1 "$STACK_SCRIPTS/down.sh" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap cleanup_on_failure EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
# --- tools ------------------------------------------------------------------------------------
need_tool node "Node.js 20.19+ is required"
need_tool openssl "apt-get install openssl"
need_tool curl "apt-get install curl"
need_tool flock "apt-get install util-linux"
[ -d "$REPO_ROOT/node_modules/yaml" ] || die "node_modules missing in $REPO_ROOT: run npm ci first"
KUBECTL=${KUBECTL:-}
if [ -z "$KUBECTL" ]; then
  for k in /usr/lib/google-cloud-sdk/bin/kubectl.1.33 /usr/bin/kubectl "$(command -v kubectl || true)"; do
    [ -n "$k" ] && [ -x "$k" ] && { KUBECTL=$k; break; }
  done
fi
[ -n "$KUBECTL" ] || die "kubectl not found (looked for /usr/lib/google-cloud-sdk/bin/kubectl.1.33, /usr/bin/kubectl; set KUBECTL)"
[ -x "$KUBECTL" ] || die "KUBECTL=$KUBECTL is not an executable file"
REGISTRY_BIN=$(command -v docker-registry || true)
if [ -z "$REGISTRY_BIN" ]; then
  apt_install docker-registry docker-registry
  REGISTRY_BIN=$(command -v docker-registry) ||
    die "docker-registry still missing after apt-get install; see $BUILD_LOGS/build-apt-docker-registry.log"
fi

# --- builds (each one takes the shared Go build lock; a cache hit is instant) -------------------
APISERVER_BIN=$("$STACK_SCRIPTS/build-apiserver.sh")
ETCD_BIN=$("$STACK_SCRIPTS/build-etcd.sh")
COSIGN_BIN=$("$STACK_SCRIPTS/build-cosign.sh")
CRDS=$("$STACK_SCRIPTS/prepare-tekton-crds.sh")
# Add-ons' own builds (e2e/stack/addons/build-*.sh, e.g. Vault: ~20 min cold) run here under BUILD_TIMEOUT
# rather than inside ADDON_TIMEOUT; a failure is not fatal: the add-on then records why its server is missing.
for b in "$STACK_SCRIPTS"/addons/build-*.sh; do
  [ -n "${STACK_SKIP_ADDONS:-}" ] && break
  [ -f "$b" ] || continue
  bash "$b" >/dev/null || say "add-on build $(basename "$b") failed; its add-on will record why"
done
T_BUILT=$(date +%s)

# --- layout -----------------------------------------------------------------------------------
rm -rf "$LOGS" "$STACK_DIR/pids" "$STACK_DIR/env.d" "$STACK_DIR/bin" "$STACK_DIR/pki"
mkdir -p "$LOGS" "$STACK_DIR/pids" "$STACK_DIR/env.d" "$STACK_DIR/bin" "$STACK_DIR/pki"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/chainsmith-stack.XXXXXX")
echo "$DATA" >"$STACK_DIR/datadir"
ln -s "$APISERVER_BIN" "$STACK_DIR/bin/kube-apiserver"
ln -s "$ETCD_BIN" "$STACK_DIR/bin/etcd"
ln -s "$COSIGN_BIN" "$STACK_DIR/bin/cosign"
ln -s "$KUBECTL" "$STACK_DIR/bin/kubectl"

pick_port ETCD_PORT etcd "${STACK_ETCD_PORT:-}"
pick_port ETCD_PEER_PORT etcd-peer
pick_port API_PORT kube-apiserver "${STACK_APISERVER_PORT:-}"
pick_port REGISTRY_PORT registry "${STACK_REGISTRY_PORT:-}"

# --- etcd -------------------------------------------------------------------------------------
say "starting etcd $ETCD_VERSION on 127.0.0.1:$ETCD_PORT"
ETCD_URL="http://127.0.0.1:$ETCD_PORT"
ETCD_PID=$(start_daemon etcd "$ETCD_BIN" --name chainsmith --data-dir "$DATA/etcd" \
  --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "chainsmith=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes=4294967296 --log-level=warn)
wait_until "$ETCD_TIMEOUT" "etcd" "$LOGS/etcd.log" "$ETCD_PID" curl -sf --max-time 2 "$ETCD_URL/health"

# --- kube-apiserver ---------------------------------------------------------------------------
PKI="$STACK_DIR/pki"
{
  # Our own CA and a serving cert valid for 127.0.0.1 and localhost, so Node and kubectl verify TLS.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=chainsmith-stack-ca \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt"
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$PKI/apiserver.ext"
  openssl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -extfile "$PKI/apiserver.ext" -out "$PKI/apiserver.crt"
  openssl genrsa -out "$PKI/sa.key" 2048
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
} >"$LOGS/openssl.log" 2>&1 || die "generating certificates with openssl failed: $(last_line "$LOGS/openssl.log"); see $LOGS/openssl.log"
ADMIN_TOKEN=$(openssl rand -hex 24)
umask 077
printf '%s,chainsmith-admin,uid-admin,"system:masters"\n' "$ADMIN_TOKEN" >"$PKI/tokens.csv"
umask 022

say "starting kube-apiserver $K8S_VERSION on 127.0.0.1:$API_PORT"
API_URL="https://127.0.0.1:$API_PORT"
# The API server is an OIDC issuer for its ServiceAccount tokens (Fulcio's `kubernetes` issuer trusts it): the first
# --service-account-issuer signs new tokens and must be https for discovery to be served; the in-cluster name stays
# accepted. The JWKS URI defaults to the first non-loopback address, so it is pinned to loopback.
export OIDC_ISSUER=$API_URL
API_PID=$(start_daemon kube-apiserver "$APISERVER_BIN" \
  --etcd-servers="$ETCD_URL" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --cert-dir="$PKI" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --token-auth-file="$PKI/tokens.csv" \
  --authorization-mode=RBAC --anonymous-auth=true \
  --service-account-issuer="$OIDC_ISSUER" --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-jwks-uri="$OIDC_ISSUER/openid/v1/jwks" \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --disable-admission-plugins=ServiceAccount \
  --endpoint-reconciler-type=none \
  --enable-priority-and-fairness=false \
  --allow-privileged=true \
  --profiling=false --v=1)
wait_until "$APISERVER_TIMEOUT" "kube-apiserver" "$LOGS/kube-apiserver.log" "$API_PID" \
  curl -sf --max-time 3 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" "$API_URL/readyz"

KUBECONFIG_FILE="$STACK_DIR/admin.kubeconfig"
umask 077
cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: chainsmith-stack
  cluster:
    server: $API_URL
    certificate-authority: $PKI/ca.crt
users:
- name: admin
  user:
    token: $ADMIN_TOKEN
contexts:
- name: admin
  context:
    cluster: chainsmith-stack
    user: admin
current-context: admin
EOF
umask 022
export KUBECONFIG=$KUBECONFIG_FILE

# Issuer discovery (/.well-known/openid-configuration, /openid/v1/jwks) for anonymous clients such as Fulcio: the
# role is bound only to system:serviceaccounts by default.
timeout 60 "$KUBECTL" create clusterrolebinding chainsmith-service-account-issuer-discovery \
  --clusterrole=system:service-account-issuer-discovery --group=system:unauthenticated >"$LOGS/oidc.log" 2>&1 ||
  die "binding system:service-account-issuer-discovery to system:unauthenticated failed: $(last_line "$LOGS/oidc.log"); see $LOGS/oidc.log"
wait_until 30 "anonymous OIDC discovery at $OIDC_ISSUER" "$LOGS/oidc.log" "$API_PID" \
  curl -sf --max-time 3 --cacert "$PKI/ca.crt" "$OIDC_ISSUER/.well-known/openid-configuration"

# --- Tekton CRDs, and chainsmith's own (manifests/crds: SigningPolicy, SigningPolicyGrant) ------------
say "installing Tekton Pipelines $TEKTON_PIPELINE_VERSION CRDs (v1 only) and chainsmith's CRDs"
timeout 120 "$KUBECTL" create -f "$CRDS" >"$LOGS/crds.log" 2>&1 ||
  die "installing the Tekton CRDs failed: $(last_line "$LOGS/crds.log"); see $LOGS/crds.log"
install_chainsmith_crds
# (kubectl wait errors out instead of waiting while a fresh CRD has no conditions yet, so poll.)
crds_established() {
  local c
  for c in tasks.tekton.dev taskruns.tekton.dev pipelines.tekton.dev pipelineruns.tekton.dev "${CHAINSMITH_CRDS[@]}"; do
    [ "$(timeout 10 "$KUBECTL" get crd "$c" -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}' 2>>"$LOGS/crds.log")" = True ] || return 1
  done
}
wait_until "$CRD_TIMEOUT" "Tekton and chainsmith CRDs (Established)" "$LOGS/crds.log" "$API_PID" crds_established

# --- registry -----------------------------------------------------------------------------------
say "starting docker-registry on 127.0.0.1:$REGISTRY_PORT"
mkdir -p "$DATA/registry"
cat >"$STACK_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DATA/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
REGISTRY_PID=$(start_daemon registry "$REGISTRY_BIN" serve "$STACK_DIR/registry.yml")
wait_until "$REGISTRY_TIMEOUT" "docker-registry" "$LOGS/registry.log" "$REGISTRY_PID" \
  curl -sf --max-time 2 "http://127.0.0.1:$REGISTRY_PORT/v2/"

# --- env ----------------------------------------------------------------------------------------
write_exports() {
  local k
  for k in "$@"; do printf 'export %s=%q\n' "$k" "${!k}"; done
}
export CHAINSMITH_REGISTRY="127.0.0.1:$REGISTRY_PORT"
export COSIGN="$STACK_DIR/bin/cosign"
export CHAINSMITH_STACK_APISERVER=$API_URL CHAINSMITH_STACK_ETCD=$ETCD_URL
write_exports STACK_DIR KUBECONFIG KUBECTL CHAINSMITH_REGISTRY COSIGN CHAINSMITH_CACHE \
  CHAINSMITH_STACK_APISERVER CHAINSMITH_STACK_ETCD OIDC_ISSUER >"$STACK_DIR/env.d/00-core.env"

# --- add-ons: each appends exports to env.d/<name>.env and pid files to pids/ -------------------
mapfile -t all_addons < <(addons_to_run)
for addon in "${all_addons[@]}"; do run_addon "$addon"; done
write_env_file
started=1
T1=$(date +%s)
say "stack up in $((T1 - T0))s (builds/cache $((T_BUILT - T0))s): apiserver $API_URL, registry $CHAINSMITH_REGISTRY; . $STACK_DIR/env"
