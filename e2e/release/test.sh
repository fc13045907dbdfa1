#!/usr/bin/env bash
# e2e/release: rules_pyimage as a user installs it, offline (run by tools/test-all.sh
# after `bazel test //...` here, which has no targets; or by hand: e2e/release/test.sh).
#
#   1. tools/release/release.sh cuts version 0.1.0-test into .work/dist (twice: same bytes);
#      the binaries are served by a loopback HTTP server on a free port, the registry
#      entry it writes is the only registry Bazel may use (--registry=file://...).
#   2. A workspace that only says bazel_dep(name = "rules_pyimage", version = "0.1.0-test")
#      builds the smoke app's layers with cargo unreachable (tools/bazel with
#      PYIMAGE_NO_CARGO=1): the binary comes from the server, the source repository rule
#      never runs, every pyimage action runs the downloaded binary, and the layers are
#      byte-identical to e2e/smoke's (built from source).
#   3. Failures, each with a clear message and no layer written: cargo is really
#      unreachable (from_source = True fails), an exec platform without a binary,
#      a tampered binary, the server down.
# Ends with a `N passed, N failed` line.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="${REPO_ROOT:-$(cd "$HERE/../.." && pwd -P)}"
BAZEL="${BAZEL:-$REPO/tools/bazel}"
: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
VERSION=0.1.0-test
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) PLATFORM=x86_64-unknown-linux-gnu ;;
  Linux/aarch64) PLATFORM=aarch64-unknown-linux-gnu ;;
  *)
    echo "e2e/release: no release platform for $(uname -s)/$(uname -m)"
    echo "0 passed, 1 failed"
    exit 1
    ;;
esac
BIN_NAME="pyimage-$VERSION-$PLATFORM"
PREBUILT_REPO="rules_pyimage~~pyimage~pyimage_${PLATFORM//-/_}"
WORK="$HERE/.work"
DIST="$WORK/dist"
WS="$WORK/ws"
NOCARGO_WS="$WORK/nocargo"
LOG="$WORK/logs"
# shellcheck source=e2e/release/workspace.sh
. "$HERE/workspace.sh"

passes=0 fails=0 T0=$SECONDS
server_pid="" port=""
step() { printf '\n=== release [%3d s]: %s\n' "$((SECONDS - T0))" "$*"; }
pass() {
  printf 'ok   %s\n' "$*"
  passes=$((passes + 1))
}
fail() {
  printf 'FAIL %s\n' "$*"
  fails=$((fails + 1))
}
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
  fi
}
stop_bazel() {
  local d
  for d in "$WS" "$NOCARGO_WS"; do
    if [ -f "$d/MODULE.bazel" ]; then (cd "$d" && "$BAZEL" shutdown >/dev/null 2>&1); fi
  done
}
cleanup() {
  stop_server
  stop_bazel
}
trap cleanup EXIT
trap 'exit 130' INT TERM
finish() {
  echo
  echo "release: finished in $((SECONDS - T0)) s"
  stop_server
  stop_bazel
  if [ "$fails" = 0 ]; then rm -rf "$WORK"; else echo "release: work folder kept: $WORK"; fi
  echo "$passes passed, $fails failed"
  [ "$fails" = 0 ]
  exit $?
}

# start_server [PORT]: python3 -m http.server on 127.0.0.1 serving $DIST; access log in $LOG/http.log.
start_server() {
  local want="${1:-0}"
  python3 -u -m http.server --bind 127.0.0.1 --directory "$DIST" "$want" >"$LOG/http.out" 2>>"$LOG/http.log" &
  server_pid=$!
  for _ in $(seq 100); do
    port="$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\).*/\1/p' "$LOG/http.out")"
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$LOG/http.out" "$LOG/http.log"
  server_pid=""
  return 1
}
# Lines of the access log for the binary since the last mark_log.
mark_log() { log_mark="$(wc -l <"$LOG/http.log")"; }
binary_gets() { tail -n +"$((log_mark + 1))" "$LOG/http.log" | grep -c "\"GET /$BIN_NAME HTTP/1.1\" 200"; }

# Bazel as a user without Rust: cargo hidden, a private repository cache (so every
# case really downloads), no disk cache (so every action really runs).
ubazel() { PYIMAGE_NO_CARGO=1 "$BAZEL" "$@"; }
BUILD_FLAGS=(--repository_cache="$WORK/repository-cache" --disk_cache= --color=no --curses=no)

rm -rf "$WORK"
mkdir -p "$DIST" "$LOG"
touch "$LOG/http.log"

# ---- 1. the release ----------------------------------------------------------------
step "loopback HTTP server"
if start_server; then pass "python3 -m http.server on 127.0.0.1:$port (pid $server_pid)"; else
  fail "could not start python3 -m http.server"
  finish
