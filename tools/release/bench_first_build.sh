#!/usr/bin/env bash
# Time from a cold Bazel server to built smoke layers: prebuilt `pyimage` vs source build.
#
#   tools/release/bench_first_build.sh prepare        cut release 0.1.0-bench (file:// URLs)
#                                                     and write two user workspaces
#   tools/release/bench_first_build.sh run prebuilt   one measured first build, each with
#   tools/release/bench_first_build.sh run source     a stopped Bazel server before it
#
# Both workspaces hold e2e/smoke's app and tier (e2e/release/workspace.sh). `prebuilt` uses
# rules_pyimage 0.1.0-bench from the release's registry entry; `source` uses this checkout
# (local_path_override), as development does. Each `run` stops the workspace's Bazel server,
# deletes its pyimage repository (the download, or the cargo build: with a warm
# CARGO_TARGET_DIR a no-op, with an empty one a full compile) and every pyimage output, then
# runs `bazel build //app:layers --disk_cache=`. The pip and interpreter repositories stay
# fetched in both. Time `run` with any process timer, e.g.
#   hyperfine -w1 -r5 'tools/release/bench_first_build.sh run prebuilt' 'tools/release/bench_first_build.sh run source'
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../.." && pwd -P)"
BAZEL="${BAZEL:-$REPO/tools/bazel}"
: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
DIR="${PYIMAGE_BENCH_DIR:-$REPO/e2e/release/.bench}"
VERSION=0.1.0-bench
# shellcheck source=e2e/release/workspace.sh
. "$REPO/e2e/release/workspace.sh"

prepare() {
  rm -rf "$DIR/dist" "$DIR/prebuilt" "$DIR/source"
  mkdir -p "$DIR/dist"
  PYIMAGE_RELEASE_TARGET_DIR="${PYIMAGE_RELEASE_TARGET_DIR:-$PYIMAGE_ROOT/output/cargo-release}" \
    bash "$HERE/release.sh" --base-url "file://$DIR/dist" "$VERSION" "$DIR/dist"
  write_user_workspace "$DIR/prebuilt" "$REPO/e2e/smoke" "$DIR/dist/registry" "$VERSION"
  write_user_workspace "$DIR/source" "$REPO/e2e/smoke" "$DIR/dist/registry" "$VERSION"
  sed -i "s|^bazel_dep(name = \"rules_pyimage\", version = \"$VERSION\")|bazel_dep(name = \"rules_pyimage\", version = \"0.0.0\")\nlocal_path_override(\n    module_name = \"rules_pyimage\",\n    path = \"$REPO\",\n)\n|" "$DIR/source/MODULE.bazel"
  local mode
  for mode in prebuilt source; do
    (cd "$DIR/$mode" && "$BAZEL" build //app:layers) || exit 1
  done
}

run() {
  local mode="$1" ws="$DIR/$1" repo ob bin
  case "$mode" in
    prebuilt) repo="rules_pyimage~~pyimage~pyimage_x86_64_unknown_linux_gnu" ;;
    source) repo="rules_pyimage~~pyimage~pyimage_source" ;;
    *) echo "usage: $0 run prebuilt|source" >&2; exit 2 ;;
  esac
  [ -f "$ws/MODULE.bazel" ] || { echo "run '$0 prepare' first" >&2; exit 2; }
  cd "$ws"
  ob="$("$BAZEL" info output_base 2>/dev/null)"
  bin="$(readlink -f bazel-bin)"
  "$BAZEL" shutdown
  rm -rf "$ob/external/$repo" "$ob/external/@$repo.marker" "$bin/app/layers_layers"
  find "$bin" -type d -name _pyimage -prune -exec rm -rf {} +
  "$BAZEL" build --disk_cache= //app:layers
}

case "${1:-}" in
  prepare) prepare ;;
  run) run "${2:-}" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
