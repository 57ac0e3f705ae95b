#!/usr/bin/env bash
# Stack add-on: real servers for Tekton Chains' other storage backends, each on free loopback ports, state under
# $STACK_DIR/storage (fresh per stack):
# - fake-gcs-server (`gcs`): the GCS JSON/XML API, in memory, plain http.
# - FerretDB v1 (`docdb`): the MongoDB wire protocol on SQLite, patched to accept dotted field names (build-storage.sh).
# - kfake (`kafka`): franz-go's in-memory Kafka broker, topic `chains` seeded, auto-creation on (our main, addons/kfake/).
# - PostgreSQL (Debian's, own cluster made with initdb, 127.0.0.1 only, no Unix socket, a password per stack) +
#   Archivista (`archivista`) on it: FILE blob storage, GraphQL on, SPIFFE off.
# Writes $STACK_DIR/env.d/storage.env; one pid file per process in pids/ (stopped by stack:down). When a piece cannot be
# built or started, it records CHAINSMITH_STORAGE_UNAVAILABLE=<the one-line error naming the log> instead of failing the
# stack, and the storage e2e tests fail with that reason.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/storage-versions.sh"
: "${STACK_DIR:?STACK_DIR must be set (this add-on is run by e2e/stack/up.sh)}"
: "${STORAGE_START_TIMEOUT:=60}"   # each server
ENV_FILE="$STACK_DIR/env.d/storage.env"
LOGS="$STACK_DIR/logs"
S="$STACK_DIR/storage"
PROCS="archivista storage-postgres ferretdb kfake fake-gcs-server"
KAFKA_TOPIC=chains
mkdir -p "$STACK_DIR/env.d" "$STACK_DIR/pids" "$STACK_DIR/bin" "$LOGS"

# a failure records why the storage servers are missing instead of failing the stack (common.sh addon_guard)
addon_guard storage 'the storage add-on (fake-gcs-server, FerretDB, kfake, Archivista)' "$PROCS"

need_tool curl "apt-get install curl"
need_tool openssl "apt-get install openssl"
need_tool setpriv "apt-get install util-linux"
id postgres >/dev/null 2>&1 || die "no 'postgres' user (Debian's postgresql package creates it): apt-get install postgresql"

# --- binaries (a cache hit after stack:up's build phase) ------------------------------------------------------------
declare -A BIN=()
while read -r name path; do BIN[$name]=$path; done < <("$ADDONS/build-storage.sh" 2>"$LOGS/storage-build.log" || true)
for n in fake-gcs-server ferretdb kfake archivista postgres-bin; do
  if [ -z "${BIN[$n]:-}" ] || [ ! -e "${BIN[$n]}" ]; then
    why=$(grep 'stack: error:' "$LOGS/storage-build.log" | tail -n 1 | sed 's/^stack: error: //' | cut -c1-300 || true)
    die "${why:-build-storage.sh did not produce $n; see $LOGS/storage-build.log}"
  fi
done
for n in fake-gcs-server ferretdb kfake archivista; do ln -sfn "${BIN[$n]}" "$STACK_DIR/bin/$n"; done
PGBIN=${BIN[postgres-bin]}

rm -rf "$S" && mkdir -p "$S/ferretdb" "$S/ferretdb-state" "$S/archivista" "$S/pg"
pick_port GCS_PORT fake-gcs-server
pick_port MONGO_PORT ferretdb
pick_port FERRET_DEBUG_PORT ferretdb-debug
pick_port KAFKA_PORT kfake
pick_port PG_PORT storage-postgres
pick_port ARCHIVISTA_PORT archivista
pick_port ARCHIVISTA_FILES_PORT archivista-files
GCS_URL="http://127.0.0.1:$GCS_PORT"
ARCHIVISTA_URL="http://127.0.0.1:$ARCHIVISTA_PORT"