fi
BASE_URL="http://127.0.0.1:$port"

step "tools/release/release.sh $VERSION (twice)"
export PYIMAGE_RELEASE_TARGET_DIR="${PYIMAGE_RELEASE_TARGET_DIR:-$PYIMAGE_ROOT/output/cargo-release}"
release() {
  bash "$REPO/tools/release/release.sh" --base-url "$BASE_URL" \
    --archive-url "file://$DIST/rules_pyimage-$VERSION.tar.gz" "$VERSION" "$1"
}
if release "$DIST" >"$LOG/release1.log" 2>&1 && release "$WORK/dist2" >"$LOG/release2.log" 2>&1; then
  pass "release.sh wrote $(cd "$DIST" && find . -maxdepth 1 -type f | sort | tr '\n' ' ')"
else
  tail -n 30 "$LOG/release1.log" "$LOG/release2.log"
  fail "release.sh"
  finish
fi
cat "$DIST/INTEGRITY"
if (cd "$DIST" && sha256sum "$BIN_NAME" "rules_pyimage-$VERSION.tar.gz" versions.bzl) >"$LOG/sums1" &&
  (cd "$WORK/dist2" && sha256sum "$BIN_NAME" "rules_pyimage-$VERSION.tar.gz" versions.bzl) >"$LOG/sums2" &&
  cmp -s "$LOG/sums1" "$LOG/sums2"; then
  pass "two releases are byte-identical (binary, archive, versions table)"
else
  diff "$LOG/sums1" "$LOG/sums2"
  fail "two releases differ"
fi
if file -b "$DIST/$BIN_NAME" | grep -q 'static' && "$DIST/$BIN_NAME" --help >/dev/null 2>&1; then
  pass "$BIN_NAME is statically linked and runs ($(file -b "$DIST/$BIN_NAME" | cut -d, -f1-2))"
else
  file "$DIST/$BIN_NAME"
  fail "$BIN_NAME is not a static, runnable binary"
fi
tar -tzf "$DIST/rules_pyimage-$VERSION.tar.gz" >"$LOG/archive.txt"
tar -xzOf "$DIST/rules_pyimage-$VERSION.tar.gz" "rules_pyimage-$VERSION/py/private/versions.bzl" >"$LOG/versions.bzl" 2>/dev/null
tar -xzOf "$DIST/rules_pyimage-$VERSION.tar.gz" "rules_pyimage-$VERSION/MODULE.bazel" >"$LOG/MODULE.bazel" 2>/dev/null
bad="$(grep -E "^rules_pyimage-$VERSION/(e2e|target|tests|tools/(bazel|lib|setup|test-all)|\.ci)(/|$)|/target/" "$LOG/archive.txt")"
if [ -z "$bad" ] && grep -qx "rules_pyimage-$VERSION/LICENSE" "$LOG/archive.txt" &&
  grep -q "\"$VERSION\": {" "$LOG/versions.bzl" && grep -qF "\"url\": \"$BASE_URL/$BIN_NAME\"" "$LOG/versions.bzl" &&
  grep -qF "$(awk -v f="$BIN_NAME" '$2 == f { print $1 }' "$DIST/INTEGRITY")" "$LOG/versions.bzl" &&
  grep -q "version = \"$VERSION\"" "$LOG/MODULE.bazel"; then
  pass "archive: $(wc -l <"$LOG/archive.txt") module files, no e2e/target/harness; its versions.bzl names $BIN_NAME with its integrity; MODULE.bazel says $VERSION"
else
  printf 'unexpected files:\n%s\n' "$bad"
  cat "$LOG/versions.bzl"
  grep -n version "$LOG/MODULE.bazel"
  fail "archive content"
fi
REGISTRY="$DIST/registry"
if [ -f "$REGISTRY/modules/rules_pyimage/$VERSION/source.json" ] &&
  grep -q "\"$VERSION\"" "$REGISTRY/modules/rules_pyimage/metadata.json"; then
  pass "registry entry: $(cd "$REGISTRY" && find . -type f | sort | tr '\n' ' ')"
else
  fail "registry entry missing"
  finish
fi

# ---- 2. the user's workspaces ----------------------------------------------------------
step "generate the user workspace (smoke's app, lib, requirements and tier)"
SMOKE="$REPO/e2e/smoke"
write_user_workspace "$WS" "$SMOKE" "$REGISTRY" "$VERSION"
if [ -s "$WS/image/BUILD.bazel" ]; then pass "workspace $WS"; else
  fail "could not extract the tier of e2e/smoke"
  finish
