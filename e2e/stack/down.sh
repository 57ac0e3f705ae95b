#!/usr/bin/env bash
# npm run stack:down — stops every process the stack started (core and add-ons: one pid file
# each in $STACK_DIR/pids), also after a crashed or interrupted run, and removes the run's state
# and data. Logs stay in $STACK_DIR/logs until the next stack:up. Safe to run twice.
set -euo pipefail
. "$(dirname "$0")/common.sh"
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
: "${STOP_TIMEOUT:=15}"
[ -d "$STACK_DIR" ] || { say "no stack in $STACK_DIR"; exit 0; }
if [ -z "${STACK_LOCK_HELD:-}" ]; then
  exec 8>"$STACK_DIR/.lock"
  flock -w 600 8 || die "timed out waiting for $STACK_DIR/.lock held by another stack:up/down"
fi

# started_at PID: the process's start time in clock ticks since boot (field 22 of /proc/PID/stat).
started_at() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }
boot_epoch() { awk '/^btime/{print $2}' /proc/stat; }

# ours PIDFILE PID: the pid still belongs to the process we started, not to a later reuse of
# the number (its start is no later than the pid file was written).
ours() {
  local start ticks
  ticks=$(getconf CLK_TCK)
  start=$(started_at "$2") || return 1
  [ -n "$start" ] || return 1
  [ $(( $(boot_epoch) + start / ticks )) -le $(( $(stat -c %Y "$1") + 2 )) ]
}

# stop_group PIDFILE...: SIGTERM to each recorded process that is still ours, then wait for all of
# them (SIGKILL after STOP_TIMEOUT). A NAME.signal file next to NAME.pid names another first signal (KILL for a
# process whose graceful exit only costs time, such as Trillian's servers, which sleep 5-10 s on SIGTERM).
total=0
stop_group() {
  local f name pid sig entry deadline group=()
  for f in "$@"; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .pid); pid=$(tr -dc 0-9 <"$f")
    sig=$(tr -dc A-Z 2>/dev/null <"${f%.pid}.signal" || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ours "$f" "$pid"; then
      # A daemon started with setsid leads its own process group: stop its children with it.
      if [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then kill -"${sig:-TERM}" -- "-$pid" 2>/dev/null || true
      else kill -"${sig:-TERM}" "$pid" 2>/dev/null || true; fi
      group+=("$name:$pid")
    fi
  done
  deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  for entry in "${group[@]}"; do
    pid=${entry#*:}
    while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "${entry%%:*} (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  total=$(( total + ${#group[@]} ))
}
# Clients first, etcd last: an apiserver whose etcd is gone drags out its own shutdown.
others=()
for f in "$STACK_DIR"/pids/*.pid; do
  case "$(basename "$f")" in etcd.pid|kube-apiserver.pid) ;; *) others+=("$f") ;; esac
done
stop_group "${others[@]}"
stop_group "$STACK_DIR/pids/kube-apiserver.pid"
stop_group "$STACK_DIR/pids/etcd.pid"

if [ -f "$STACK_DIR/datadir" ]; then
  data=$(cat "$STACK_DIR/datadir")
  case "$data" in */chainsmith-stack.*) rm -rf "$data" ;; esac
fi
rm -rf "$STACK_DIR/pids" "$STACK_DIR/env.d" "$STACK_DIR/bin" "$STACK_DIR/pki" "$STACK_DIR/env" "$STACK_DIR/env.tmp" "$STACK_DIR/sigstore" \
  "$STACK_DIR/datadir" "$STACK_DIR/admin.kubeconfig" "$STACK_DIR/registry.yml" "$STACK_DIR/rekor" \
  "$STACK_DIR/fulcio" "$STACK_DIR/storage"
say "stack down ($total processes stopped; logs kept in $STACK_DIR/logs)"
