#!/usr/bin/env bash
# Host-side checks of e2e/shapes (after `bazel test //...`, or by hand:
# `bash e2e/shapes/test.sh`). Ends with a `N passed, N failed` line.
#   1. the cached base layer and interpreter tree exist (tools/image/*.sh);
#   2. `bazel build //image:image //image:image_sp`: docker-save tarballs of the
#      rules_python 1.x-shaped binaries (fake rules_python, see README.md) on the
#      interpreter layer;
#   3. podman load + run: `/app/app` and the console script `/app/tabulate` (two
#      stage-1 launchers over one runfiles tree) and `/app/app_sp` (packages linked
#      into its venv) run in their venvs, with the interpreter layer's python3.11,
#      every package imported from its `rules_python~~pip~pypi_314_<name>` repository;
#      `/app/app_system` (1.x's system_python bootstrap, in the first image) without.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/hook.sh
. "$HERE/../../tools/lib/hook.sh"
hook_init shapes
PODMAN_RUN=(podman run --rm --runtime runc --cgroup-manager=cgroupfs
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none)
LOADED=() # image IDs loaded here, removed on exit (not forced: a concurrent run may use them)
remove_images() {
  local id
  for id in "${LOADED[@]}"; do podman image rm "$id" >/dev/null 2>&1 || true; done
}
on_exit remove_images

step "base layer and interpreter tree (cached under \$PYIMAGE_ROOT/tools/image)"
if "$REPO/tools/image/make-interpreter.sh" >/dev/null && "$REPO/tools/image/make-base.sh" >/dev/null; then
  pass "tools/image/make-interpreter.sh, tools/image/make-base.sh"
else
  fail "tools/image scripts"
  finish
fi

step "bazel build //image:image //image:image_sp"
if "$BAZEL" build //image:image //image:image_sp >"$OUT/build.log" 2>&1; then
  pass "bazel build //image:image //image:image_sp"
else
  tail -n 40 "$OUT/build.log"
  fail "bazel build //image:image //image:image_sp"
  finish
fi
OUTPUT_PATH="$("$BAZEL" info output_path 2>/dev/null)"

# load_image NAME: copies //image:NAME's tarball, loads it, prints its image ID.
load_image() {
  local built id
  built="$("$BAZEL" cquery --output=files "//image:$1" 2>/dev/null | grep '\.tar$' | sed "s|^bazel-out/|$OUTPUT_PATH/|" | head -n1)"
  cp "$built" "$OUT/$1.tar"
  # the image ID is the sha256 of the config: other clones' images cannot interfere
  id="$(tar -xOf "$OUT/$1.tar" manifest.json | sed -n 's/.*"Config":"\([0-9a-f]\{64\}\)\.json".*/\1/p')"
  if podman load -q -i "$OUT/$1.tar" >"$OUT/load-$1.log" 2>&1 && podman image exists "$id"; then
    printf '%s' "$id"
  else
    cat "$OUT/load-$1.log" >&2
    return 1
  fi
}

# run_expect ID ENTRYPOINT ARGS -- WANT...: the command prints every WANT line (fixed strings).
run_expect() {
  local id="$1" entry="$2" want ok=1 args=()
  shift 2
  while [ "$1" != "--" ]; do
    args+=("$1")
    shift
  done
  shift
  if ! "${PODMAN_RUN[@]}" --entrypoint "$entry" "$id" "${args[@]}" >"$OUT/run.out" 2>&1; then
    cat "$OUT/run.out"
    return 1
  fi
  for want in "$@"; do
    grep -qxF -- "$want" "$OUT/run.out" || {
      echo "missing from the output of $entry: $want"
      ok=0
    }
  done
  [ "$ok" = 1 ] || cat "$OUT/run.out"
  [ "$ok" = 1 ]
}

PY=/app/.runfiles/rules_pyimage~~image~pyimage_python311/python/bin/python3.11
SPOKE=rules_python~~pip~pypi_314_

step "podman load + run: two 1.x binaries in one image (//image:image)"
if ID="$(load_image image)"; then
  LOADED+=("$ID")
  pass "podman load //image:image (image ID ${ID:0:12})"
  check "/app/app runs in its venv with the interpreter layer's python" run_expect "$ID" /app/app -- \
    "python: 3.11" "venv: True" \
    "prefix: /app/app.runfiles/_main/app/_app.venv" \
    "executable: /app/app.runfiles/_main/app/_app.venv/bin/python3.11" \
    "real executable: $PY" \
    "from six: ${SPOKE}six/site-packages/six.py" \
    "from jaraco.functools: ${SPOKE}jaraco_functools/site-packages/jaraco/functools/__init__.py" \
    "from jaraco.text: ${SPOKE}jaraco_text/site-packages/jaraco/text/__init__.py" \
    "from typing_extensions: ${SPOKE}typing_extensions/site-packages/typing_extensions.py" \
    "jaraco namespace: 2" "shout: LAYERS" "certifi bundle: # fake CA bundle of e2e/shapes"
  sed 's/^/  | /' "$OUT/run.out"
  check "/app/app_system (system_python bootstrap) runs without a venv" run_expect "$ID" /app/app_system -- \
    "python: 3.11" "venv: False" "real executable: $PY" \
    "from six: ${SPOKE}six/site-packages/six.py" "shout: LAYERS"
  check "/app/tabulate (console script) runs in its own venv" run_expect "$ID" /app/tabulate a b -- \
    "tabulate | 0.9.0" "argv | a b" "console script prefix: /app/tabulate.runfiles/_main/app/_tabulate.venv"
else
  fail "podman load //image:image"
fi

step "podman load + run: packages linked into the venv (//image:image_sp)"
if ID="$(load_image image_sp)"; then
  LOADED+=("$ID")
  pass "podman load //image:image_sp (image ID ${ID:0:12})"
  check "/app/app_sp imports every package through its venv's site-packages links" run_expect "$ID" /app/app_sp -- \
    "venv: True" "real executable: $PY" \
    "from six: _main/app/_app_sp.venv/lib/python3.11/site-packages/six.py" \
    "from certifi: _main/app/_app_sp.venv/lib/python3.11/site-packages/certifi/__init__.py" \
    "jaraco namespace: 3" "certifi bundle: # fake CA bundle of e2e/shapes"
else
  fail "podman load //image:image_sp"
fi

finish
