#!/usr/bin/env bash
# Host-side checks of e2e/smoke (run by tools/test-all.sh after `bazel test //...`,
# or by hand: `bash e2e/smoke/test.sh`). Ends with a `N passed, N failed` line.
#   1. the cached base layer and interpreter tree exist (tools/image/*.sh);
#   2. `bazel build //image:image` (docker-save tarball of base + //app:layers);
#      every layer, package fragment and the tarball deleted and rebuilt
#      without caches must come out byte-identical;
#   3. container-structure-test --driver tar with tests/structure.yaml;
#   4. the same tarball `podman load`ed and run under podman (runc): the app
#      prints the expected output using the interpreter from our layer;
#   5. container-structure-test --driver docker against podman's API socket
#      (tests/structure-podman.yaml: uid/gid and commands in the image);
#   6. the HTML layer report in headless Chromium (tools/setup/70-chromium.sh):
#      the DOM has every layer and package, no console message; the screenshot
#      is kept (path printed);
#   7. in a copy of the workspace, an edit of app/main.py: `pyimage diff` of the
#      reports before and after says exactly one layer changed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/hook.sh
. "$HERE/../../tools/lib/hook.sh"
hook_init smoke
: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
CST="$(command -v container-structure-test || echo "$PYIMAGE_ROOT/tools/bin/container-structure-test")"
TAG="localhost/rules_pyimage/smoke:test"
PODMAN_RUN=(podman run --rm --runtime runc --cgroup-manager=cgroupfs
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none)
svc="" # pid of our `podman system service`, stopped on any exit
stop_service() {
  if [ -n "$svc" ]; then
    kill "$svc" 2>/dev/null
    wait "$svc" 2>/dev/null
    svc=""
  fi
}
on_exit stop_service
# cst_result LOG MIN NAME: container-structure-test ran at least MIN tests and none failed.
cst_result() {
  local log="$1" min="$2" name="$3" n_pass n_fail
  n_pass="$(awk '/^Passes:/ { print $2 }' "$log" | tail -n1)"
  n_fail="$(awk '/^Failures:/ { print $2 }' "$log" | tail -n1)"
  if [ "${n_pass:-0}" -ge "$min" ] && [ "${n_fail:-1}" = 0 ]; then
    pass "$name: $n_pass tests passed"
  else
    cat "$log"
    fail "$name"
  fi
}

step "base layer and interpreter tree (cached under \$PYIMAGE_ROOT/tools/image)"
if "$REPO/tools/image/make-interpreter.sh" >/dev/null && "$REPO/tools/image/make-base.sh" >/dev/null; then
  pass "tools/image/make-interpreter.sh, tools/image/make-base.sh"
else
  fail "tools/image scripts"
  finish
fi

step "bazel build //image:image (+ layer report)"
if "$BAZEL" build //image:image //app:layers --output_groups=+report >"$OUT/build.log" 2>&1; then
  pass "bazel build //image:image"
else
  tail -n 40 "$OUT/build.log"
  fail "bazel build //image:image"
  finish
fi
# Absolute paths through the real output tree (not the convenience symlinks).
OUTPUT_PATH="$("$BAZEL" info output_path 2>/dev/null)"
files_of() { "$BAZEL" cquery --output=files "$@" 2>/dev/null | sed "s|^bazel-out/|$OUTPUT_PATH/|"; }
BUILT_IMAGE="$(files_of //image:image | grep '\.tar$' | head -n1)"
# Work on a private copy: a concurrent build in this checkout may replace the output.
IMAGE="$OUT/image.tar"
cp "$BUILT_IMAGE" "$IMAGE"
REPORT="$(files_of --output_groups=report //app:layers | grep 'report\.txt$')"
[ -n "$REPORT" ] && [ -f "$REPORT" ] && cat "$REPORT"
HTML_REPORT="$(files_of --output_groups=report //app:layers | grep 'report\.html$')"
ls -l "$IMAGE"
mapfile -t LAYERS < <(files_of //app:layers)
sums() { sha256sum "$BUILT_IMAGE" "${LAYERS[@]}" | sed "s|$OUTPUT_PATH/||"; }
sums >"$OUT/sha256.1"

step "determinism: layers and image rebuilt from scratch are byte-identical"
# Delete every layer, package fragment and the image, then rebuild without the
# disk cache: Bazel re-runs those actions (no `bazel clean`, which would disturb
# other builds sharing the output base).
BIN="$OUTPUT_PATH/k8-fastbuild/bin"
n_deleted="$(
  {
    printf '%s\n' "$BUILT_IMAGE" "${LAYERS[@]}"
    for f in "${LAYERS[@]}"; do printf '%s.json\n' "$f"; done
    find "$BIN/external" -path "$BIN/external/*/_pyimage/*" 2>/dev/null
    find "$BIN/app" -path '*_pyimage/*' 2>/dev/null
  } | grep -E '\.(tar|tar\.gz|tar\.zst|json)$' | sort -u | while read -r f; do
    [ -e "$f" ] || continue
    chmod u+w "$(dirname "$f")" && rm -f "$f" && echo "$f"
  done | wc -l
)"
if "$BAZEL" build //image:image --disk_cache= >"$OUT/rebuild.log" 2>&1; then
  sums >"$OUT/sha256.2"
  if cmp -s "$OUT/sha256.1" "$OUT/sha256.2"; then
    pass "$n_deleted outputs deleted and rebuilt: image + ${#LAYERS[@]} layers byte-identical ($(head -c 16 "$OUT/sha256.1")…)"
  else
    diff "$OUT/sha256.1" "$OUT/sha256.2"
    fail "rebuilt layers/image differ"
  fi
  grep -E 'processes|Elapsed' "$OUT/rebuild.log" | tail -n 2
