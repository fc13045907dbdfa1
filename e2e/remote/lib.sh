# shellcheck shell=bash disable=SC2034,SC2054
# Shared by e2e/remote/test.sh and e2e/remote/economics.sh: scratch copies of
# the checkout, Bazel flags for the servers of tools/remote/start.sh, counters.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../.." && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$REPO/tools/lib/common.sh"
PY="${PYTHON:-python3}"
CHECKS="$HERE/execlog_checks.py"
# The copies build the pyimage tool in their own cargo target dir. Not the
# machine's shared one: cargo tracks a workspace member by its path relative to
# the workspace and by file times, so after another checkout (other sources,
# same relative paths) built there, cargo may call a copy's build fresh and hand
# over that checkout's binary. test.sh holds $WORK_ROOT/lock for its whole run, so
# only one e2e/remote run uses this target dir at a time.
WORK_ROOT="$PYIMAGE_OUTPUT/remote-e2e"
export CARGO_TARGET_DIR="$WORK_ROOT/cargo-target"

# Scratch copies live under Bazel's output root (mounted at the same path inside
# the harness root), at a path fixed per checkout: their output bases and
# external repositories stay warm between runs, while `bazel clean` before
# each measured build makes it cold for actions.
WORK="$WORK_ROOT/$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
OUT="$WORK/out"

# copy_checkout DEST: the checkout's files (tracked and untracked, not ignored;
# only e2e/smoke of the e2e workspaces) at DEST, replacing what was there. The
# files get the current time (tar -m): newer than any earlier build, so cargo
# rebuilds the tool whenever Bazel asks it to.
copy_checkout() {
  local dest="$1"
  rm -rf --one-file-system "$dest"
  mkdir -p "$dest"
  (cd "$REPO" && git ls-files -co --exclude-standard -z | grep -zv -E '^e2e/' || true) |
    (cd "$REPO" && tar --null -T - -cf -) | tar -C "$dest" -m -xf -
  (cd "$REPO" && git ls-files -co --exclude-standard -z -- e2e/smoke | tar --null -T - -cf -) | tar -C "$dest" -m -xf -
}

# First use: start the private target dir from a copy of the machine's shared
# one (compiled dependencies; the tool itself is rebuilt from the copy's newer
# sources), taken under the lock the source toolchain builds under.
seed_cargo_target() {
  local shared="$PYIMAGE_OUTPUT/cargo-target"
  [ -d "$CARGO_TARGET_DIR/release" ] && return 0
  mkdir -p "$CARGO_TARGET_DIR"
  [ -d "$shared/release" ] || return 0
  flock "$shared/.pyimage-build.lock" cp -a "$shared/release" "$CARGO_TARGET_DIR/release.new" &&
    mv "$CARGO_TARGET_DIR/release.new" "$CARGO_TARGET_DIR/release"
}

# tool_of WS_DIR BAZEL: sha256 of the pyimage binary the workspace's toolchain uses.
tool_of() {
  local base
  base="$(cd "$1" && "$2" info output_base 2>/dev/null)"
  sha256sum "$base/external/rules_pyimage~~pyimage~pyimage_source/pyimage" 2>/dev/null | cut -c1-64
}

# Flags of every measured build: no disk cache (a hit there would hide what the
# remote did), all outputs downloaded (later builds read them locally).
BASE_FLAGS=(--disk_cache= --remote_download_outputs=all --color=no --curses=no --show_progress_rate_limit=60)
# What is built: the smoke app's layers and every output of the rules' own
# actions (descriptors, report, plan; validation runs by default).
TARGETS=(//app:layers)
OUTPUT_GROUPS=(--output_groups=default,descriptors,report,plan)

passed=0 failed=0
step() { printf '\n=== remote: %s\n' "$*"; }
# check NAME CMD...: runs CMD, counts and prints the result.
check() {
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    printf 'ok   %s\n' "$name"
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n' "$name"
  fi
}
