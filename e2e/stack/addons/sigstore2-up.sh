#!/usr/bin/env bash
# Stack add-on: the Sigstore v2 services cosign v3 and sigstore-js sign with, next to the stack's Fulcio and Rekor v1.
# - Rekor v2 (rekor-tiles, POSIX storage in the stack's data dir) on free loopback ports (HTTP, gRPC, metrics), with an
#   ed25519 checkpoint key made for this stack; its checkpoint origin (--hostname) is 127.0.0.1, the host of
#   REKOR_V2_URL, because verifiers derive the origin from the trusted root's baseUrl (sigstore-go: its hostname;
#   sigstore-js: a match on it). Its read path (checkpoint, tiles) is static files, served by python3's http.server.
# - An RFC 3161 timestamp authority (timestamp-authority's REST API through our own main, addons/tsa/: upstream's
#   `serve` exits when *:2112 is taken, which Rekor v1 holds), with a file signer: a root and a timeStamping leaf made
#   per stack with openssl, so the chain survives a TSA restart.
# - $STACK_DIR/sigstore/trusted_root.json (Fulcio, Rekor v1, Rekor v2, the TSA; no CT log) and signing_config.json
#   (Fulcio, Rekor v2 then v1, the TSA), both made by cosign v3's `trusted-root create` / `signing-config create`;
#   signing_config.rekor-v1.json lists Rekor v1 only.
# Writes $STACK_DIR/env.d/sigstore2.env; pid files in pids/. Runs after the fulcio and rekor add-ons (alphabetical
# order). When a piece cannot be built or started, it records CHAINSMITH_SIGSTORE2_UNAVAILABLE=<the one-line error
# naming the log> instead of failing the whole stack, and the sigstore2 e2e tests fail with that reason.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/sigstore2-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${SIGSTORE2_START_TIMEOUT:=60}"
ENV_FILE="$STACK_DIR/env.d/sigstore2.env"
LOGS="$STACK_DIR/logs"
S="$STACK_DIR/sigstore"
PROCS="rekor-v2 rekor-v2-read tsa"
ORIGIN=127.0.0.1
OPERATOR=chainsmith.test
# The services' keys predate every signature of this stack; any early instant will do as the start of their validity.
VALID_FROM=2000-01-01T00:00:00Z
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$STACK_DIR/bin" "$LOGS"

# a failure records why the sigstore2 add-on (Rekor v2, TSA) is missing instead of failing the stack (common.sh addon_guard)
addon_guard sigstore2 'the sigstore2 add-on (Rekor v2, TSA)' "$PROCS"

need_tool openssl "apt-get install openssl"
need_tool curl "apt-get install curl"
need_tool python3 "apt-get install python3"

# --- binaries: ours, and cosign v3 (verifiers add-on's build; a cache hit after stack:up's build step) -------------
"$ADDONS/build-sigstore2.sh" >"$LOGS/sigstore2-build.out" 2>"$LOGS/sigstore2-build.log" || true
TILES_BIN=$(sed -n 's/^rekor-tiles //p' "$LOGS/sigstore2-build.out")
TSA_BIN=$(sed -n 's/^tsa //p' "$LOGS/sigstore2-build.out")
"$ADDONS/build-verifiers.sh" >"$LOGS/sigstore2-cosign3.out" 2>"$LOGS/sigstore2-cosign3.log" || true
COSIGN3_BIN=$(sed -n 's/^cosign3 //p' "$LOGS/sigstore2-cosign3.out")
for b in "$TILES_BIN:$LOGS/sigstore2-build.log" "$TSA_BIN:$LOGS/sigstore2-build.log" "$COSIGN3_BIN:$LOGS/sigstore2-cosign3.log"; do
  if [ -z "${b%%:*}" ] || [ ! -x "${b%%:*}" ]; then
    why=$(grep 'stack: error:' "${b#*:}" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300 || true)
    die "${why:-a build did not produce its binary; see ${b#*:}}"
  fi
done
ln -sfn "$TILES_BIN" "$STACK_DIR/bin/rekor-tiles"
ln -sfn "$TSA_BIN" "$STACK_DIR/bin/timestamp-authority"

# --- Fulcio and Rekor v1 go into the trusted root: their add-ons ran before this one --------------------------------
for a in fulcio rekor; do
  # shellcheck disable=SC1090
  [ -f "$STACK_DIR/env.d/$a.env" ] && . "$STACK_DIR/env.d/$a.env"
