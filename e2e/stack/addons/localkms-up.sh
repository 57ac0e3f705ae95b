#!/usr/bin/env bash
# Stack add-on: local-kms (AWS KMS-compatible) on a free loopback port, seeded with signing keys, for
# `awskms://` signing in the e2e tests. Appends AWS_ENDPOINT_URL, dummy credentials, AWS_REGION and the key
# ids to $STACK_DIR/env.d/localkms.env; pid in pids/localkms.pid. When local-kms cannot be built here, it records
# CHAINSMITH_LOCALKMS_UNAVAILABLE=<why> instead of failing the whole stack.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/kms-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${LOCAL_KMS_TIMEOUT:=30}"
ENV_FILE="$STACK_DIR/env.d/localkms.env"
LOGS="$STACK_DIR/logs"
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$LOGS"
need_tool openssl "apt-get install openssl"

# When local-kms cannot be built here, record why instead of failing the whole stack: the KMS e2e tests
# then fail with that reason.
if ! BIN=$("$ADDONS/build-local-kms.sh" 2>"$LOGS/localkms-build.log"); then
  why=$(grep 'stack: error:' "$LOGS/localkms-build.log" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300)
  printf 'export CHAINSMITH_LOCALKMS_UNAVAILABLE=%q\n' "${why:-build-local-kms.sh failed; see $LOGS/localkms-build.log}" >"$ENV_FILE"
  say "local-kms is unavailable: ${why:-see $LOGS/localkms-build.log}"
  exit 0
fi

DIR="$STACK_DIR/localkms"
rm -rf "$DIR" && mkdir -p "$DIR/data"
REGION=us-east-1
ACCOUNT=111122223333
ECC_ID=$(cat /proc/sys/kernel/random/uuid)
RSA_ID=$(cat /proc/sys/kernel/random/uuid)
AES_ID=$(cat /proc/sys/kernel/random/uuid)
# Key material is generated per stack: nothing secret is committed, and keys never outlive the stack.
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/ecc.pem" 2>/dev/null
# local-kms reads RSA keys as PKCS#8 only.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/rsa.pem" 2>/dev/null
indent() { sed 's/^/          /' "$1"; }
{
  echo "Keys:"
  echo "  Symmetric:"
  echo "    Aes:"
  echo "      - Metadata:"
  echo "          KeyId: $AES_ID"
  echo "        BackingKeys:"
  echo "          - $(openssl rand -hex 32)"
  echo "  Asymmetric:"
  echo "    Ecc:"
  echo "      - Metadata:"
  echo "          KeyId: $ECC_ID"
  echo "          KeyUsage: SIGN_VERIFY"
  echo "          Description: chainsmith e2e ECDSA P-256 signing key"
  echo "        PrivateKeyPem: |"
  indent "$DIR/ecc.pem"
  echo "    Rsa:"
  echo "      - Metadata:"
  echo "          KeyId: $RSA_ID"
  echo "          KeyUsage: SIGN_VERIFY"
  echo "          Description: chainsmith e2e RSA-2048 signing key"
  echo "        PrivateKeyPem: |"
  indent "$DIR/rsa.pem"
  echo "Aliases:"
  echo "  - AliasName: alias/chainsmith"
  echo "    TargetKeyId: $ECC_ID"
  echo "  - AliasName: alias/chainsmith-rsa"
  echo "    TargetKeyId: $RSA_ID"
  echo "  - AliasName: alias/chainsmith-aes"
  echo "    TargetKeyId: $AES_ID"
} >"$DIR/seed.yaml"
rm -f "$DIR/ecc.pem" "$DIR/rsa.pem"

PORT=$(free_port)
ENDPOINT="http://127.0.0.1:$PORT"
say "starting local-kms on 127.0.0.1:$PORT"
# Our build of local-kms takes PORT as a full listen address (see build-local-kms.sh): loopback only.
PORT="127.0.0.1:$PORT" KMS_REGION=$REGION KMS_ACCOUNT_ID=$ACCOUNT KMS_DATA_PATH="$DIR/data" KMS_SEED_PATH="$DIR/seed.yaml" \
  setsid "$BIN" >"$LOGS/localkms.log" 2>&1 </dev/null 8>&- 9>&- &
PID=$!
echo "$PID" >"$STACK_DIR/pids/localkms.pid"
list_keys() {
  curl -sf --max-time 2 -X POST -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: TrentService.ListKeys' \
    --data '{}' "$ENDPOINT/" | grep -q "$ECC_ID"
}
wait_until "$LOCAL_KMS_TIMEOUT" "local-kms" "$LOGS/localkms.log" "$PID" list_keys

{
  echo "# local-kms (e2e/stack/addons/localkms-up.sh): alias/chainsmith = ECDSA P-256, alias/chainsmith-rsa = RSA-2048, alias/chainsmith-aes = AES"
  # One variable per line: e2e/lib/env.ts reads `export NAME=value` lines.
  printf 'export AWS_ENDPOINT_URL=%q\n' "$ENDPOINT"
  echo 'export AWS_ACCESS_KEY_ID=dummy'
  echo 'export AWS_SECRET_ACCESS_KEY=dummy'
  printf 'export AWS_REGION=%q\n' "$REGION"
  printf 'export CHAINSMITH_AWS_KMS_KEY_ID=%q\n' "$ECC_ID"
  printf 'export CHAINSMITH_AWS_KMS_RSA_KEY_ID=%q\n' "$RSA_ID"
  printf 'export CHAINSMITH_AWS_KMS_AES_KEY_ID=%q\n' "$AES_ID"
} >"$ENV_FILE"
say "local-kms up at $ENDPOINT (alias/chainsmith -> $ECC_ID)"
