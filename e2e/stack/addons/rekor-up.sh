#!/usr/bin/env bash
# Stack add-on: a Rekor v1 transparency log, the one Tekton Chains and cosign v2 upload to. Four processes on free
# loopback ports: MariaDB (Debian's, data and socket under $STACK_DIR/rekor) → trillian_log_server (gRPC) +
# trillian_log_signer (sequencer) on a tree made for this stack → rekor-server (REST) with a signing key generated
# for this stack, so its public key stays the same for the stack's lifetime, also across a rekor-server restart.
# Writes REKOR_URL, REKOR_PUBLIC_KEY (PEM fetched from /api/v1/log/publicKey) and REKOR_CLI to
# $STACK_DIR/env.d/rekor.env; one pid file per process in pids/. When a piece cannot be built or started, it records
# CHAINSMITH_REKOR_UNAVAILABLE=<the one-line error naming the log> instead of failing the whole stack, and the
# Rekor e2e tests fail with that reason.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/rekor-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${REKOR_START_TIMEOUT:=60}"   # each of MariaDB, the two Trillian servers, rekor-server
ENV_FILE="$STACK_DIR/env.d/rekor.env"
LOGS="$STACK_DIR/logs"
R="$STACK_DIR/rekor"
PROCS="rekor-server trillian-log-signer trillian-log-server mariadb"
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$STACK_DIR/bin" "$LOGS"

# a failure records why Rekor is missing instead of failing the stack (common.sh addon_guard)
addon_guard rekor 'Rekor' "$PROCS"

need_tool openssl "apt-get install openssl"
need_tool curl "apt-get install curl"
declare -A BIN=()
while read -r name path; do BIN[$name]=$path; done < <("$ADDONS/build-rekor.sh" 2>"$LOGS/rekor-build.log" || true)
for n in trillian_log_server trillian_log_signer createtree rekor-server rekor-cli trillian-schema mariadbd; do
  if [ -z "${BIN[$n]:-}" ] || [ ! -e "${BIN[$n]}" ]; then
    why=$(grep 'stack: error:' "$LOGS/rekor-build.log" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300 || true)
    die "${why:-build-rekor.sh did not produce $n; see $LOGS/rekor-build.log}"
  fi
done
for n in trillian_log_server trillian_log_signer createtree rekor-server rekor-cli; do ln -sfn "${BIN[$n]}" "$STACK_DIR/bin/$n"; done
PATH="$PATH:$(dirname "${BIN[mariadbd]}")"   # mariadbd is in /usr/sbin, the mariadb clients in /usr/bin
need_tool mariadb-install-db "apt-get install mariadb-server"
need_tool mariadb "apt-get install mariadb-client"
need_tool mariadb-admin "apt-get install mariadb-client"

# Fresh state per stack: a new database, tree and key.
rm -rf "$R" && mkdir -p "$R"
SOCK="$R/mysqld.sock"
[ "${#SOCK}" -lt 100 ] || die "the MariaDB socket path $SOCK is too long for a Unix socket (STACK_DIR too deep)"
pick_port MYSQL_PORT mariadb
pick_port TL_RPC trillian-log-server
pick_port TL_HTTP trillian-log-server-http
pick_port TS_RPC trillian-log-signer
pick_port TS_HTTP trillian-log-signer-http
pick_port REKOR_PORT rekor-server
REKOR_URL="http://127.0.0.1:$REKOR_PORT"

# --- MariaDB ---------------------------------------------------------------------------------------------------
say "starting MariaDB on 127.0.0.1:$MYSQL_PORT"
RUN_NICE=0 BUILD_TIMEOUT=120 run_logged "initialising MariaDB's data dir" "$LOGS/mariadb-install.log" \
  mariadb-install-db --no-defaults --datadir="$R/mysql" --user=root \
  --auth-root-authentication-method=normal --skip-test-db
