#!/usr/bin/env bash
# Cache economics of e2e/smoke's layers, measured: for each change, the
# actions executed, the actions served from the remote cache, the layers whose
# digest is new and the compressed bytes a registry push would upload (sizes of
# the layers whose digest the registry does not have yet, i.e. not among the
# baseline's layers).
#
#   bash e2e/remote/economics.sh [--check] [--write-doc] COPY_DIR CACHE_URL
#
# COPY_DIR: a scratch copy of the checkout (its files are edited and restored;
# never the checkout itself). CACHE_URL: --remote_cache for every build (e.g.
# the nginx of tools/remote/start.sh). --check: exit 1 unless the promises hold
# (app edit -> only the app layer; first-party lib edit -> only the lib layer;
# one dependency bump -> only its group's layer; interpreter bump -> only the
# interpreter layer, one PyImageInterpreter action; bazel clean -> nothing
# executed, nothing new). --write-doc: replace the table in docs/cache.md.
# test.sh runs it with --check; regenerate the documented table with
#   bash e2e/remote/test.sh --write-doc
set -uo pipefail
# shellcheck source=e2e/remote/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

CHECK=0 WRITE_DOC=0
while [ $# -gt 0 ]; do
  case "$1" in
    --check) CHECK=1 ;;
    --write-doc) WRITE_DOC=1 ;;
    *) break ;;
  esac
  shift
done
C="${1:?usage: economics.sh [--check] [--write-doc] COPY_DIR CACHE_URL}"
CACHE_URL="${2:?usage: economics.sh [--check] [--write-doc] COPY_DIR CACHE_URL}"
WS="$C/e2e/smoke"
BZ="$C/tools/bazel"
E="$OUT/economics"
rm -rf "$E"
mkdir -p "$E"
FLAGS=("${BASE_FLAGS[@]}" --remote_cache="$CACHE_URL")
# BASE_FLAGS select the copy's statically linked tool (lib.sh): test.sh installs it.
if [ ! -f "$WS/remote_tool/BUILD.bazel" ]; then
  build_static_tool && install_static_tool "$C" || exit 1
fi
# Flags of one scenario only (set by its edit, cleared after it).
EXTRA=()

bz() { (cd "$WS" && "$BZ" "$@"); }
# layers TSV_OUT: name, digest, compressed size of each layer of the current build
# (the plan names the interpreter layer).
layers() {
  local files=() f plan
  plan="$(bz cquery "${FLAGS[@]}" "${EXTRA[@]}" --output=files --output_groups=plan "${TARGETS[@]}" 2>/dev/null)"
  while IFS= read -r f; do files+=("$WS/$f"); done < <(bz cquery "${FLAGS[@]}" "${EXTRA[@]}" --output=files --output_groups=descriptors "${TARGETS[@]}" 2>/dev/null)
  "$PY" "$CHECKS" layers "$WS/$plan" "${files[@]}" >"$1"
}
# measure NAME: build with an execution log, then the layer table.
measure() {
  bz build "${FLAGS[@]}" "${EXTRA[@]}" "${OUTPUT_GROUPS[@]}" --execution_log_json_file="$E/$1.json" "${TARGETS[@]}" >"$E/$1.build.log" 2>&1 ||
    { tail -n 30 "$E/$1.build.log"; echo "build failed: $1"; }
  layers "$E/$1.tsv"
}
# The edits, each undone by restoring the copy's files from the checkout.
restore() { local f; for f in "$@"; do cp "$REPO/e2e/smoke/$f" "$WS/$f"; done; }
settle() { bz build "${FLAGS[@]}" "${OUTPUT_GROUPS[@]}" "${TARGETS[@]}" >"$E/settle.log" 2>&1 || tail -n 30 "$E/settle.log"; }

SCENARIOS=()
# scenario NAME LABEL RESTORE_FILES EDIT_FUNCTION
scenario() {
  local name="$1" label="$2" restore_list="$3" edit="$4"
  "$edit"
  measure "$name"
  SCENARIOS+=("$name|$label")
  # shellcheck disable=SC2086
  restore $restore_list
  EXTRA=()
  settle
}

