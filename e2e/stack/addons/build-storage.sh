#!/usr/bin/env bash
# Builds the real servers the storage add-on runs (the peers of Tekton Chains' gcs, docdb, kafka and archivista storage
# backends), each once per version into $CACHE/bin (a cache hit afterwards); installs Debian's PostgreSQL with apt when
# it is missing (Archivista's database).
# - fake-gcs-server: `go install` (no replace directives).
# - FerretDB v1: `go install` builds a binary that panics at start (build/version/version.txt is generated and not in the
#   module zip, and a wrapper module does not help: the check keys on the main package's module). So: copy the module
#   source out of the module cache, write version.txt, apply one patch (dotted keys, below), `go build ./cmd/ferretdb`.
# - kfake: our own main (addons/kfake/main.go + go.mod, cached by version and the hash of both) in a scratch module.
# - Archivista: a wrapper module (the proxy refuses its version list, so `go install …@v` fails) whose go.sum is seeded
#   from Archivista's own (one pseudo-version dependency is unknown to the checksum database).
# Stripped, -trimpath, CGO_ENABLED=0 (FerretDB's SQLite is modernc.org/sqlite, pure Go). Prints one `NAME PATH` line per
# piece (`postgres-bin DIR` for PostgreSQL's server binaries) and each build's time on stderr. Takes the shared Go build
# lock; failures end in one line naming the log.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/storage-versions.sh"

KFAKE_SRC="$ADDONS/kfake"
[ -f "$KFAKE_SRC/main.go" ] && [ -f "$KFAKE_SRC/go.mod" ] || die "missing $KFAKE_SRC/main.go or go.mod"
KFAKE_HASH=$(cat "$KFAKE_SRC/main.go" "$KFAKE_SRC/go.mod" | sha256sum | cut -c1-12)

GCS_BIN="$CACHE/bin/fake-gcs-server-$FAKE_GCS_VERSION"
FERRET_BIN="$CACHE/bin/ferretdb-dotted-keys-$FERRETDB_VERSION"   # patched: see the FerretDB build below
KFAKE_BIN="$CACHE/bin/chainsmith-kfake-$KFAKE_VERSION-$KFAKE_HASH"
ARCHIVISTA_BIN="$CACHE/bin/archivista-$ARCHIVISTA_VERSION"

# pg_bin_dir: the newest Debian PostgreSQL server's bin directory (initdb, postgres, pg_isready), or nothing.
pg_bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && echo "$d"
}

print_paths() {
  echo "fake-gcs-server $GCS_BIN"
  echo "ferretdb $FERRET_BIN"
  echo "kfake $KFAKE_BIN"
  echo "archivista $ARCHIVISTA_BIN"
  echo "postgres-bin $(pg_bin_dir)"
}

# --- PostgreSQL (apt, before the Go lock: it does not compete for the build) ---------------------------------------
if [ -z "$(pg_bin_dir)" ] || ! command -v psql >/dev/null; then
  T=$(date +%s)
  apt_install postgresql postgresql postgresql-client
  [ -n "$(pg_bin_dir)" ] || die "PostgreSQL's initdb still missing after apt-get install postgresql; see $BUILD_LOGS/build-apt-postgresql.log"
  say "installed PostgreSQL ($(pg_bin_dir)) in $(( $(date +%s) - T ))s"
fi

if [ -x "$GCS_BIN" ] && [ -x "$FERRET_BIN" ] && [ -x "$KFAKE_BIN" ] && [ -x "$ARCHIVISTA_BIN" ]; then
  print_paths
  exit 0
fi

# --- Go builds ---------------------------------------------------------------------------------------------------
need_go
LOG=$(build_log "storage")
acquire_go_lock "$LOG"
T_ALL=$(date +%s)
export CGO_ENABLED=0 GOFLAGS=-trimpath
mkdir -p "$CACHE/bin" "$CACHE/build"

# (each `[ -x … ]` again: another stack:up may have built it while we waited for the lock)
if [ ! -x "$GCS_BIN" ]; then
  T=$(date +%s)
  say "building fake-gcs-server $FAKE_GCS_VERSION (log: $LOG)"
  G="$CACHE/build/fake-gcs-server-$FAKE_GCS_VERSION/bin"; mkdir -p "$G"
  run_logged "building fake-gcs-server $FAKE_GCS_VERSION" "$LOG" \
    env GOBIN="$G" go install -ldflags '-s -w' "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
  mv "$G/fake-gcs-server" "$GCS_BIN"
  rm -rf "$CACHE/build/fake-gcs-server-$FAKE_GCS_VERSION"
  say "built fake-gcs-server $FAKE_GCS_VERSION in $(( $(date +%s) - T ))s"
fi

