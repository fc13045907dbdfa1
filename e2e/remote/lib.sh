# shellcheck shell=bash disable=SC2034,SC2054
# Shared by e2e/remote/test.sh and e2e/remote/economics.sh: scratch copies of
# the checkout, Bazel flags for the servers of tools/remote/start.sh, counters.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../.." && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$REPO/tools/lib/common.sh"
PY="${PYTHON:-python3}"
CHECKS="$HERE/execlog_checks.py"
# Shared by every checkout's runs; test.sh holds $WORK_ROOT/lock for its whole run.
WORK_ROOT="$PYIMAGE_OUTPUT/remote-e2e"

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

# The copies' pyimage tool: statically linked, because buildbox-run-bubblewrap's
# sandbox holds only an action's input root (no dynamic loader, no libc), built from
# this checkout with cargo (--target: RUSTFLAGS then skip build scripts and proc
# macros) into a target dir of this checkout's own, and registered in each copy's
# e2e/smoke as //remote_tool:toolchain, ahead of the module's (BASE_FLAGS).
STATIC_TARGET_DIR="$WORK/cargo-target-static"
STATIC_TOOL="$WORK/pyimage-static"
build_static_tool() {
  local cargo triple
  cargo="$(command -v cargo || echo "${CARGO_HOME:-$HOME/.cargo}/bin/cargo")"
  case "$(uname -m)" in
    x86_64) triple=x86_64-unknown-linux-gnu ;;
    aarch64) triple=aarch64-unknown-linux-gnu ;;
    *) echo "no static pyimage build for $(uname -m)" >&2 && return 1 ;;
  esac
  (cd "$REPO" && env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS="-C target-feature=+crt-static" "$cargo" build --release --locked -p pyimage \
    --target "$triple" --target-dir "$STATIC_TARGET_DIR") || return 1
  cp -f "$STATIC_TARGET_DIR/$triple/release/pyimage" "$STATIC_TOOL"
}
# install_static_tool COPY: the toolchain package //remote_tool of COPY's e2e/smoke.
install_static_tool() {
  local pkg="$1/e2e/smoke/remote_tool"
  mkdir -p "$pkg"
  cp -f "$STATIC_TOOL" "$pkg/pyimage"
  cat >"$pkg/BUILD.bazel" <<'BUILD'
# Written by e2e/remote: the statically linked pyimage (runs in any sandbox).
load("@rules_pyimage//py:toolchain.bzl", "pyimage_toolchain")

pyimage_toolchain(
    name = "impl",
    tool = ":pyimage",
    version = "static",
)

toolchain(
    name = "toolchain",
    # @platforms is no dependency of e2e/smoke; its canonical name is.
    exec_compatible_with = ["@@platforms//os:linux", "@@platforms//cpu:CPU"],
    toolchain = ":impl",
    toolchain_type = "@rules_pyimage//py/toolchain:type",
)
BUILD
  sed -i "s|cpu:CPU|cpu:$(uname -m)|" "$pkg/BUILD.bazel"
}
TOOL_FLAGS=(--extra_toolchains=//remote_tool:toolchain)

# tool_of WS_DIR: sha256 of the pyimage binary the copy's toolchain uses.
tool_of() { sha256sum "$1/remote_tool/pyimage" 2>/dev/null | cut -c1-64; }

# Flags of every measured build: no disk cache (a hit there would hide what the
# remote did), all outputs downloaded (later builds read them locally).
BASE_FLAGS=(--disk_cache= --remote_download_outputs=all --color=no --curses=no --show_progress_rate_limit=60 "${TOOL_FLAGS[@]}")
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