# --- fake-gcs-server ------------------------------------------------------------------------------------------------
say "starting fake-gcs-server $FAKE_GCS_VERSION on $GCS_URL (memory backend)"
# -host: it binds every interface by default; -public-host/-external-url: the URLs it hands out (uploads' Location).
GCS_PID=$(start_daemon fake-gcs-server "$STACK_DIR/bin/fake-gcs-server" -backend memory -scheme http \
  -host 127.0.0.1 -port "$GCS_PORT" -public-host "127.0.0.1:$GCS_PORT" -external-url "$GCS_URL" -log-level warn)

# --- FerretDB (SQLite) ----------------------------------------------------------------------------------------------
say "starting FerretDB $FERRETDB_VERSION (SQLite, dotted keys allowed) on 127.0.0.1:$MONGO_PORT"
FERRET_PID=$(start_daemon ferretdb "$STACK_DIR/bin/ferretdb" --handler=sqlite --sqlite-url="file:$S/ferretdb/" \
  --listen-addr="127.0.0.1:$MONGO_PORT" --debug-addr="127.0.0.1:$FERRET_DEBUG_PORT" --state-dir="$S/ferretdb-state" \
  --telemetry=disable --log-level=warn)

# --- kfake --------------------------------------------------------------------------------------------------------
say "starting kfake (franz-go $KFAKE_VERSION) on 127.0.0.1:$KAFKA_PORT, topic $KAFKA_TOPIC"
KFAKE_PID=$(start_daemon kfake "$STACK_DIR/bin/kfake" --port "$KAFKA_PORT" --topics "$KAFKA_TOPIC" --log-level warn)

# --- PostgreSQL (its own cluster; the server refuses to run as root, so as Debian's `postgres` user) -----------------
PG_PASS=$(openssl rand -hex 16)
umask 077
printf '%s\n' "$PG_PASS" >"$S/pg-password"
umask 022
chown postgres:postgres "$S/pg" "$S/pg-password"
chmod 700 "$S/pg"
cd "$S"   # (PostgreSQL's tools want a working directory their user can read; every path here is absolute)
AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups)
RUN_NICE=0 BUILD_TIMEOUT=120 run_logged "initialising PostgreSQL's data dir" "$LOGS/storage-postgres-init.log" \
  "${AS_POSTGRES[@]}" "$PGBIN/initdb" -D "$S/pg" -U postgres --pwfile="$S/pg-password" \
  --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync
say "starting PostgreSQL ($PGBIN) on 127.0.0.1:$PG_PORT for Archivista"
# TCP on loopback only (no Unix socket: nothing to collide with the system's /var/run/postgresql); durability traded for
# speed, the data lives as long as the stack. setpriv execs, so the pid file holds the postmaster itself.
PG_PID=$(start_daemon storage-postgres "${AS_POSTGRES[@]}" "$PGBIN/postgres" -D "$S/pg" -p "$PG_PORT" \
  -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off)
# SIGINT = PostgreSQL's fast shutdown (SIGTERM's smart shutdown would wait for Archivista's connections to close).
echo INT >"$STACK_DIR/pids/storage-postgres.signal"
wait_until "$STORAGE_START_TIMEOUT" "PostgreSQL" "$LOGS/storage-postgres.log" "$PG_PID" \
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres
PGPASSWORD=$PG_PASS RUN_NICE=0 BUILD_TIMEOUT=60 run_logged "creating the archivista database" "$LOGS/storage-postgres-init.log" \
  "$PGBIN/psql" -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'CREATE DATABASE archivista'

