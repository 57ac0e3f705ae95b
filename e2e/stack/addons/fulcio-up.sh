#!/usr/bin/env bash
# Stack add-on: Fulcio, the certificate authority of keyless signing, trusting the stack's kube-apiserver as its one
# OIDC issuer (Fulcio's `kubernetes` type: a ServiceAccount token with audience `sigstore` gets a certificate for
# https://kubernetes.io/namespaces/<ns>/serviceaccounts/<sa>). One process on free loopback ports (HTTP, gRPC,
# metrics) and an abstract Unix socket named for this stack (the legacy v1 API cosign v2 and Chains use); a file CA
# generated per stack, so the root stays the same across a Fulcio restart; no CT log. Writes FULCIO_URL and
# FULCIO_ROOT (the CA chain PEM Fulcio serves) to $STACK_DIR/env.d/fulcio.env; its pid file in pids/. When Fulcio
# cannot be built or started, it records CHAINSMITH_FULCIO_UNAVAILABLE=<the one-line error naming the log> instead
# of failing the whole stack, and the Fulcio e2e tests fail with that reason.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/fulcio-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${FULCIO_START_TIMEOUT:=60}"
ENV_FILE="$STACK_DIR/env.d/fulcio.env"
LOGS="$STACK_DIR/logs"
F="$STACK_DIR/fulcio"
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$STACK_DIR/bin" "$LOGS"

# a failure records why Fulcio is missing instead of failing the stack (common.sh addon_guard)
addon_guard fulcio 'Fulcio' fulcio

need_tool openssl "apt-get install openssl"
need_tool curl "apt-get install curl"
BIN=$("$ADDONS/build-fulcio.sh" 2>"$LOGS/fulcio-build.log" | sed -n 's/^fulcio //p' || true)
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
  why=$(grep 'stack: error:' "$LOGS/fulcio-build.log" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300 || true)
  die "${why:-build-fulcio.sh did not produce fulcio; see $LOGS/fulcio-build.log}"
fi
ln -sfn "$BIN" "$STACK_DIR/bin/fulcio"

# --- the issuer: the stack's kube-apiserver (up.sh: --service-account-issuer, anonymous discovery) --------------
API_CA="$STACK_DIR/pki/ca.crt"
[ -n "${OIDC_ISSUER:-}" ] ||
  die "OIDC_ISSUER is not set: this stack's kube-apiserver predates the ServiceAccount issuer flags; restart the stack (npm run stack:down && npm run stack:up)"
[ -s "$API_CA" ] || die "the kube-apiserver's CA $API_CA is missing; restart the stack"
# Fulcio fetches discovery and the JWKS anonymously, over TLS trusting only ca-cert; so does this check.
discovery=$(curl -sSf --max-time 5 --cacert "$API_CA" "$OIDC_ISSUER/.well-known/openid-configuration" 2>"$LOGS/fulcio-issuer.log") ||
  die "anonymous OIDC discovery at $OIDC_ISSUER/.well-known/openid-configuration failed: $(last_line "$LOGS/fulcio-issuer.log"); see $LOGS/kube-apiserver.log"
case "$discovery" in
  *"\"issuer\":\"$OIDC_ISSUER\""*) ;;
  *) die "the kube-apiserver's discovery document names another issuer than OIDC_ISSUER=$OIDC_ISSUER: $discovery" ;;
esac

# --- a file CA per stack (fileca: the root survives a Fulcio restart; ephemeralca would make a new one) ----------
rm -rf "$F" && mkdir -p "$F"
{
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$F/ca.key"
  printf '%s\n' '[req]' 'distinguished_name = dn' 'prompt = no' 'x509_extensions = v3_ca' \
    '[dn]' 'O = chainsmith-stack' 'CN = fulcio-root' \
    '[v3_ca]' 'basicConstraints = critical,CA:TRUE' 'keyUsage = critical,keyCertSign,cRLSign' \
    'subjectKeyIdentifier = hash' >"$F/ca.cnf"
  openssl req -x509 -new -key "$F/ca.key" -sha384 -days 30 -config "$F/ca.cnf" -out "$F/ca.pem"
} >"$LOGS/fulcio-ca.log" 2>&1 || die "generating Fulcio's CA with openssl failed: $(last_line "$LOGS/fulcio-ca.log"); see $LOGS/fulcio-ca.log"