fi
OUTPUT_BASE="$(cd "$WS" && ubazel info output_base 2>"$LOG/info.log")"
BIN_DIR="$(cd "$WS" && ubazel info bazel-bin 2>>"$LOG/info.log")"
EXTERNAL="$OUTPUT_BASE/external"
LAYERS_DIR="$BIN_DIR/app/layers_layers"
# The interpreter layer is declared once per runtime, in the module's own package.
INTERPRETER_DIR="$BIN_DIR/external/rules_pyimage~/py/private/interpreter_layer"
HUB="@@rules_pyimage~~pyimage~pyimage_toolchains"
# The layers of //app:layers (also those a previous run left in the output base).
layer_files() { find "$LAYERS_DIR" "$INTERPRETER_DIR" -name '*.tar*' 2>/dev/null; }
rm_layers() { rm -rf "$LAYERS_DIR" "$INTERPRETER_DIR"; }
no_layers() { [ -z "$(layer_files)" ]; }

# expect_failure NAME LOG PATTERN...: the build failed, its output has every pattern,
# and no layer was written.
expect_failure() {
  local name="$1" log="$2" rc="$3" p missing=""
  shift 3
  for p in "$@"; do grep -qF -- "$p" "$log" || missing+=" [$p]"; done
  if [ "$rc" != 0 ] && [ -z "$missing" ] && no_layers; then
    pass "$name, no layer written: $(grep -m1 -F -- "$1" "$log" | sed 's/^.*\(Error in [a-z]*: \)/\1/' | cut -c1-240)"
  else
    tail -n 25 "$log"
    fail "$name (exit $rc; missing from the output:${missing:- nothing}; layers written: $(no_layers && echo no || echo yes))"
  fi
}

step "cargo is unreachable for the user's Bazel: from_source = True fails"
rm_layers
mkdir -p "$NOCARGO_WS"
cp "$WS/.bazelrc" "$NOCARGO_WS/"
cat >"$NOCARGO_WS/MODULE.bazel" <<EOF
"""Generated by e2e/release/test.sh: forces the source build, without cargo."""

module(name = "nocargo")

bazel_dep(name = "rules_pyimage", version = "$VERSION")