done
[ -z "${CHAINSMITH_FULCIO_UNAVAILABLE:-}" ] || die "the trusted root needs Fulcio, which is unavailable: $CHAINSMITH_FULCIO_UNAVAILABLE"
[ -z "${CHAINSMITH_REKOR_UNAVAILABLE:-}" ] || die "the trusted root needs Rekor v1, which is unavailable: $CHAINSMITH_REKOR_UNAVAILABLE"
[ -n "${FULCIO_URL:-}" ] && [ -s "${FULCIO_ROOT:-}" ] && [ -n "${REKOR_URL:-}" ] && [ -s "${REKOR_PUBLIC_KEY:-}" ] ||
  die "FULCIO_URL, FULCIO_ROOT, REKOR_URL or REKOR_PUBLIC_KEY is missing (the fulcio and rekor add-ons must run first); restart the stack"
DATA=$(cat "$STACK_DIR/datadir" 2>/dev/null || true)
[ -n "$DATA" ] && [ -d "$DATA" ] || die "the stack's data dir ($STACK_DIR/datadir) is missing; restart the stack"

rm -rf "$S" "$DATA/rekor-v2" && mkdir -p "$S" "$DATA/rekor-v2"
TILES="$DATA/rekor-v2"
pick_port R2_HTTP rekor-v2-http
pick_port R2_GRPC rekor-v2-grpc
pick_port R2_METRICS rekor-v2-metrics
pick_port R2_READ rekor-v2-read
pick_port TSA_PORT tsa
REKOR_V2_URL="http://$ORIGIN:$R2_HTTP"
REKOR_V2_READ_URL="http://127.0.0.1:$R2_READ"
TSA_URL="http://127.0.0.1:$TSA_PORT/api/v1/timestamp"

# --- Rekor v2 -------------------------------------------------------------------------------------------------------
{
  openssl genpkey -algorithm ed25519 -out "$S/rekor-v2.key" &&
    openssl pkey -in "$S/rekor-v2.key" -pubout -out "$S/rekor-v2.pub"
} >"$LOGS/rekor-v2-key.log" 2>&1 || die "generating Rekor v2's ed25519 key failed: $(last_line "$LOGS/rekor-v2-key.log"); see $LOGS/rekor-v2-key.log"
say "starting Rekor v2 (rekor-tiles $REKOR_TILES_VERSION) on $REKOR_V2_URL (gRPC 127.0.0.1:$R2_GRPC, origin $ORIGIN)"
R2_PID=$(start_daemon rekor-v2 "$STACK_DIR/bin/rekor-tiles" serve \
  --http-address=127.0.0.1 --http-port="$R2_HTTP" --grpc-address=127.0.0.1 --grpc-port="$R2_GRPC" \
  --http-metrics-port="$R2_METRICS" --hostname="$ORIGIN" --storage-dir="$TILES" \
  --signer-filepath="$S/rekor-v2.key" --checkpoint-interval=1s)
wait_until "$SIGSTORE2_START_TIMEOUT" "rekor-tiles" "$LOGS/rekor-v2.log" "$R2_PID" \
  sh -c 'curl -sf --max-time 2 "$1/healthz" | grep -q SERVING' healthz "$REKOR_V2_URL"
R2_READ_PID=$(start_daemon rekor-v2-read python3 -m http.server --bind 127.0.0.1 --directory "$TILES" "$R2_READ")
wait_until "$SIGSTORE2_START_TIMEOUT" "Rekor v2's read path (python3 http.server)" "$LOGS/rekor-v2-read.log" "$R2_READ_PID" \
  curl -sf --max-time 2 -o /dev/null "$REKOR_V2_READ_URL/checkpoint"

# Ready = a real hashedrekord v0.0.2 entry is accepted (the call returns once a checkpoint covers it).
probe_rekor_v2() {
  local dig sig pub
  echo "chainsmith stack probe $(date +%s%N)" >"$S/probe.txt"
  dig=$(openssl dgst -sha256 -binary "$S/probe.txt" | base64 -w0)
  sig=$(openssl dgst -sha256 -sign "$S/probe.key" "$S/probe.txt" | base64 -w0)
  pub=$(openssl pkey -in "$S/probe.key" -pubout -outform DER | base64 -w0)
  curl -sS --max-time 30 -o "$S/probe-entry.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"hashedRekordRequestV002\":{\"digest\":\"$dig\",\"signature\":{\"content\":\"$sig\",\"verifier\":{\"publicKey\":{\"rawBytes\":\"$pub\"},\"keyDetails\":\"PKIX_ECDSA_P256_SHA_256\"}}}}" \
    "$REKOR_V2_URL/api/v2/log/entries" | grep -qx 201
}
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$S/probe.key" 2>>"$LOGS/rekor-v2-key.log"
probe_rekor_v2 2>"$LOGS/rekor-v2-probe.log" ||
  die "Rekor v2 refused a hashedrekord entry: $(head -c 200 "$S/probe-entry.json" 2>/dev/null)$(last_line "$LOGS/rekor-v2-probe.log"); see $LOGS/rekor-v2.log"