# --- Archivista -----------------------------------------------------------------------------------------------------
say "starting Archivista $ARCHIVISTA_VERSION on $ARCHIVISTA_URL (PostgreSQL, FILE storage, GraphQL)"
# Configuration is environment-only. The connection string needs a password (Archivista refuses one without: "querying
# server version missing password"). SPIFFE is on by default. The FILE backend serves its blobs on a port of its own.
ARCHIVISTA_PID=$(start_daemon archivista env \
  ARCHIVISTA_LISTEN_ON="tcp://127.0.0.1:$ARCHIVISTA_PORT" \
  ARCHIVISTA_ENABLE_SPIFFE=false \
  ARCHIVISTA_SQL_STORE_BACKEND=PSQL \
  ARCHIVISTA_SQL_STORE_CONNECTION_STRING="postgresql://postgres:$PG_PASS@127.0.0.1:$PG_PORT/archivista?sslmode=disable" \
  ARCHIVISTA_STORAGE_BACKEND=FILE \
  ARCHIVISTA_FILE_DIR="$S/archivista" \
  ARCHIVISTA_FILE_SERVE_ON="127.0.0.1:$ARCHIVISTA_FILES_PORT" \
  ARCHIVISTA_ENABLE_GRAPHQL=true \
  ARCHIVISTA_GRAPHQL_WEB_CLIENT_ENABLE=false \
  ARCHIVISTA_LOG_LEVEL=WARN \
  "$STACK_DIR/bin/archivista")
# Its state is PostgreSQL and the FILE dir, both thrown away with the stack; after losing its database it ignores
# SIGTERM, so stack:down kills it at once.
echo KILL >"$STACK_DIR/pids/archivista.signal"

# --- ready? -----------------------------------------------------------------------------------------------------------
wait_until "$STORAGE_START_TIMEOUT" "fake-gcs-server" "$LOGS/fake-gcs-server.log" "$GCS_PID" \
  curl -sf --max-time 2 -o /dev/null "$GCS_URL/storage/v1/b?project=chainsmith"
# readyz: FerretDB's probe, which pings its SQLite backend.
wait_until "$STORAGE_START_TIMEOUT" "FerretDB" "$LOGS/ferretdb.log" "$FERRET_PID" \
  curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$FERRET_DEBUG_PORT/debug/readyz"
wait_until "$STORAGE_START_TIMEOUT" "FerretDB (wire protocol port)" "$LOGS/ferretdb.log" "$FERRET_PID" port_in_use "$MONGO_PORT"
# kfake prints its address once the broker listens.
wait_until "$STORAGE_START_TIMEOUT" "kfake" "$LOGS/kfake.log" "$KFAKE_PID" grep -qx "127.0.0.1:$KAFKA_PORT" "$LOGS/kfake.log"
# A GraphQL query answers once the schema is created in PostgreSQL.
wait_until "$STORAGE_START_TIMEOUT" "Archivista" "$LOGS/archivista.log" "$ARCHIVISTA_PID" \
  sh -c 'curl -sf --max-time 2 -H "Content-Type: application/json" -d "{\"query\":\"{ __typename }\"}" "$1/query" | grep -q Query' \
  archivista "$ARCHIVISTA_URL"

{
  echo "# fake-gcs-server $FAKE_GCS_VERSION, FerretDB $FERRETDB_VERSION, kfake $KFAKE_VERSION, Archivista $ARCHIVISTA_VERSION on PostgreSQL (e2e/stack/addons/storage-up.sh)"
  # One variable per line: e2e/lib/env.ts reads `export NAME=value` lines.
  printf 'export GCS_EMULATOR_HOST=%q\n' "127.0.0.1:$GCS_PORT"
  printf 'export GCS_URL=%q\n' "$GCS_URL"
  printf 'export MONGO_URL=%q\n' "mongodb://127.0.0.1:$MONGO_PORT/"
  printf 'export KAFKA_BROKERS=%q\n' "127.0.0.1:$KAFKA_PORT"
  printf 'export KAFKA_TOPIC=%q\n' "$KAFKA_TOPIC"
  printf 'export ARCHIVISTA_URL=%q\n' "$ARCHIVISTA_URL"
} >"$ENV_FILE"
say "storage up: GCS $GCS_URL, MongoDB wire mongodb://127.0.0.1:$MONGO_PORT/, Kafka 127.0.0.1:$KAFKA_PORT, Archivista $ARCHIVISTA_URL"