pyimage = use_extension("@rules_pyimage//py:extensions.bzl", "pyimage")
pyimage.toolchain(from_source = True)
use_repo(pyimage, "pyimage_source")
EOF
: >"$NOCARGO_WS/BUILD.bazel"
(cd "$NOCARGO_WS" && ubazel build "${BUILD_FLAGS[@]}" @pyimage_source//:pyimage) >"$LOG/nocargo.log" 2>&1
rc=$?
expect_failure "no cargo" "$LOG/nocargo.log" "$rc" "cannot find \`cargo\` (looked on PATH, in \$CARGO_HOME/bin and ~/.cargo/bin)"
(cd "$NOCARGO_WS" && "$BAZEL" shutdown >/dev/null 2>&1)

step "an exec platform without a prebuilt binary"
rm_layers
mark_log
(cd "$WS" && ubazel build "${BUILD_FLAGS[@]}" --extra_execution_platforms=//:linux_s390x //app:layers) >"$LOG/platform.log" 2>&1
rc=$?
expect_failure "missing platform" "$LOG/platform.log" "$rc" \
  "rules_pyimage $VERSION has no prebuilt \`pyimage\` for exec platform //:linux_s390x" \
  "pyimage.toolchain(from_source = True)"
if [ "$(binary_gets)" = 0 ]; then pass "missing platform: no binary was downloaded"; else fail "missing platform: the $PLATFORM binary was downloaded"; fi

step "a tampered binary"
cp -p "$DIST/$BIN_NAME" "$WORK/$BIN_NAME.good"
printf 'tampered' >>"$DIST/$BIN_NAME"
rm_layers
mark_log
(cd "$WS" && ubazel build "${BUILD_FLAGS[@]}" //app:layers) >"$LOG/tampered.log" 2>&1
rc=$?
expect_failure "tampered binary" "$LOG/tampered.log" "$rc" "Checksum was" "$BASE_URL/$BIN_NAME" \
  "but wanted $(awk -v f="$BIN_NAME" '$2 == f { print $1 }' "$DIST/INTEGRITY")"
if [ "$(binary_gets)" -ge 1 ] && [ ! -e "$EXTERNAL/$PREBUILT_REPO/pyimage" ]; then
  pass "tampered binary: downloaded ($(binary_gets)x in the server log) and refused, nothing left in $PREBUILT_REPO"
else
  ls -l "$EXTERNAL/$PREBUILT_REPO" 2>&1
  fail "tampered binary: expected a download and no pyimage in the repository"
fi
cp -p "$WORK/$BIN_NAME.good" "$DIST/$BIN_NAME"

step "the HTTP server down"
stop_server
rm_layers
(cd "$WS" && ubazel build "${BUILD_FLAGS[@]}" //app:layers) >"$LOG/down.log" 2>&1
rc=$?
expect_failure "server down" "$LOG/down.log" "$rc" "Connection refused" "Error downloading [$BASE_URL/$BIN_NAME]"
if start_server "${BASE_URL##*:}"; then pass "server restarted on $BASE_URL"; else
  fail "could not restart the server on $BASE_URL"
  finish
fi

step "the user's build: //app:layers with the downloaded binary, no cargo"
rm_layers
mark_log
(cd "$WS" && ubazel build "${BUILD_FLAGS[@]}" --execution_log_json_file="$LOG/exec.json" //app:layers) >"$LOG/build.log" 2>&1
rc=$?
if [ "$rc" = 0 ]; then pass "bazel build //app:layers ($(grep -oE 'Elapsed time: [0-9.]+s' "$LOG/build.log"))"; else
  tail -n 30 "$LOG/build.log"
  fail "bazel build //app:layers"
  finish
fi
if [ "$(binary_gets)" = 1 ] && cmp -s "$EXTERNAL/$PREBUILT_REPO/pyimage" "$DIST/$BIN_NAME"; then
  pass "the binary was downloaded once from $BASE_URL/$BIN_NAME and is the released file"
else
  tail -n 5 "$LOG/http.log"
  fail "expected exactly one download of $BIN_NAME ($(binary_gets) seen) equal to the released file"
fi
(cd "$WS" && ubazel query --repository_cache="$WORK/repository-cache" "deps($HUB//:all)" 2>/dev/null) >"$LOG/toolchain-deps.txt"
if [ -z "$(find "$EXTERNAL" -maxdepth 1 -name '*pyimage_source*')" ] && grep -q "$PREBUILT_REPO//:pyimage" "$LOG/toolchain-deps.txt" &&
  ! grep -q pyimage_source "$LOG/toolchain-deps.txt"; then
  pass "the source repository rule never ran (no pyimage_source in $EXTERNAL; the toolchains depend on $PREBUILT_REPO only)"
else
  find "$EXTERNAL" -maxdepth 1 -name '*pyimage*'
  grep pyimage "$LOG/toolchain-deps.txt"
  fail "pyimage_source was created, or the toolchains depend on it"
fi
# Every action running a pyimage binary ran the downloaded one.
tools_used="$(python3 - "$LOG/exec.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec, i, tools = json.JSONDecoder(), 0, {}
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    spawn, i = dec.raw_decode(text, i)
    args = spawn.get("commandArgs") or [""]
    for a in args[:3]:
        if a.endswith("/pyimage"):
            tools[a] = tools.get(a, 0) + 1
for t, n in sorted(tools.items()):
    print("%d %s" % (n, t))
PY
)"
echo "$tools_used"
if [ -n "$tools_used" ] && [ "$(echo "$tools_used" | grep -vc "external/$PREBUILT_REPO/pyimage$")" = 0 ]; then
  pass "every pyimage action ran external/$PREBUILT_REPO/pyimage ($(echo "$tools_used" | awk '{ s += $1 } END { print s }') actions)"
else
  fail "pyimage actions ran another binary (or none ran)"
fi

step "the same layers as e2e/smoke's source build"
(cd "$SMOKE" && "$BAZEL" build //app:layers) >"$LOG/smoke.log" 2>&1
rc=$?
SMOKE_OUT="$(cd "$SMOKE" && "$BAZEL" info output_path 2>/dev/null)"
mapfile -t SMOKE_LAYERS < <(cd "$SMOKE" && "$BAZEL" cquery --output=files //app:layers 2>/dev/null | sed "s|^bazel-out/|$SMOKE_OUT/|")
if [ "$rc" = 0 ] && [ "${#SMOKE_LAYERS[@]}" -ge 5 ]; then
  same=0 differ=""
  for f in "${SMOKE_LAYERS[@]}"; do
    mine="$(layer_files | grep -m1 "/$(basename "$f")\$")"
    if cmp -s "$f" "$mine"; then same=$((same + 1)); else differ+=" $(basename "$f")"; fi
    printf '  %s  %s\n' "$(sha256sum <"$mine" | cut -c1-16)" "$(basename "$f")"
  done
  if [ -z "$differ" ]; then pass "$same layers byte-identical to e2e/smoke's (source-built pyimage)"; else fail "layers differ from e2e/smoke's:$differ"; fi
else
  tail -n 20 "$LOG/smoke.log"
  fail "bazel build //app:layers in e2e/smoke"
fi

finish