grep -q '"kind":"hashedrekord","version":"0.0.2"' "$S/probe-entry.json" ||
  die "Rekor v2 answered the probe entry with something else than a hashedrekord 0.0.2 entry: $(head -c 200 "$S/probe-entry.json"); see $LOGS/rekor-v2.log"

# --- the timestamp authority ----------------------------------------------------------------------------------------
{
  printf '%s\n' '[req]' 'distinguished_name = dn' 'prompt = no' '[dn]' 'O = chainsmith-stack' 'CN = tsa-root' \
    '[v3_ca]' 'basicConstraints = critical,CA:TRUE' 'keyUsage = critical,keyCertSign,cRLSign' \
    'subjectKeyIdentifier = hash' \
    '[v3_leaf]' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature' \
    'extendedKeyUsage = critical,timeStamping' 'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' >"$S/tsa.cnf"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$S/tsa-root.key" &&
    openssl req -x509 -new -key "$S/tsa-root.key" -sha384 -days 30 -config "$S/tsa.cnf" -extensions v3_ca \
      -out "$S/tsa-root.pem" &&
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$S/tsa.key" &&
    openssl req -new -key "$S/tsa.key" -subj '/O=chainsmith-stack/CN=tsa-signer' -out "$S/tsa.csr" &&
    openssl x509 -req -in "$S/tsa.csr" -CA "$S/tsa-root.pem" -CAkey "$S/tsa-root.key" -CAcreateserial -days 30 \
      -sha384 -extfile "$S/tsa.cnf" -extensions v3_leaf -out "$S/tsa-leaf.pem" &&
    cat "$S/tsa-leaf.pem" "$S/tsa-root.pem" >"$S/tsa-chain.generated.pem"
} >"$LOGS/tsa-ca.log" 2>&1 || die "generating the TSA's certificates with openssl failed: $(last_line "$LOGS/tsa-ca.log"); see $LOGS/tsa-ca.log"
say "starting the timestamp authority $TSA_VERSION on $TSA_URL (REST API only: no metrics server on :2112)"
TSA_PID=$(start_daemon tsa "$STACK_DIR/bin/timestamp-authority" --host=127.0.0.1 --port="$TSA_PORT" \
  --file-signer-key-path="$S/tsa.key" --certificate-chain-path="$S/tsa-chain.generated.pem")
wait_until "$SIGSTORE2_START_TIMEOUT" "timestamp authority" "$LOGS/tsa.log" "$TSA_PID" \
  curl -sf --max-time 2 -o "$S/tsa-chain.pem" "$TSA_URL/certchain"
# TSA_CHAIN: the chain as served (leaf first, root last); it must be the one generated above.
[ "$(openssl crl2pkcs7 -nocrl -certfile "$S/tsa-chain.pem" 2>/dev/null | sha256sum)" = \
  "$(openssl crl2pkcs7 -nocrl -certfile "$S/tsa-chain.generated.pem" 2>/dev/null | sha256sum)" ] ||
  die "the TSA serves another chain than $S/tsa-chain.generated.pem; see $LOGS/tsa.log"
# Ready = openssl verifies a timestamp it issues, against the served chain.
{
  openssl ts -query -data "$S/probe.txt" -sha256 -cert -out "$S/probe.tsq" &&
    curl -sSf --max-time 10 -H 'Content-Type: application/timestamp-query' --data-binary @"$S/probe.tsq" \
      -o "$S/probe.tsr" "$TSA_URL" &&
    openssl ts -verify -data "$S/probe.txt" -in "$S/probe.tsr" -CAfile "$S/tsa-root.pem" -untrusted "$S/tsa-leaf.pem"
} >"$LOGS/tsa-probe.log" 2>&1 ||
  die "a timestamp from the TSA did not verify with openssl: $(last_line "$LOGS/tsa-probe.log"); see $LOGS/tsa-probe.log and $LOGS/tsa.log"