if [ ! -x "$FERRET_BIN" ]; then
  T=$(date +%s)
  say "building FerretDB $FERRETDB_VERSION from a patched copy of its module source (log: $LOG)"
  MOD=github.com/FerretDB/FerretDB
  run_logged "downloading FerretDB $FERRETDB_VERSION" "$LOG" go mod download -json "$MOD@$FERRETDB_VERSION"
  DIR=$(go_mod_field "$(go mod download -json "$MOD@$FERRETDB_VERSION" 2>>"$LOG")" Dir)
  [ -n "$DIR" ] && [ -d "$DIR/cmd/ferretdb" ] || die "could not locate FerretDB $FERRETDB_VERSION in the module cache; see $LOG"
  W="$CACHE/build/ferretdb-$FERRETDB_VERSION"
  rm -rf "$W" && mkdir -p "$W"
  cp -R "$DIR/." "$W/" && chmod -R u+w "$W"   # (the module cache is read-only)
  # `bin/task gen-version` writes this from `git describe`; without it the binary panics at start.
  echo "$FERRETDB_VERSION" >"$W/build/version/version.txt"
  # The one patch: FerretDB v1 refuses field names containing '.' ("key must not contain '.' sign"), which MongoDB >= 5.0
  # stores and which every Tekton Chains docdb document has (label and annotation keys such as tekton.dev/task in its
  # Object field). There is no flag for it; turning off this one check is all Chains' documents need.
  V="$W/internal/types/document_validation.go"
  grep -q '^		if strings.Contains(key, ".") {$' "$V" ||
    die "FerretDB $FERRETDB_VERSION: the dotted-key check in internal/types/document_validation.go changed; update the patch in build-storage.sh"
  sed -i 's/^		if strings.Contains(key, ".") {$/		if false \&\& strings.Contains(key, ".") { \/\/ chainsmith: dotted keys allowed, as in MongoDB >= 5.0/' "$V"
  grep -q 'if false && strings.Contains(key, ".")' "$V" || die "patching FerretDB's dotted-key check failed; see $V"
  (cd "$W" && run_logged "building FerretDB $FERRETDB_VERSION" "$LOG" go build -ldflags '-s -w' -o "$FERRET_BIN.tmp" ./cmd/ferretdb)
  mv "$FERRET_BIN.tmp" "$FERRET_BIN"
  rm -rf "$W"
  say "built FerretDB $FERRETDB_VERSION (dotted keys allowed) in $(( $(date +%s) - T ))s"
fi

if [ ! -x "$KFAKE_BIN" ]; then
  T=$(date +%s)
  say "building kfake $KFAKE_VERSION (addons/kfake $KFAKE_HASH; log: $LOG)"
  W="$CACHE/build/chainsmith-kfake-$KFAKE_HASH"
  rm -rf "$W" && mkdir -p "$W"
  cp "$KFAKE_SRC/main.go" "$KFAKE_SRC/go.mod" "$W/"
  (
    cd "$W"
    go mod edit -require="github.com/twmb/franz-go/pkg/kfake@$KFAKE_VERSION"
    run_logged "resolving kfake $KFAKE_VERSION" "$LOG" go mod tidy
    run_logged "building kfake $KFAKE_VERSION" "$LOG" go build -ldflags '-s -w' -o "$KFAKE_BIN.tmp" .
  )
  mv "$KFAKE_BIN.tmp" "$KFAKE_BIN"
  rm -rf "$W"
  say "built kfake $KFAKE_VERSION (chainsmith-kfake) in $(( $(date +%s) - T ))s"
fi

if [ ! -x "$ARCHIVISTA_BIN" ]; then
  T=$(date +%s)
  say "building Archivista $ARCHIVISTA_VERSION through a wrapper module (cold: minutes on 2 cores; log: $LOG)"
  MOD=github.com/in-toto/archivista
  W="$CACHE/build/archivista-$ARCHIVISTA_VERSION"
  rm -rf "$W" && mkdir -p "$W"
  printf 'module local/chainsmith-archivista\n\ngo 1.24.0\n' >"$W/go.mod"
  (
    cd "$W"
    run_logged "downloading Archivista $ARCHIVISTA_VERSION" "$LOG" go mod download -json "$MOD@$ARCHIVISTA_VERSION"
    DIR=$(go_mod_field "$(go mod download -json "$MOD@$ARCHIVISTA_VERSION" 2>>"$LOG")" Dir)
    [ -f "$DIR/go.sum" ] || die "no go.sum in Archivista's module ($DIR); see $LOG"
    # Seeded: Archivista needs github.com/jkjell/go-db-credential-refresh/store/awsrds at a pseudo-version the
    # checksum database answers 404 for, so `go get` fails without Archivista's own checksums.
    cp "$DIR/go.sum" go.sum
    run_logged "resolving Archivista $ARCHIVISTA_VERSION" "$LOG" go get "$MOD/cmd/archivista@$ARCHIVISTA_VERSION"
    run_logged "building Archivista $ARCHIVISTA_VERSION" "$LOG" \
      go build -ldflags '-s -w' -o "$ARCHIVISTA_BIN.tmp" "$MOD/cmd/archivista"
  )
  mv "$ARCHIVISTA_BIN.tmp" "$ARCHIVISTA_BIN"
  rm -rf "$W"
  say "built Archivista $ARCHIVISTA_VERSION in $(( $(date +%s) - T ))s"
fi
say "storage servers built in $(( $(date +%s) - T_ALL ))s"
print_paths