# As root (no mysql user needed), durability traded for speed: the data lives as long as the stack.
MARIADB_PID=$(start_daemon mariadb "${BIN[mariadbd]}" --no-defaults --datadir="$R/mysql" --socket="$SOCK" \
  --port="$MYSQL_PORT" --bind-address=127.0.0.1 --user=root --skip-name-resolve --skip-log-bin \
  --innodb-flush-log-at-trx-commit=2 --pid-file="$R/mariadbd.pid")
MARIADB=(mariadb --no-defaults --socket="$SOCK" -uroot)
wait_until "$REKOR_START_TIMEOUT" "MariaDB" "$LOGS/mariadb.log" "$MARIADB_PID" \
  mariadb-admin --no-defaults --socket="$SOCK" -uroot ping
DB_PASS=$(openssl rand -hex 16)
RUN_NICE=0 BUILD_TIMEOUT=60 run_logged "creating the trillian and rekor databases" "$LOGS/mariadb-setup.log" "${MARIADB[@]}" -e "
  CREATE DATABASE trillian; CREATE DATABASE rekor;
  CREATE USER 'trillian'@'127.0.0.1' IDENTIFIED BY '$DB_PASS'; GRANT ALL ON trillian.* TO 'trillian'@'127.0.0.1';
  CREATE USER 'rekor'@'127.0.0.1' IDENTIFIED BY '$DB_PASS'; GRANT ALL ON rekor.* TO 'rekor'@'127.0.0.1';"
RUN_NICE=0 BUILD_TIMEOUT=60 run_logged "loading Trillian's schema" "$LOGS/mariadb-setup.log" \
  "${MARIADB[@]}" trillian -e "source ${BIN[trillian-schema]}"
TRILLIAN_DSN="trillian:$DB_PASS@tcp(127.0.0.1:$MYSQL_PORT)/trillian?parseTime=true&interpolateParams=true"
REKOR_DSN="rekor:$DB_PASS@tcp(127.0.0.1:$MYSQL_PORT)/rekor?parseTime=true"

# --- Trillian ----------------------------------------------------------------------------------------------------
say "starting Trillian $TRILLIAN_VERSION log server on 127.0.0.1:$TL_RPC and log signer on 127.0.0.1:$TS_RPC"
TL_PID=$(start_daemon trillian-log-server "$STACK_DIR/bin/trillian_log_server" \
  --storage_system=mysql --mysql_uri="$TRILLIAN_DSN" --quota_system=noop \
  --rpc_endpoint="127.0.0.1:$TL_RPC" --http_endpoint="127.0.0.1:$TL_HTTP" --alsologtostderr)
# --force_master: a single signer needs no election (and so no etcd).
TS_PID=$(start_daemon trillian-log-signer "$STACK_DIR/bin/trillian_log_signer" \
  --storage_system=mysql --mysql_uri="$TRILLIAN_DSN" --quota_system=noop --force_master --sequencer_interval=100ms \
  --rpc_endpoint="127.0.0.1:$TS_RPC" --http_endpoint="127.0.0.1:$TS_HTTP" --alsologtostderr)
# Trillian keeps nothing outside MariaDB, and sleeps 5-10 s on SIGTERM: stack:down kills it at once (down.sh).
echo KILL >"$STACK_DIR/pids/trillian-log-server.signal"
echo KILL >"$STACK_DIR/pids/trillian-log-signer.signal"
wait_until "$REKOR_START_TIMEOUT" "trillian_log_server" "$LOGS/trillian-log-server.log" "$TL_PID" \
  curl -sf --max-time 2 "http://127.0.0.1:$TL_HTTP/healthz"
wait_until "$REKOR_START_TIMEOUT" "trillian_log_signer" "$LOGS/trillian-log-signer.log" "$TS_PID" \
  curl -sf --max-time 2 "http://127.0.0.1:$TS_HTTP/healthz"