# One issuer, keyed by the token's `iss` byte for byte; `https://kubernetes.default.svc` must not be listed too, or
# every kubernetes issuer switches to the in-pod path (/var/run/fulcio/ca.crt).
{
  echo 'oidc-issuers:'
  echo "  $OIDC_ISSUER:"
  echo "    issuer-url: $OIDC_ISSUER"
  echo '    client-id: sigstore'
  echo '    type: kubernetes'
  echo '    ca-cert: |'
  sed 's/^/      /' "$API_CA"
} >"$F/config.yaml"

pick_port FULCIO_HTTP fulcio-http
pick_port FULCIO_GRPC fulcio-grpc
pick_port FULCIO_METRICS fulcio-metrics   # (bound on every interface whatever --host says)
FULCIO_URL="http://127.0.0.1:$FULCIO_HTTP"
# The legacy v1 API is a gRPC server on an abstract socket; Fulcio's default name would clash between stacks.
SOCKET="@chainsmith-fulcio-$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-16)"

say "starting Fulcio $FULCIO_VERSION on $FULCIO_URL (gRPC 127.0.0.1:$FULCIO_GRPC, issuer $OIDC_ISSUER)"
# --fileca-key-passwd must be given even for a plain key (serve refuses fileca without it); empty decrypts nothing.
# --ct-log-url= (empty): no CT log, so no SCTs; verifiers need their SCT switch (cosign --insecure-ignore-sct).
FULCIO_PID=$(start_daemon fulcio "$STACK_DIR/bin/fulcio" serve \
  --ca=fileca --fileca-cert="$F/ca.pem" --fileca-key="$F/ca.key" --fileca-key-passwd= --fileca-watch=false \
  --config-path="$F/config.yaml" --ct-log-url= \
  --host=127.0.0.1 --port="$FULCIO_HTTP" --grpc-host=127.0.0.1 --grpc-port="$FULCIO_GRPC" \
  --metrics-port="$FULCIO_METRICS" --legacy-unix-domain-socket="$SOCKET" --log_type=prod)
fulcio_ready() {
  curl -sf --max-time 2 -o "$F/root.served" "$FULCIO_URL/api/v1/rootCert" &&
    curl -sf --max-time 2 "$FULCIO_URL/api/v2/configuration" | grep -qF "\"issuerUrl\":\"$OIDC_ISSUER\""
}
wait_until "$FULCIO_START_TIMEOUT" "fulcio" "$LOGS/fulcio.log" "$FULCIO_PID" fulcio_ready
# Discovery runs once at start; a failure there is only logged (and every token would then be refused).
if grep -q 'error creating provider' "$LOGS/fulcio.log"; then
  die "Fulcio could not reach the issuer $OIDC_ISSUER: $(grep 'error creating provider' "$LOGS/fulcio.log" | tail -n 1 | cut -c1-200); see $LOGS/fulcio.log"
fi

# FULCIO_ROOT: the chain as served (no trailing newline there: add one, or a concatenated SIGSTORE_ROOT_FILE fails
# with "error during PEM decoding"); it must be the CA generated above.
{ cat "$F/root.served"; [ -z "$(tail -c 1 "$F/root.served")" ] || echo; } >"$F/root.pem"
rm -f "$F/root.served"
[ "$(openssl x509 -in "$F/root.pem" -outform DER 2>/dev/null | sha256sum)" = \
  "$(openssl x509 -in "$F/ca.pem" -outform DER 2>/dev/null | sha256sum)" ] ||
  die "Fulcio serves another root than $F/ca.pem; see $LOGS/fulcio.log"

{
  echo "# Fulcio $FULCIO_VERSION, file CA, issuer $OIDC_ISSUER (e2e/stack/addons/fulcio-up.sh)"
  # One variable per line: e2e/lib/env.ts reads `export NAME=value` lines.
  printf 'export FULCIO_URL=%q\n' "$FULCIO_URL"
  printf 'export FULCIO_ROOT=%q\n' "$F/root.pem"
  printf 'export FULCIO_GRPC=%q\n' "127.0.0.1:$FULCIO_GRPC"
} >"$ENV_FILE"
say "Fulcio up at $FULCIO_URL (root $F/root.pem)"