else
  tail -n 20 "$OUT/rebuild.log"
  fail "rebuild of deleted layers"
fi

step "container-structure-test --driver tar"
# The tar driver extracts the whole image once per test: on a tmpfs that takes
# ~2 s instead of ~10 s.
CST_TMP="${TMPDIR:-/tmp}"
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 1048576 ]; then CST_TMP=/dev/shm; fi
if TMPDIR="$CST_TMP" "$CST" test --driver tar --image "$IMAGE" --config "$HERE/tests/structure.yaml" >"$OUT/cst.log" 2>&1; then
  grep -E '^(Passes|Failures)' "$OUT/cst.log"
fi
cst_result "$OUT/cst.log" 20 "container-structure-test --driver tar"

step "podman load + run (runc)"
# Run by image ID (= sha256 of the config, content-addressed): other clones
# loading their own smoke image under the same tag cannot interfere.
ID="$(tar -xOf "$IMAGE" manifest.json | sed -n 's/.*"Config":"\([0-9a-f]\{64\}\)\.json".*/\1/p')"
if podman load -q -i "$IMAGE" >"$OUT/load.log" 2>&1 && podman image exists "$ID"; then
  pass "podman load: $(tr '\n' ' ' <"$OUT/load.log")(image ID ${ID:0:12})"
  if "${PODMAN_RUN[@]}" "$ID" >"$OUT/run.out" 2>"$OUT/run.err"; then
    cat "$OUT/run.out"
    ok=1
    for want in \
      "Hello from rules_pyimage smoke!" \
      "python: 3.11." \
      "executable: /app/app.runfiles/rules_pyimage~~image~pyimage_python311/python/bin/python3.11" \
      "prefix: /app/app.runfiles/rules_pyimage~~image~pyimage_python311/python" \
      "| requests           | 2.32.3     |" \
      "| urllib3            | 2.2.3      |" \
      "| charset_normalizer | 3.4.0      |" \
      "| six                | 1.16.0     |" \
      "request: https://xn--bcher-kva.example/api/layers?q=smoke" \
      "charset: utf_8" \
      "certifi bundle: /app/app.runfiles/rules_python~~pip~pypi_certifi/site-packages/certifi/cacert.pem (present)" \
      "status: ok"; do
      grep -qF -- "$want" "$OUT/run.out" || {
        echo "missing from the output: $want"
        ok=0
      }
    done
    if [ "$ok" = 1 ]; then pass "podman run $TAG prints the expected output"; else fail "podman run output"; fi
  else
    cat "$OUT/run.out" "$OUT/run.err"
    fail "podman run $TAG"
  fi
  # Nothing but python3.11 from our layer can run the launcher: the base has no
  # python, and python3 is the interpreter tree's link to python3.11.
  py=/app/.runfiles/rules_pyimage~~image~pyimage_python311/python/bin/python3.11
  if "${PODMAN_RUN[@]}" --entrypoint /bin/sh "$ID" -c 'command -v python; readlink -f "$(command -v python3)"; command -v python3.11' >"$OUT/which.out" 2>&1 &&
    [ "$(cat "$OUT/which.out")" = "$(printf '%s\n%s' "$py" "$py")" ]; then
    pass "the only python in the image is ours"
  else
    cat "$OUT/which.out"
    fail "the only python in the image is ours"
  fi

  step "container-structure-test --driver docker on podman's API (uid/gid, commands)"
  sock="$OUT/podman.sock"
  cat >"$OUT/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
  CONTAINERS_CONF="$OUT/containers.conf" podman system service --time=0 "unix://$sock" >"$OUT/service.log" 2>&1 &
  svc=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  DOCKER_HOST="unix://$sock" timeout 300 "$CST" test --driver docker --image "$ID" \
    --config "$HERE/tests/structure-podman.yaml" >"$OUT/cst-podman.log" 2>&1
  cst_result "$OUT/cst-podman.log" 8 "container-structure-test --driver docker via podman"
  stop_service
  # Not forced: an image still used by a concurrent run stays.
  podman image rm "$ID" >/dev/null 2>&1 || true
else
  cat "$OUT/load.log"
  fail "podman load"
fi