# One tree per stack; Rekor would otherwise create a new one at every start (--trillian_log_server.tlog_id 0).
RUN_NICE=0 BUILD_TIMEOUT=60 run_logged "creating the Trillian tree" "$LOGS/createtree.log" \
  sh -c '"$1" --admin_server="$2" >"$3"' createtree "$STACK_DIR/bin/createtree" "127.0.0.1:$TL_RPC" "$R/tree-id"
TREE_ID=$(tr -dc 0-9 <"$R/tree-id")
[ -n "$TREE_ID" ] || die "createtree printed no tree ID; see $LOGS/createtree.log"

# --- rekor-server ------------------------------------------------------------------------------------------------
# A key file rather than the in-memory signer: the in-memory one makes a new key at every start.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$R/signer.pem" 2>"$LOGS/rekor-key.log" ||
  die "generating Rekor's signing key failed: $(last_line "$LOGS/rekor-key.log"); see $LOGS/rekor-key.log"
say "starting rekor-server $REKOR_VERSION on $REKOR_URL (tree $TREE_ID)"
# hostname 127.0.0.1: it is the checkpoint origin, which sigstore-js checks against the tlog URL's host.
# (Its metrics always listen on *:2112; when that is taken, by another stack's Rekor, it carries on without them.)
REKOR_PID=$(start_daemon rekor-server "$STACK_DIR/bin/rekor-server" serve \
  --rekor_server.address=127.0.0.1 --port="$REKOR_PORT" --rekor_server.hostname=127.0.0.1 \
  --trillian_log_server.address=127.0.0.1 --trillian_log_server.port="$TL_RPC" \
  --trillian_log_server.tlog_id="$TREE_ID" --rekor_server.signer="$R/signer.pem" \
  --search_index.storage_provider=mysql --search_index.mysql.dsn="$REKOR_DSN" \
  --enable_attestation_storage=false --log_type=prod)
wait_until "$REKOR_START_TIMEOUT" "rekor-server" "$LOGS/rekor-server.log" "$REKOR_PID" \
  curl -sf --max-time 2 "$REKOR_URL/api/v1/log"
curl -sf --max-time 10 -o "$R/rekor.pub" "$REKOR_URL/api/v1/log/publicKey" 2>"$LOGS/rekor-key.log" ||
  die "fetching $REKOR_URL/api/v1/log/publicKey failed: $(last_line "$LOGS/rekor-key.log"); see $LOGS/rekor-server.log"
[ "$(openssl pkey -pubin -in "$R/rekor.pub" -outform DER 2>/dev/null | sha256sum)" = \
  "$(openssl pkey -in "$R/signer.pem" -pubout -outform DER 2>/dev/null | sha256sum)" ] ||
  die "rekor-server's public key is not the one of $R/signer.pem; see $LOGS/rekor-server.log"
# Healthy = the real client verifies the signed tree head (without writing its state into ~/.rekor).
wait_until "$REKOR_START_TIMEOUT" "rekor-server (rekor-cli loginfo)" "$LOGS/rekor-server.log" "$REKOR_PID" \
  "$STACK_DIR/bin/rekor-cli" loginfo --rekor_server "$REKOR_URL" --store_tree_state=false

{
  echo "# Rekor $REKOR_VERSION on Trillian $TRILLIAN_VERSION + MariaDB (e2e/stack/addons/rekor-up.sh); tree $TREE_ID"
  # One variable per line: e2e/lib/env.ts reads `export NAME=value` lines.
  printf 'export REKOR_URL=%q\n' "$REKOR_URL"
  printf 'export REKOR_PUBLIC_KEY=%q\n' "$R/rekor.pub"
  printf 'export REKOR_CLI=%q\n' "$STACK_DIR/bin/rekor-cli"
  printf 'export REKOR_TREE_ID=%q\n' "$TREE_ID"
} >"$ENV_FILE"
say "Rekor up at $REKOR_URL (tree $TREE_ID, public key $R/rekor.pub)"
