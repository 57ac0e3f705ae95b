#!/usr/bin/env bash
# Builds what the Rekor v1 add-on runs, once per version: Trillian's trillian_log_server, trillian_log_signer and
# createtree, rekor-server and rekor-cli (go install from the Go module proxy; neither module has replace
# directives), and copies Trillian's MySQL schema out of its module; installs Debian's MariaDB with apt when it is
# missing. Prints one `NAME PATH` line per piece; a cache hit is instant. Takes the shared Go build lock; failures
# end in one line naming the log.
set -euo pipefail
ADDONS=$(cd "$(dirname "$0")" && pwd)
. "$ADDONS/../common.sh"
. "$ADDONS/rekor-versions.sh"
PATH="$PATH:/usr/sbin:/sbin"   # mariadbd and mariadb-install-db live in /usr/sbin

# name -> Go package; the version comes from the module (Trillian or Rekor).
declare -A PKG=(
  [trillian_log_server]=github.com/google/trillian/cmd/trillian_log_server
  [trillian_log_signer]=github.com/google/trillian/cmd/trillian_log_signer
  [createtree]=github.com/google/trillian/cmd/createtree
  [rekor-server]=github.com/sigstore/rekor/cmd/rekor-server
  [rekor-cli]=github.com/sigstore/rekor/cmd/rekor-cli
)
ORDER="trillian_log_server trillian_log_signer createtree rekor-server rekor-cli"
version_of() { case "$1" in trillian_* | createtree) echo "$TRILLIAN_VERSION" ;; *) echo "$REKOR_VERSION" ;; esac; }
bin_of() { echo "$CACHE/bin/$1-$(version_of "$1")"; }
SCHEMA="$CACHE/schema/trillian-$TRILLIAN_VERSION-mysql.sql"

print_paths() {
  local n
  for n in $ORDER; do echo "$n $(bin_of "$n")"; done
  echo "trillian-schema $SCHEMA"
  echo "mariadbd $(command -v mariadbd)"
}

# --- MariaDB (apt, before the Go lock: it does not compete for the build) --------------------------
if ! command -v mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null || ! command -v mariadb >/dev/null; then
  T=$(date +%s)
  apt_install mariadb mariadb-server mariadb-client
  command -v mariadbd >/dev/null ||
    die "mariadbd still missing after apt-get install mariadb-server; see $BUILD_LOGS/build-apt-mariadb.log"
  say "installed MariaDB $(mariadbd --version | sed -n 's/.*Ver \([^ ]*\).*/\1/p') in $(( $(date +%s) - T ))s"
fi

missing() {
  local n
  for n in $ORDER; do [ -x "$(bin_of "$n")" ] || echo "$n"; done
  [ -s "$SCHEMA" ] || echo trillian-schema
}
[ -z "$(missing)" ] && { print_paths; exit 0; }

# --- Go builds ---------------------------------------------------------------------------------------
need_go
LOG=$(build_log "rekor-$REKOR_VERSION-trillian-$TRILLIAN_VERSION")
acquire_go_lock "$LOG"
T_ALL=$(date +%s)
export CGO_ENABLED=0 GOFLAGS=-trimpath
mkdir -p "$CACHE/bin" "$CACHE/schema"
for n in $(missing); do
  T=$(date +%s)
  if [ "$n" = trillian-schema ]; then
    json=$(go mod download -json "github.com/google/trillian@$TRILLIAN_VERSION" 2>>"$LOG") ||
      die "downloading github.com/google/trillian@$TRILLIAN_VERSION failed: $(last_line "$LOG"); see $LOG"
    dir=$(go_mod_field "$json" Dir)
    [ -f "$dir/storage/mysql/schema/storage.sql" ] || die "no storage/mysql/schema/storage.sql in Trillian's module ($dir); see $LOG"
    install -m 0644 "$dir/storage/mysql/schema/storage.sql" "$SCHEMA"   # (the module cache is read-only)
    continue
  fi
  v=$(version_of "$n")
  tags=()
  case "$n" in trillian_* | createtree) tags=(-tags "$TRILLIAN_BUILD_TAGS") ;; esac
  say "building $n $v (cold: minutes on 2 cores; log: $LOG)"
  GOBIN_DIR="$CACHE/build/rekor-stack/bin"; mkdir -p "$GOBIN_DIR"
  run_logged "building $n $v" "$LOG" env GOBIN="$GOBIN_DIR" go install "${tags[@]}" -ldflags '-s -w' "${PKG[$n]}@$v"
  mv "$GOBIN_DIR/$n" "$(bin_of "$n")"
  say "built $n $v in $(( $(date +%s) - T ))s"
done
rm -rf "$CACHE/build/rekor-stack"
say "Rekor $REKOR_VERSION + Trillian $TRILLIAN_VERSION built in $(( $(date +%s) - T_ALL ))s"
print_paths