edit_app() { printf '\n# economics: app edit\n' >>"$WS/app/main.py"; }
edit_lib() { printf '\n# economics: first-party lib edit\n' >>"$WS/lib/greeting.py"; }
# six 1.16.0 -> 1.17.0 (in the squashed `pip` group).
edit_bump() {
  sed -i -e 's/^six==1.16.0/six==1.17.0/' \
    -e 's/8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254/4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274/' \
    "$WS/requirements.txt"
}
# attrs 23.2.0, a new dependency of the app (lands in the squashed `pip` group).
edit_new_dep() {
  printf 'attrs==23.2.0 \\\n    --hash=sha256:99b87a485a5820b23b879f04c2305b44b951b502fd64be915879d77a7e8fc6f1\n' >>"$WS/requirements.txt"
  sed -i 's/        requirement("certifi"),/        requirement("attrs"),\n        requirement("certifi"),/' "$WS/app/BUILD.bazel"
}
# Another tier: every pip package its own layer (instead of `web` + squashed `pip`).
edit_tier() {
  cat >>"$WS/image/BUILD.bazel" <<'TIER'

layer_tier(
    name = "tier_per_package",
    groups = {p: [p] for p in ["certifi", "charset-normalizer", "colorama", "idna", "packaging", "requests", "six", "tabulate", "urllib3"]} | {"lib": ["//lib/..."]},
    interpreter_group = "python",
)
TIER
  sed -i 's|layer_tier = "//image:tier",|layer_tier = "//image:tier_per_package",|' "$WS/app/BUILD.bazel"
}
# The interpreter with one changed standard library file: the image cache of
# tools/image (where @pyimage_python311 copies its tree from) copied, the copy's
# os.py edited, and the repository re-fetched from it (--repo_env).
edit_interpreter() {
  local src="${PYIMAGE_IMAGE_CACHE:-$PYIMAGE_ROOT/tools/image}" cache="$E/image-cache"
  rm -rf "$cache"
  mkdir -p "$cache"
  ln -s "$src/base" "$cache/base"
  ln -s "$src/base.stamp" "$cache/base.stamp"
  # the tree's folder name is versioned by tools/image/make-interpreter.sh (NAME)
  local tree
  tree="$(sed -n 's/^NAME=//p' "$REPO/tools/image/make-interpreter.sh")"
  cp -R -p "$src/$tree" "$src/$tree.stamp" "$cache/"
  printf '\n# economics: interpreter bump\n' >>"$cache/$tree/lib/python3.11/os.py"
  EXTRA=(--repo_env=PYIMAGE_IMAGE_CACHE="$cache")
}
edit_clean() { bz clean >/dev/null 2>&1; }

echo "baseline build of $WS (remote cache $CACHE_URL)"
restore app/main.py lib/greeting.py requirements.txt app/BUILD.bazel image/BUILD.bazel
settle
layers "$E/baseline.tsv"
cat "$E/baseline.tsv"
scenario app "app edit (app/main.py)" "app/main.py" edit_app
scenario lib "first-party lib edit (lib/greeting.py)" "lib/greeting.py" edit_lib
scenario bump "one dependency bump (six 1.16.0 -> 1.17.0)" "requirements.txt" edit_bump
scenario new_dep "a new dependency (attrs 23.2.0)" "requirements.txt app/BUILD.bazel" edit_new_dep
scenario interpreter "interpreter bump (one changed file in the runtime's tree)" "" edit_interpreter
scenario tier "tier switch (web + squashed pip -> one layer per package)" "app/BUILD.bazel image/BUILD.bazel" edit_tier
scenario clean "bazel clean, then build" "" edit_clean

args=()
for s in "${SCENARIOS[@]}"; do args+=("${s%%|*}=${s#*|}"); done
table_args=(--dir "$E")
[ "$CHECK" = 1 ] && table_args+=(--check)
"$PY" "$HERE/economics_table.py" "${table_args[@]}" "${args[@]}" >"$E/table.md"
rc=$?
cat "$E/table.md"
if [ "$WRITE_DOC" = 1 ]; then
  "$PY" "$HERE/economics_table.py" --write-doc "$REPO/docs/cache.md" --table "$E/table.md" || rc=1
fi
exit "$rc"
