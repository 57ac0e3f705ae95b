#!/usr/bin/env bash
# npm run demo — chainsmith end to end on your laptop, in one command.
#
#   1. brings up the local stack (kube-apiserver + etcd with the Tekton CRDs, an OCI registry, cosign;
#      the first run builds them from source into ~/.cache/chainsmith and takes a while);
#   2. generates a cosign key pair as the `signing-secrets` and writes a `chains-config`;
#   3. builds chainsmith and starts its controller against the stack;
#   4. pushes two sample images, then completes a build TaskRun and a PipelineRun that report them;
#   5. waits for `chains.tekton.dev/signed: "true"` and prints the runs' annotations;
#   6. verifies the images' signatures and SLSA provenance with the real `cosign` CLI
#      (`cosign verify`, `cosign verify-attestation` with a builder.id CUE policy);
#   7. cleans up: stops the controller, deletes the key, and stops the stack (unless --keep).
#
# Usage: npm run demo [-- --keep]
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: npm run demo [-- --keep]

Runs chainsmith against a local Kubernetes API server and OCI registry, signs a sample
TaskRun and PipelineRun, and verifies the result with cosign.

  --keep   leave the stack, the demo namespace and the key pair in place afterwards, to explore
           (the demo prints the commands); stop the stack later with `npm run stack:down`
  --help   this text

Prerequisites: Node.js 20.19+, Go 1.26 at /usr/local/go (the first run builds kube-apiserver,
etcd and cosign from the Go module proxy), Debian/Ubuntu with apt (for docker-registry), openssl,
curl. Nothing is installed outside ~/.cache/chainsmith and this checkout, except the
docker-registry apt package.
USAGE
}

KEEP=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'demo: unknown option %s\n\n' "$arg" >&2; usage >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DEMO_NS=${DEMO_NAMESPACE:-demo}                  # where the sample runs are created
SYSTEM_NS=${DEMO_SYSTEM_NAMESPACE:-chainsmith-demo} # where chains-config and the Lease live
BUILDER_ID=https://chainsmith.dev/demo/builder
# The stack's state directory; the stack scripts honour the same variable (default .stack).
export STACK_DIR=${STACK_DIR:-$ROOT/.stack}
T0=$(date +%s)

