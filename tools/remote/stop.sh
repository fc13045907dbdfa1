#!/usr/bin/env bash
# Stops what tools/remote/start.sh STATE_DIR started (the process ids it
# recorded, nothing else), the worker first, then removes the worker's
# workspace inside the harness root. Safe to run twice.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$HERE/../lib/common.sh"
# shellcheck source=tools/remote/lib.sh
. "$HERE/lib.sh"

STATE="${1:?usage: tools/remote/stop.sh STATE_DIR}"
[ -f "$STATE/pids" ] || exit 0

alive() { kill -0 "$1" 2>/dev/null; }
# stop_pid NAME PID SECONDS: SIGTERM, then SIGKILL after SECONDS.
stop_pid() {
  local name="$1" pid="$2" secs="$3" i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < secs * 5; i++)); do
    alive "$pid" || return 0
    sleep 0.2
  done
  pyimage_log "$name (pid $pid) ignored SIGTERM for $secs s: killing it"
  kill -KILL "$pid" 2>/dev/null
}

pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$STATE/pids" | tail -n1; }
for name in worker buildgrid nginx; do
  pid="$(pid_of "$name")"
  # buildbox-worker needs 5-15 s to stop after SIGTERM.
  if [ -n "$pid" ]; then stop_pid "$name" "$pid" 20; fi
done
if [ -n "$(pid_of postgres)" ] && [ -d "$STATE/pg/data" ]; then
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STATE/pg/data" -m immediate -w stop >/dev/null 2>&1 ||
    stop_pid postgres "$(pid_of postgres)" 10
fi
if [ -f "$STATE/worker-workspace" ]; then
  ws="$(cat "$STATE/worker-workspace")"
  case "$ws" in "$PYIMAGE_ROOTFS"/tmp/pyimage-remote-worker.*) rm -rf --one-file-system "$ws" ;; esac
fi
: >"$STATE/pids"