step "HTML layer report in headless Chromium"
SHOT_DIR="$PYIMAGE_ROOT/logs/smoke"
mkdir -p "$SHOT_DIR"
# chromium_page MODE FILE ARGS...: loads FILE headless (MODE: --dump-dom or --screenshot=PNG).
chromium_page() {
  local mode="$1" file="$2"
  shift 2
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d "$OUT/chromium.XXXXXX")" \
    --enable-logging=stderr --v=0 "$@" "$mode" "file://$file"
}
if ! command -v chromium >/dev/null; then
  fail "chromium is not installed (tools/setup/70-chromium.sh)"
elif [ -z "$HTML_REPORT" ] || [ ! -f "$HTML_REPORT" ]; then
  fail "no report.html in the report output group of //app:layers"
else
  cp "$HTML_REPORT" "$OUT/report.html"
  if chromium_page --dump-dom "$OUT/report.html" >"$OUT/dom.html" 2>"$OUT/chromium.log"; then
    want_layers="data-layer-count=\"${#LAYERS[@]}\""
    missing=""
    grep -qF "$want_layers" "$OUT/dom.html" || missing+=" $want_layers"
    [ "$(grep -o '<tr id="layer-' "$OUT/dom.html" | wc -l)" = "${#LAYERS[@]}" ] || missing+=" ${#LAYERS[@]}-layer-rows"
    for p in certifi charset-normalizer colorama idna packaging requests six tabulate urllib3; do
      grep -qF "data-name=\"$p\"" "$OUT/dom.html" || missing+=" $p"
    done
    if [ -z "$missing" ]; then pass "the DOM has ${#LAYERS[@]} layers and the 9 pip packages"; else fail "the DOM lacks:$missing"; fi
    if grep -E ':CONSOLE|Uncaught' "$OUT/chromium.log"; then fail "console messages while loading report.html"; else pass "no console message"; fi
  else
    tail -n 20 "$OUT/chromium.log"
    fail "chromium --dump-dom report.html"
  fi
  if chromium_page --screenshot="$OUT/report.png" "$OUT/report.html" --window-size=1280,900 >>"$OUT/chromium.log" 2>&1 &&
    [ -s "$OUT/report.png" ] && cp "$OUT/report.png" "$SHOT_DIR/report.png"; then
    pass "screenshot of report.html: $SHOT_DIR/report.png"
  else
    tail -n 20 "$OUT/chromium.log"
    fail "chromium --screenshot report.html"
  fi
fi

step "pyimage diff after an app edit (in a copy of the workspace)"
hook_use_workspace_copy
# app_report NAME: builds the report group, copies report.json to NAME in the copy.
app_report() {
  "$BAZEL" build //app:layers --output_groups=report "$@" >"$OUT/diff-build.log" 2>&1 || {
    tail -n 30 "$OUT/diff-build.log"
    return 1
  }
}
copy_out() { "$BAZEL" cquery --output=files --output_groups="$1" "${@:3}" //app:layers 2>/dev/null | grep "$2" | sed "s|^bazel-out/|$("$BAZEL" info output_path 2>/dev/null)/|"; }
if app_report && cp "$(copy_out report 'report\.json$')" old_report.json && echo 'exports_files(["old_report.json"])' >>BUILD.bazel; then
  printf '\nprint("edited by the smoke hook")\n' >>app/main.py
  flag="--@rules_pyimage//py:previous_report=//:old_report.json"
  if app_report "$flag" --output_groups=+diff; then
    DIFF_TXT="$(copy_out diff 'diff\.txt$' "$flag")"
    cat "$DIFF_TXT"
    verdict="$(head -n1 "$DIFF_TXT")"
    case "$verdict" in
      "1 of ${#LAYERS[@]} layers changed, "*) pass "pyimage diff: $verdict" ;;
      *) fail "pyimage diff after an app edit: expected one changed layer, got: $verdict" ;;
    esac
    if grep -q '^changed "app"' "$DIFF_TXT"; then pass "the changed layer is app"; else fail "the changed layer is not app"; fi
    # The page with the diff: the app row is marked changed, the others unchanged.
    cp "$(copy_out report 'report\.html$' "$flag")" "$OUT/report-diff.html"
    if chromium_page --dump-dom "$OUT/report-diff.html" >"$OUT/dom-diff.html" 2>"$OUT/chromium-diff.log" &&
      grep -qF 'data-group="app" data-status="changed"' "$OUT/dom-diff.html" &&
      [ "$(grep -o 'data-status="unchanged"' "$OUT/dom-diff.html" | wc -l)" = "$((${#LAYERS[@]} - 1))" ] &&
      chromium_page --screenshot="$OUT/report-diff.png" "$OUT/report-diff.html" --window-size=1280,900 >>"$OUT/chromium-diff.log" 2>&1 &&
      cp "$OUT/report-diff.png" "$SHOT_DIR/report-diff.png"; then
      pass "report.html with the diff marks app changed: $SHOT_DIR/report-diff.png"
    else
      tail -n 20 "$OUT/chromium-diff.log"
      fail "report.html with the diff"
    fi
  else
    fail "bazel build --output_groups=+diff with previous_report"
  fi
else
  fail "bazel build //app:layers --output_groups=report (workspace copy)"
fi

finish
