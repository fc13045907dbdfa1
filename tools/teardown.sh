#!/usr/bin/env bash
# Stops every Bazel server of the offline harness and removes all its mounts.
# Afterwards `findmnt | grep $PYIMAGE_ROOT/rootfs` shows nothing and no process
# runs inside the root. The root itself and the caches stay (tools/setup.sh
# and the next tools/bazel call reuse them). Safe to run any time, repeatedly.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$HERE/lib/common.sh"

[ -d "$PYIMAGE_ROOTFS" ] || exit 0
pyimage_require_root_user

teardown() {
  local pidfile pid ws n=0
  # Ask each running server to shut down cleanly, from its own workspace.
  for pidfile in "$PYIMAGE_OUTPUT"/*/server/server.pid.txt; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || continue
    ws="$(cat "$(dirname "$(dirname "$pidfile")")/DO_NOT_BUILD_HERE" 2>/dev/null || true)"
    if [ -n "$ws" ] && [ -d "$PYIMAGE_ROOTFS$ws" ] && [ -x "$PYIMAGE_ROOTFS/usr/bin/bazel" ]; then
      timeout 30 chroot "$PYIMAGE_ROOTFS" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin \
        /usr/bin/env -C "$ws" /usr/bin/bazel shutdown >/dev/null 2>&1 || true
    fi
    n=$((n + 1))
  done
  # Anything still running inside the root (servers, workers, `bazel run`
  # children) is stopped, then every mount below the root is removed.
  pyimage_kill_and_unmount
  local left
  left="$(pyimage_mounts_under "$PYIMAGE_ROOTFS" | grep -vx "$PYIMAGE_ROOTFS" || true)"
  if [ -n "$left" ]; then
    pyimage_log "mounts still present under $PYIMAGE_ROOTFS:"
    printf '%s\n' "$left" >&2
    return 1
  fi
  pyimage_log "teardown: $n Bazel server(s) stopped, no mounts left under $PYIMAGE_ROOTFS"
}
pyimage_with_lock teardown