# --- trusted_root.json and signing_config.json (cosign v3 makes both: the formats of the clients that read them) ----
# svc URL API-VERSION: one service of a signing config, as `cosign signing-config create` takes it.
svc() { printf 'url=%s,api-version=%s,start-time=%s,operator=%s' "$1" "$2" "$VALID_FROM" "$OPERATOR"; }
{
  "$COSIGN3_BIN" trusted-root create --out "$S/trusted_root.json" \
    --fulcio="url=$FULCIO_URL,certificate-chain=$FULCIO_ROOT,start-time=$VALID_FROM" \
    --rekor="url=$REKOR_URL,public-key=$REKOR_PUBLIC_KEY,start-time=$VALID_FROM" \
    --rekor="url=$REKOR_V2_URL,public-key=$S/rekor-v2.pub,start-time=$VALID_FROM,origin=$ORIGIN" \
    --tsa="url=$TSA_URL,certificate-chain=$S/tsa-chain.pem,start-time=$VALID_FROM" &&
    # Rekor v2 first: with selector ANY, clients take the newest API version they speak.
    "$COSIGN3_BIN" signing-config create --out "$S/signing_config.json" \
      --fulcio="$(svc "$FULCIO_URL" 1)" \
      --rekor="$(svc "$REKOR_V2_URL" 2)" --rekor="$(svc "$REKOR_URL" 1)" --rekor-config=ANY \
      --tsa="$(svc "$TSA_URL" 1)" --tsa-config=ANY &&
    "$COSIGN3_BIN" signing-config create --out "$S/signing_config.rekor-v1.json" \
      --fulcio="$(svc "$FULCIO_URL" 1)" --rekor="$(svc "$REKOR_URL" 1)" --rekor-config=ANY \
      --tsa="$(svc "$TSA_URL" 1)" --tsa-config=ANY
} >"$LOGS/sigstore2-trust.log" 2>&1 ||
  die "cosign $COSIGN3_BIN could not write the trusted root or signing config: $(last_line "$LOGS/sigstore2-trust.log"); see $LOGS/sigstore2-trust.log"
# The Rekor v2 log ID the server stamps on its entries must be the one the trusted root lists (the signed-note key ID
# over the origin and the key), or no verifier finds the log.
node -e '
  const fs = require("fs");
  const [root, entry, url] = process.argv.slice(1);
  const logId = JSON.parse(fs.readFileSync(entry, "utf8")).logId.keyId;
  const tlog = JSON.parse(fs.readFileSync(root, "utf8")).tlogs.find((t) => t.baseUrl === url);
  if (!tlog) throw new Error(`no tlog with baseUrl ${url} in ${root}`);
  if (tlog.logId.keyId !== logId) throw new Error(`trusted root logId ${tlog.logId.keyId} != the entries logId ${logId}`);
' "$S/trusted_root.json" "$S/probe-entry.json" "$REKOR_V2_URL" >>"$LOGS/sigstore2-trust.log" 2>&1 ||
  die "Rekor v2's log ID does not match the trusted root's: $(last_line "$LOGS/sigstore2-trust.log"); see $LOGS/sigstore2-trust.log"
rm -f "$S/probe.tsq" "$S/probe.tsr" "$S/tsa.csr" "$S/tsa-root.srl"

{
  echo "# Rekor v2 (rekor-tiles $REKOR_TILES_VERSION), timestamp authority $TSA_VERSION, trust files (e2e/stack/addons/sigstore2-up.sh)"
  # One variable per line: e2e/lib/env.ts reads `export NAME=value` lines.
  printf 'export REKOR_V2_URL=%q\n' "$REKOR_V2_URL"
  printf 'export REKOR_V2_PUBLIC_KEY=%q\n' "$S/rekor-v2.pub"
  printf 'export REKOR_V2_ORIGIN=%q\n' "$ORIGIN"
  printf 'export REKOR_V2_READ_URL=%q\n' "$REKOR_V2_READ_URL"
  printf 'export TSA_URL=%q\n' "$TSA_URL"
  printf 'export TSA_CHAIN=%q\n' "$S/tsa-chain.pem"
  printf 'export SIGSTORE_TRUSTED_ROOT=%q\n' "$S/trusted_root.json"
  printf 'export SIGSTORE_SIGNING_CONFIG=%q\n' "$S/signing_config.json"
} >"$ENV_FILE"
say "sigstore2 up: Rekor v2 at $REKOR_V2_URL (origin $ORIGIN), TSA at $TSA_URL; $S/trusted_root.json, $S/signing_config.json"
