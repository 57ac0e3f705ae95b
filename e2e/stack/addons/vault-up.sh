#!/usr/bin/env bash
# Stack add-on: a HashiCorp Vault dev server on a free loopback port, with the transit engine enabled and one key
# per type chainsmith signs with (plus one that cannot sign), for `hashivault://` signing in the e2e tests.
# Writes VAULT_ADDR / VAULT_TOKEN (and the key names) to $STACK_DIR/env.d/vault.env; pid in pids/vault.pid.
# When Vault cannot be built here, it records CHAINSMITH_VAULT_UNAVAILABLE=<why> instead of failing the whole
# stack, and the KMS e2e tests fail with that reason.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/kms-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${VAULT_START_TIMEOUT:=60}"
ENV_FILE="$STACK_DIR/env.d/vault.env"
LOGS="$STACK_DIR/logs"
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$LOGS"
need_tool openssl "apt-get install openssl"
need_tool curl "apt-get install curl"

PID=
# unavailable WHY: records why Vault is missing (the KMS e2e tests fail with it), stops the server if it was
# started, and ends the add-on without failing the rest of the stack.
unavailable() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; rm -f "$STACK_DIR/pids/vault.pid"; fi
  printf 'export CHAINSMITH_VAULT_UNAVAILABLE=%q\n' "$1" >"$ENV_FILE"
  say "Vault is unavailable: $1"
  exit 0
}

if ! BIN=$("$ADDONS/build-vault.sh" 2>"$LOGS/vault-build.log"); then
  why=$(grep 'stack: error:' "$LOGS/vault-build.log" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300)
  unavailable "${why:-build-vault.sh failed; see $LOGS/vault-build.log}"
fi

PORT=$(free_port)
ADDR="http://127.0.0.1:$PORT"
# A fresh random root token per stack; the dev server keeps everything in memory, so nothing outlives the stack.
TOKEN="cs-dev-$(openssl rand -hex 16)"
HOME_DIR="$STACK_DIR/vault-home"
rm -rf "$HOME_DIR" && mkdir -p "$HOME_DIR"
say "starting Vault $VAULT_VERSION dev server on 127.0.0.1:$PORT"
# HOME is a scratch dir: the dev server writes the root token to ~/.vault-token, which must not be the user's.
HOME="$HOME_DIR" setsid "$BIN" server -dev -dev-root-token-id="$TOKEN" \
  -dev-listen-address="127.0.0.1:$PORT" -log-level=warn >"$LOGS/vault.log" 2>&1 </dev/null 8>&- 9>&- &
PID=$!
echo "$PID" >"$STACK_DIR/pids/vault.pid"
# (wait_until exits through die; its one-line reason becomes the unavailability record.)
if ! why=$(wait_until "$VAULT_START_TIMEOUT" "Vault" "$LOGS/vault.log" "$PID" curl -sf --max-time 2 "$ADDR/v1/sys/health" 2>&1); then
  # A Go panic names its cause on the line starting "panic:"; otherwise keep wait_until's last-line summary.
  panic=$(grep -m1 '^panic: ' "$LOGS/vault.log" | cut -c1-200 || true)
  if [ -n "$panic" ]; then unavailable "Vault $VAULT_VERSION crashed at startup: $panic; see $LOGS/vault.log"; fi
  unavailable "${why#stack: error: }"
fi

vault_api() { # vault_api METHOD PATH [JSON]: one authenticated API call; dies with the server's answer on failure
  local out
  if ! out=$(curl -sS --max-time 10 -X "$1" -H "X-Vault-Token: $TOKEN" -H 'Content-Type: application/json' \
      ${3:+--data "$3"} -w '\n%{http_code}' "$ADDR/v1/$2" 2>&1) || ! [[ "${out##*$'\n'}" =~ ^2 ]]; then
    unavailable "Vault $1 /v1/$2 failed: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200); see $LOGS/vault.log"
  fi
}
vault_api POST sys/mounts/transit '{"type":"transit"}'
# One signing key per type chainsmith supports, plus an encryption-only key for the "cannot sign" case.
KEYS="ecdsa-p256 ecdsa-p384 ecdsa-p521 ed25519 rsa-2048 aes256-gcm96"
for type in $KEYS; do
  vault_api POST "transit/keys/chainsmith-$type" "{\"type\":\"$type\"}"
done

{
  echo "# Vault $VAULT_VERSION dev server (e2e/stack/addons/vault-up.sh); transit keys: chainsmith-{$(echo $KEYS | tr ' ' ',')}"
  # One variable per line: e2e/lib/env.ts reads `export NAME=value` lines.
  printf 'export VAULT_ADDR=%q\n' "$ADDR"
  printf 'export VAULT_TOKEN=%q\n' "$TOKEN"
  printf 'export CHAINSMITH_VAULT_KEY=%q\n' "chainsmith-ecdsa-p256"
  printf 'export CHAINSMITH_VAULT_KEYS=%q\n' "$(for t in $KEYS; do printf 'chainsmith-%s ' "$t"; done | sed 's/ $//')"
  printf 'export CHAINSMITH_VAULT_BIN=%q\n' "$BIN"
} >"$ENV_FILE"
say "Vault up at $ADDR with transit keys chainsmith-{$(echo $KEYS | tr ' ' ',')}"
