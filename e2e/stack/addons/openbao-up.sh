#!/usr/bin/env bash
# Stack add-on: an OpenBao (Vault-compatible) dev server on a free loopback port, with the transit engine
# enabled and one key per type chainsmith signs with, for `hashivault://` signing in the e2e tests.
# Appends VAULT_ADDR / VAULT_TOKEN (and the key names) to $STACK_DIR/env.d/openbao.env; pid in pids/openbao.pid.
# When OpenBao cannot be built here, it records CHAINSMITH_OPENBAO_UNAVAILABLE=<why> instead of failing the
# whole stack, and the KMS e2e tests fail with that reason.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/kms-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${OPENBAO_TIMEOUT:=60}"
ENV_FILE="$STACK_DIR/env.d/openbao.env"
LOGS="$STACK_DIR/logs"
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$LOGS"

if ! BIN=$("$ADDONS/build-openbao.sh" 2>"$LOGS/openbao-build.log"); then
  why=$(grep 'stack: error:' "$LOGS/openbao-build.log" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300)
  printf 'export CHAINSMITH_OPENBAO_UNAVAILABLE=%q\n' "${why:-build-openbao.sh failed; see $LOGS/openbao-build.log}" >"$ENV_FILE"
  say "OpenBao is unavailable: ${why:-see $LOGS/openbao-build.log}"
  exit 0
fi

PORT=$(free_port)
ADDR="http://127.0.0.1:$PORT"
# A fresh random root token per stack; the dev server keeps everything in memory.
TOKEN="cs-dev-$(openssl rand -hex 12)"
HOME_DIR="$STACK_DIR/openbao-home"
rm -rf "$HOME_DIR" && mkdir -p "$HOME_DIR"
say "starting OpenBao dev server on 127.0.0.1:$PORT"
# HOME points at a scratch dir and -dev-no-store-token keeps the token out of ~/.vault-token.
HOME="$HOME_DIR" setsid "$BIN" server -dev -dev-root-token-id="$TOKEN" -dev-listen-address="127.0.0.1:$PORT" \
  -dev-no-store-token -log-level=warn >"$LOGS/openbao.log" 2>&1 </dev/null 8>&- 9>&- &
PID=$!
echo "$PID" >"$STACK_DIR/pids/openbao.pid"
wait_until "$OPENBAO_TIMEOUT" "OpenBao" "$LOGS/openbao.log" "$PID" curl -sf --max-time 2 "$ADDR/v1/sys/health"

bao_api() { # bao_api METHOD PATH [JSON]: one authenticated API call; dies with the server's answer on failure
  local out
  if ! out=$(curl -sS --max-time 10 -X "$1" -H "X-Vault-Token: $TOKEN" -H 'Content-Type: application/json' \
      ${3:+--data "$3"} -w '\n%{http_code}' "$ADDR/v1/$2" 2>&1) || ! [[ "${out##*$'\n'}" =~ ^2 ]]; then
    die "OpenBao $1 /v1/$2 failed: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200); see $LOGS/openbao.log"
  fi
}
bao_api POST sys/mounts/transit '{"type":"transit"}'
# One signing key per type chainsmith supports, plus an encryption-only key for the "cannot sign" case.
KEYS="ecdsa-p256 ecdsa-p384 ecdsa-p521 ed25519 rsa-2048 aes256-gcm96"
for type in $KEYS; do
  bao_api POST "transit/keys/chainsmith-$type" "{\"type\":\"$type\"}"
done

{
  echo "# OpenBao $OPENBAO_VERSION dev server (e2e/stack/addons/openbao-up.sh); transit keys: chainsmith-{$(echo $KEYS | tr ' ' ',')}"
  # One variable per line: e2e/lib/env.ts reads `export NAME=value` lines.
  printf 'export VAULT_ADDR=%q\n' "$ADDR"
  printf 'export VAULT_TOKEN=%q\n' "$TOKEN"
  printf 'export CHAINSMITH_VAULT_KEY=%q\n' "chainsmith-ecdsa-p256"
  printf 'export CHAINSMITH_VAULT_KEYS=%q\n' "$(for t in $KEYS; do printf 'chainsmith-%s ' "$t"; done | sed 's/ $//')"
  printf 'export CHAINSMITH_OPENBAO_BIN=%q\n' "$BIN"
} >"$ENV_FILE"
say "OpenBao up at $ADDR with transit keys chainsmith-{$(echo $KEYS | tr ' ' ',')}"
