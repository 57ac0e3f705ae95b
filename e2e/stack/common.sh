# Shared helpers for the local test stack scripts (sourced, not executed).
# Every failure ends in ONE line on stderr that names the problem and the log to read;
# every wait has a timeout, so nothing here can hang.

STACK_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$STACK_SCRIPTS/../.." && pwd)
# shellcheck source=versions.sh
. "$STACK_SCRIPTS/versions.sh"

: "${CHAINSMITH_CACHE:=$HOME/.cache/chainsmith}"
export CHAINSMITH_CACHE
CACHE=$CHAINSMITH_CACHE
BUILD_LOGS="$CACHE/logs"
: "${GO_BUILD_LOCK:=$HOME/.cache/chainsmith/go-build.lock}"   # machine-wide, whatever the cache dir
: "${GO_LOCK_TIMEOUT:=5400}"     # another engineer's Go build may hold the lock for a while
: "${BUILD_TIMEOUT:=3600}"       # one go build/install step
: "${HEARTBEAT_SECONDS:=30}"

# The machine's Go lives here; Debian's own Go is far too old.
[ -d /usr/local/go/bin ] && case ":$PATH:" in *:/usr/local/go/bin:*) ;; *) PATH="/usr/local/go/bin:$PATH" ;; esac
export GOTOOLCHAIN=local   # a toolchain download would be a prebuilt binary

say() { printf '[stack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# die MESSAGE: the one-line error every failure path ends in.
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# last_line LOG: the last non-empty line of a log, shortened, to put the cause into a one-line error.
last_line() {
  [ -f "$1" ] || return 0
  grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-160 | tr -d '\r'
}

need_tool() { # need_tool NAME HINT
  command -v "$1" >/dev/null 2>&1 || die "required tool '$1' not found ($2)"
}

need_go() {
  need_tool go "install Go >= 1.24 at /usr/local/go"
}

# build_log NAME: the log file of one cached build (kept next to the cache, outlives the stack).
build_log() {
  mkdir -p "$BUILD_LOGS"
  local log="$BUILD_LOGS/build-$1.log"
  : >"$log"
  echo "$log"
}

# acquire_go_lock LOG: builds on this 2-core machine run one at a time (shared with other engineers'
# `flock ~/.cache/chainsmith/go-build.lock ...`). Held on fd 9 until the script exits.
acquire_go_lock() {
  mkdir -p "$CACHE" "$(dirname "$GO_BUILD_LOCK")"
  exec 9>"$GO_BUILD_LOCK"
  if ! flock -n 9; then
    say "waiting for another Go build to finish (lock $GO_BUILD_LOCK, at most ${GO_LOCK_TIMEOUT}s)"
    flock -w "$GO_LOCK_TIMEOUT" 9 ||
      die "timed out after ${GO_LOCK_TIMEOUT}s waiting for $GO_BUILD_LOCK held by another Go build; see $1"
  fi
}

# run_logged WHAT LOG CMD...: runs a long step (niced by RUN_NICE, default 10), output into LOG, a
# progress line every HEARTBEAT_SECONDS, killed after BUILD_TIMEOUT; on failure dies with the cause and the log.
run_logged() {
  local what=$1 log=$2; shift 2
  local start rc=0 hb
  start=$(date +%s)
  printf '+ %s\n' "$*" >>"$log"
  # The ticker closes fd 9 (the build lock), and its sleep holds no pipe, so a sleep that outlives
  # the killed ticker can neither keep the lock nor keep a caller's `| tail` waiting.
  ( exec 9>&-; while sleep "$HEARTBEAT_SECONDS" >/dev/null 2>&1 </dev/null; do
      say "  ... $what: $(( $(date +%s) - start ))s so far (log: $log)"
    done ) &
  hb=$!
  timeout --kill-after=10 "$BUILD_TIMEOUT" nice -n "${RUN_NICE:-10}" "$@" >>"$log" 2>&1 </dev/null || rc=$?
  kill "$hb" 2>/dev/null || true
  wait "$hb" 2>/dev/null || true
  if [ "$rc" -eq 124 ]; then die "$what timed out after ${BUILD_TIMEOUT}s; see $log"; fi
  if [ "$rc" -ne 0 ]; then die "$what failed (exit $rc): $(last_line "$log"); see $log"; fi
}

# apt_install WHAT PKG...: installs Debian packages with apt (needs root), waiting for dpkg's lock held by another
# install; a fresh machine may have no package lists yet, so on failure it runs apt-get update and tries once more.
# The log is $BUILD_LOGS/build-apt-WHAT.log.
apt_install() {
  local what=$1 log; shift
  log=$(build_log "apt-$what")
  [ "$(id -u)" = 0 ] || die "$what is not installed and installing it needs root: apt-get install $*"
  say "installing Debian $* with apt (log: $log)"
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "$@")
  if ! (BUILD_TIMEOUT=900 run_logged "apt-get install $*" "$log" "${install[@]}") 2>/dev/null; then
    say "apt-get install failed; running apt-get update and trying again"
    BUILD_TIMEOUT=900 run_logged "apt-get update" "$log" apt-get update -o DPkg::Lock::Timeout=300
    BUILD_TIMEOUT=900 run_logged "apt-get install $*" "$log" "${install[@]}"
  fi
}