# --- output helpers ------------------------------------------------------------------------------
if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'; else B='' G='' R='' D='' N=''; fi
elapsed() { local s=$(( $(date +%s) - T0 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
step() { printf '\n%s[demo %s] ▶ %s%s\n' "$B" "$(elapsed)" "$*" "$N"; }
info() { printf '%s[demo %s]%s   %s\n' "$D" "$(elapsed)" "$N" "$*"; }
ok() { printf '%s[demo %s]   ✓ %s%s\n' "$G" "$(elapsed)" "$*" "$N"; }
fail() { printf '%s[demo %s]   ✗ %s%s\n' "$R" "$(elapsed)" "$*" "$N" >&2; exit 1; }

# run_with_progress LABEL LOG CMD...: runs a long step with its output in LOG, printing the step's
# latest progress line (what is being built) with the elapsed time every 15 s, so a cold build
# that takes many minutes never looks hung. On failure, shows the end of the log.
run_with_progress() {
  local label=$1 log=$2; shift 2
  local start rc=0 pid last=''
  start=$(date +%s)
  "$@" >"$log" 2>&1 </dev/null &
  pid=$!
  STEP_PID=$pid
  while kill -0 "$pid" 2>/dev/null; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    kill -0 "$pid" 2>/dev/null || break
    last=$(grep -v '^[[:space:]]*$' "$log" 2>/dev/null | tail -n 1 | cut -c1-140 || true)
    info "… $label: $(( $(date +%s) - start ))s${last:+  — $last}"
  done
  wait "$pid" || rc=$?
  STEP_PID=''
  if [ "$rc" -ne 0 ]; then
    printf '%s--- last lines of %s ---%s\n' "$R" "$log" "$N" >&2
    tail -n 20 "$log" >&2
    fail "$label failed (exit $rc); full log: $log"
  fi
  ok "$label ($(( $(date +%s) - start ))s)"
}

# --- cleanup --------------------------------------------------------------------------------------
WORK=''
STEP_PID=''        # a long step running in the background (background jobs ignore Ctrl-C)
CONTROLLER_PID=''
STACK_STARTED_BY_DEMO=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$STEP_PID" ] && kill -0 "$STEP_PID" 2>/dev/null; then
    kill -TERM "$STEP_PID" 2>/dev/null || true   # stack:up stops what it started when terminated
    wait "$STEP_PID" 2>/dev/null || true
  fi
  if [ -n "$CONTROLLER_PID" ] && kill -0 "$CONTROLLER_PID" 2>/dev/null; then
    kill -TERM "$CONTROLLER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$CONTROLLER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$CONTROLLER_PID" 2>/dev/null || true
  fi
  if [ "$KEEP" -eq 1 ]; then
    printf '\n%sKept for you to explore:%s\n' "$B" "$N"
    printf '  . %s/env   # KUBECONFIG, CHAINSMITH_REGISTRY, COSIGN, KUBECTL\n' "$STACK_DIR"
    # shellcheck disable=SC2016 # $KUBECTL is printed for the reader to type, after sourcing the env file
    printf '  $KUBECTL -n %s get taskruns,pipelineruns -o yaml\n' "$DEMO_NS"
    # shellcheck disable=SC2016
    printf '  $KUBECTL -n %s get events\n' "$DEMO_NS"
    [ -n "$WORK" ] && printf '  key pair and logs: %s (cosign.pub, controller.log)\n' "$WORK"
    printf '  npm run stack:down   # when you are done\n'
  else
    if [ -n "$WORK" ]; then
      if [ "$rc" -eq 0 ]; then
        rm -rf "$WORK"
      else
        # Keep the logs the error pointed at; never leave the private key behind.
        rm -rf "$WORK/signing-secrets"
        printf '%s[demo %s] logs kept in %s%s\n' "$D" "$(elapsed)" "$WORK" "$N" >&2
      fi
    fi
    if [ "$STACK_STARTED_BY_DEMO" -eq 1 ]; then
      info "stopping the stack (npm run stack:down; keep it next time with: npm run demo -- --keep)"
      bash e2e/stack/down.sh >/dev/null 2>&1 || info "stack:down reported a problem; run npm run stack:down"
    fi
  fi
  if [ "$rc" -eq 0 ]; then
    printf '\n%s[demo %s] done.%s\n' "$G" "$(elapsed)" "$N"
  else
    printf '\n%s[demo %s] the demo failed (exit %s).%s\n' "$R" "$(elapsed)" "$rc" "$N" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 0. prerequisites ------------------------------------------------------------------------------
step "checking prerequisites"
command -v node >/dev/null || fail "Node.js 20.19+ is required (node not found)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  fail "Node.js 20.19+ is required (found $(node --version))"
for tool in npm openssl curl flock; do command -v "$tool" >/dev/null || fail "$tool is required"; done
info "node $(node --version), npm $(npm --version)"
if [ ! -d node_modules/tsx ] || [ ! -d node_modules/yaml ]; then
  # Under the same lock as .ci/run, so it cannot race another npm install in this checkout.
  run_with_progress "installing npm dependencies (npm ci)" "${TMPDIR:-/tmp}/chainsmith-demo-npm-ci.log" \
    flock /tmp/chainsmith-npm.lock npm ci --no-audit --no-fund
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chainsmith-demo.XXXXXX")
chmod 700 "$WORK"

# --- 1. the stack ----------------------------------------------------------------------------------
step "bringing up the local stack (npm run stack:up)"
if [ -f "$STACK_DIR/env" ] && bash e2e/stack/health.sh >/dev/null 2>&1; then
  info "a healthy stack is already running; using it (and leaving it running afterwards)"
else
  STACK_STARTED_BY_DEMO=1
  if ls "${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}"/bin/kube-apiserver-* >/dev/null 2>&1; then
    info "the stack's binaries are cached in ${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith}: this takes seconds"
  else
    info "first run on this machine: kube-apiserver, etcd and cosign are built from source into"
    info "${CHAINSMITH_CACHE:-$HOME/.cache/chainsmith} (once): expect 20-40 minutes on 2 cores. Progress every 15 s:"
  fi
  # the demo signs with a file key: the KMS test server add-on (Vault, a long cold build) is not needed
  HEARTBEAT_SECONDS=15 run_with_progress "stack:up" "$WORK/stack-up.log" env STACK_SKIP_ADDONS=1 bash e2e/stack/up.sh
fi
# shellcheck disable=SC1091
. "$STACK_DIR/env"
: "${KUBECONFIG:?$STACK_DIR/env has no KUBECONFIG}" "${CHAINSMITH_REGISTRY:?$STACK_DIR/env has no CHAINSMITH_REGISTRY}"
: "${COSIGN:?$STACK_DIR/env has no COSIGN}"
KUBECTL=${KUBECTL:-kubectl}
export KUBECONFIG CHAINSMITH_REGISTRY COSIGN KUBECTL
info "API server: $($KUBECTL config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
info "registry:   http://$CHAINSMITH_REGISTRY"
info "cosign:     $("$COSIGN" version 2>/dev/null | sed -n 's/^GitVersion: *//p')"

# --- 2. key pair and chains-config ----------------------------------------------------------------
step "generating a cosign key pair as the signing-secrets"
SECRETS="$WORK/signing-secrets"
mkdir -m 700 "$SECRETS"
PASSWORD=$(openssl rand -hex 16)
(cd "$SECRETS" && COSIGN_PASSWORD=$PASSWORD "$COSIGN" generate-key-pair >"$WORK/generate-key-pair.log" 2>&1) ||
  fail "cosign generate-key-pair failed; see $WORK/generate-key-pair.log"
# The mounted Secret holds the password verbatim, without a trailing newline.
printf '%s' "$PASSWORD" >"$SECRETS/cosign.password"
mv "$SECRETS/cosign.pub" "$WORK/cosign.pub"     # the public half is for verifiers, not the controller
ok "$SECRETS: cosign.key (encrypted) + cosign.password; public key $WORK/cosign.pub"
info "on a cluster this is the Secret: kubectl -n tekton-chains create secret generic signing-secrets --from-file=cosign.key --from-file=cosign.password"

step "writing the chains-config ConfigMap in namespace $SYSTEM_NS"
for ns in "$SYSTEM_NS" "$DEMO_NS"; do
  $KUBECTL get namespace "$ns" >/dev/null 2>&1 || $KUBECTL create namespace "$ns" >/dev/null
done
# The stack runs no kube-controller-manager, which would create the runs' `default` ServiceAccount.
$KUBECTL -n "$DEMO_NS" get serviceaccount default >/dev/null 2>&1 || $KUBECTL -n "$DEMO_NS" create serviceaccount default >/dev/null
$KUBECTL -n "$SYSTEM_NS" create configmap chains-config \
  --from-literal=artifacts.taskrun.format=slsa/v1 \
  --from-literal=artifacts.taskrun.storage=tekton,oci \
  --from-literal=artifacts.pipelinerun.format=slsa/v1 \
  --from-literal=artifacts.pipelinerun.storage=tekton,oci \
  --from-literal=artifacts.oci.storage=oci \
  --from-literal=builder.id="$BUILDER_ID" \
  --dry-run=client -o yaml | $KUBECTL apply -f - >/dev/null
info "artifacts.{taskrun,pipelinerun}: format slsa/v1 (SLSA v0.2), storage tekton,oci (run annotations + registry)"
info "artifacts.oci: storage oci (image signatures in the registry); builder.id $BUILDER_ID"

# --- 3. the controller -----------------------------------------------------------------------------
step "building chainsmith (npm run build)"
run_with_progress "npm run build" "$WORK/build.log" npm run build
METRICS_PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})')

step "starting the controller"
info "SYSTEM_NAMESPACE=$SYSTEM_NS node dist/src/cli/main.js controller --namespace $DEMO_NS --signing-secrets-dir $SECRETS --metrics-addr 127.0.0.1:$METRICS_PORT"
SYSTEM_NAMESPACE=$SYSTEM_NS setsid node dist/src/cli/main.js controller \
  --kubeconfig "$KUBECONFIG" \
  --namespace "$DEMO_NS" \
  --signing-secrets-dir "$SECRETS" \
  --metrics-addr "127.0.0.1:$METRICS_PORT" \
  --leader-elect=false \
  >"$WORK/controller.log" 2>&1 </dev/null &
CONTROLLER_PID=$!
for i in $(seq 1 120); do
  curl -sf --max-time 1 "http://127.0.0.1:$METRICS_PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$CONTROLLER_PID" 2>/dev/null || { tail -n 20 "$WORK/controller.log" >&2; fail "the controller exited; log: $WORK/controller.log"; }
  [ "$i" -lt 120 ] || { tail -n 20 "$WORK/controller.log" >&2; fail "the controller was not ready after 60 s; log: $WORK/controller.log"; }
  sleep 0.5
done
ok "controller ready (pid $CONTROLLER_PID): http://127.0.0.1:$METRICS_PORT/{healthz,readyz,metrics}; log: $WORK/controller.log"

# --- 4. sample images and runs ---------------------------------------------------------------------
step "pushing two sample images to the registry"
node --import tsx e2e/demo/push-image.ts "$CHAINSMITH_REGISTRY/demo/app" >"$WORK/image-app.json"
node --import tsx e2e/demo/push-image.ts "$CHAINSMITH_REGISTRY/demo/web" >"$WORK/image-web.json"
json() { node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.stdout.write(String(process.argv[2].split(".").reduce((a,k)=>a?.[k],o)??""))' "$@"; }
APP="$(json "$WORK/image-app.json" repository)@$(json "$WORK/image-app.json" digest)"
WEB="$(json "$WORK/image-web.json" repository)@$(json "$WORK/image-web.json" digest)"
ok "$APP"
ok "$WEB"

step "running a build TaskRun (image app) and a PipelineRun (image web) to completion"
info "the runs are completed the way the Tekton controller completes them: status, results IMAGE_URL/IMAGE_DIGEST, step imageIDs"
node --import tsx e2e/demo/sample-runs.ts create "$DEMO_NS" "$WORK/image-app.json" "$WORK/image-web.json" >"$WORK/runs.json"
node --import tsx e2e/demo/sample-runs.ts describe "$WORK/runs.json"

step "waiting for chainsmith to sign them (chains.tekton.dev/signed)"
if ! node --import tsx e2e/demo/sample-runs.ts wait "$WORK/runs.json" 120; then
  printf '%s--- controller log (last 30 lines) ---%s\n' "$R" "$N" >&2
  tail -n 30 "$WORK/controller.log" >&2
  fail "not every run was signed; see the Events above and $WORK/controller.log"
fi

# --- 5. verification with cosign -------------------------------------------------------------------
VERIFY_FLAGS=(--key "$WORK/cosign.pub" --insecure-ignore-tlog=true --allow-http-registry=true)
POLICY=e2e/demo/builder.cue   # requires predicate.builder.id == the demo builder.id

for image in "$APP" "$WEB"; do
  step "cosign verify $image"
  info "$COSIGN verify ${VERIFY_FLAGS[*]} $image"
  "$COSIGN" verify "${VERIFY_FLAGS[@]}" "$image" >"$WORK/verify.json" 2>"$WORK/verify.err" ||
    { cat "$WORK/verify.err" >&2; fail "cosign verify rejected $image"; }
  node --import tsx e2e/demo/explain-verification.ts signature "$WORK/verify.json"

  step "cosign verify-attestation --type slsaprovenance --policy builder.cue $image"
  info "policy (builder.cue): predicate.builder.id must be \"$BUILDER_ID\""
  "$COSIGN" verify-attestation "${VERIFY_FLAGS[@]}" --type slsaprovenance --policy "$POLICY" "$image" \
    >"$WORK/attest.json" 2>"$WORK/attest.err" ||
    { cat "$WORK/attest.err" >&2; fail "cosign verify-attestation rejected $image"; }
  node --import tsx e2e/demo/explain-verification.ts attestation "$WORK/attest.json"
done

step "the same provenance check with the Rego policy from docs/policies/builder.rego"
sed "s#https://tekton.dev/chains/v2#$BUILDER_ID#" docs/policies/builder.rego >"$WORK/builder.rego"
info "allow { input.predicateType == \"https://slsa.dev/provenance/v0.2\"; input.predicate.builder.id == \"$BUILDER_ID\" }"
"$COSIGN" verify-attestation "${VERIFY_FLAGS[@]}" --type slsaprovenance --policy "$WORK/builder.rego" "$APP" \
  >"$WORK/attest-rego.json" 2>"$WORK/attest-rego.err" ||
  { cat "$WORK/attest-rego.err" >&2; fail "cosign verify-attestation rejected $APP with builder.rego"; }
ok "builder.rego allowed the provenance of $APP"

step "the same checks without cosign: chainsmith verify $WEB"
info "node dist/src/cli/main.js verify --key cosign.pub --predicate-type slsaprovenance --builder-id $BUILDER_ID $WEB"
node dist/src/cli/main.js verify --key "$WORK/cosign.pub" --predicate-type slsaprovenance --builder-id "$BUILDER_ID" "$WEB" \
  >"$WORK/chainsmith-verify.txt" 2>&1 ||
  { cat "$WORK/chainsmith-verify.txt" >&2; fail "chainsmith verify rejected $WEB"; }
# The summary: the verdict and one line per link of the chain (digest, signature, attestation, type, builder).
sed -n '1,/^$/p;/^  [A-Z]\{4\}  /p' "$WORK/chainsmith-verify.txt" | awk 'NF && !seen[$0]++' | head -8 | sed 's/^/    /'

step "the policy has teeth: the same check with a builder.id nobody signed with must fail"
sed "s#$BUILDER_ID#https://example.com/some-other-builder#" "$POLICY" >"$WORK/other-builder.cue"
if "$COSIGN" verify-attestation "${VERIFY_FLAGS[@]}" --type slsaprovenance --policy "$WORK/other-builder.cue" "$APP" \
  >/dev/null 2>"$WORK/attest-other.err"; then
  fail "cosign accepted a policy requiring another builder.id; the attestation does not carry the configured builder.id"
fi
# Rejected for the right reason: the policy, not the signature (the key is the right one).
grep -qiE 'polic|validation' "$WORK/attest-other.err" ||
  { cat "$WORK/attest-other.err" >&2; fail "cosign rejected the attestation, but not because of the builder.id policy"; }
ok "rejected by the policy: $(grep -m1 -E '^- |^Error' "$WORK/attest-other.err" | sed 's/^- //' | cut -c1-160)"


step "summary"
ok "chainsmith signed 1 TaskRun, 1 PipelineRun (and its child TaskRun) and 2 images with the generated key"
ok "cosign verified the image signatures (.sig) and the SLSA v0.2 provenance (.att) with builder.id $BUILDER_ID"
info "install on a cluster: kubectl apply -k manifests (README.md, docs/install.md); verify: docs/verify.md"