# go_mod_field JSON FIELD: one string field of `go mod download -json` output.
go_mod_field() {
  printf '%s\n' "$1" | sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n 1
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now (kube-apiserver cannot bind :0).
free_port() {
  node -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close(); });
    s.on("error", (e) => { console.error(e.message); process.exit(1); });'
}

# pick_port VAR NAME [OVERRIDE]: sets VAR to OVERRIDE (a STACK_*_PORT pin, which must be free) or to a free port this
# script has not picked before (free_port releases its port, so two calls could otherwise get the same one).
PICKED_PORTS=" "
pick_port() {
  local var=$1 name=$2 want=${3:-} p
  if [ -n "$want" ]; then
    port_in_use "$want" && die "port $want for $name is already in use by another process (free it or change the STACK_*_PORT override); see ${LOGS:-$STACK_DIR/logs}"
    p=$want
  else
    for _ in 1 2 3 4 5; do p=$(free_port); case "$PICKED_PORTS" in *" $p "*) ;; *) break ;; esac; done
  fi
  PICKED_PORTS="$PICKED_PORTS$p "
  printf -v "$var" '%s' "$p"
}

# start_daemon NAME CMD...: detached in its own session (a Ctrl-C elsewhere cannot reach it), output in
# $LOGS/NAME.log; the pid file $STACK_DIR/pids/NAME.pid is written at once so down.sh can stop it whatever happens
# next. Prints the pid.
start_daemon() {
  local name=$1; shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$STACK_DIR/pids/$name.pid"
  echo $!
}

# port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_until SECONDS WHAT LOG PID CMD...: polls CMD every 0.5 s; dies when PID exits or time runs out.
wait_until() {
  local limit=$1 what=$2 log=$3 pid=$4; shift 4
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      die "$what exited during startup: $(last_line "$log"); see $log"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || die "$what not ready after ${limit}s: $(last_line "$log"); see $log"
    sleep 0.5
  done
}

# addon_guard NAME WHAT PROCS: from here on, every `die` of an add-on script (and any failing command) ends in
# addon_unavailable: the add-on's processes (the pid files named in PROCS, space-separated) are killed (all of it is
# thrown away), CHAINSMITH_<NAME>_UNAVAILABLE=<the one-line reason> is written to $STACK_DIR/env.d/NAME.env, and the
# add-on exits 0, so the rest of the stack comes up and the add-on's e2e tests fail with that reason.
addon_guard() {
  ADDON_NAME=$1 ADDON_WHAT=$2 ADDON_PROCS=$3
  die() { addon_unavailable "$*"; }
  trap 'addon_unavailable "$ADDON_NAME-up.sh failed at line $LINENO; see $STACK_DIR/logs/addon-$ADDON_NAME.log"' ERR
}

addon_unavailable() {
  local p pid why
  trap - ERR
  for p in $ADDON_PROCS; do
    [ -f "$STACK_DIR/pids/$p.pid" ] || continue
    pid=$(cat "$STACK_DIR/pids/$p.pid")
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$STACK_DIR/pids/$p.pid" "$STACK_DIR/pids/$p.signal"
  done
  why=$(printf '%s' "$1" | tr -s '\t\n' '  ')   # one plain line (log lines may hold tabs)
  printf 'export CHAINSMITH_%s_UNAVAILABLE=%q\n' "${ADDON_NAME^^}" "$why" >"$STACK_DIR/env.d/$ADDON_NAME.env"
  say "$ADDON_WHAT is unavailable: $why"
  exit 0
}
