#!/usr/bin/env bash
# Host-side checks of e2e/multi (after `bazel test //...`, or by hand:
# `bash e2e/multi/test.sh`). Ends with a `N passed, N failed` line.
#   1. the cached base layer and interpreter tree exist (tools/image/*.sh);
#   2. `bazel build //image:all //image:mixed`: docker-save tarballs of three
#      binaries (server, worker, migrate) in one image, gzip and zstd + gzip;
#   3. each binary of the image runs under podman (`--entrypoint /app/<name>`);
#   4. the image with a zstd group and gzip groups loads and runs; the app layer's
#      group_owner shows on the launchers, the directories above (in no layer)
#      are made by the runtime, owned by 0:0;
#   5. `bazel aquery`: the zstd group's fragment and merge actions (built at the
#      distributions by the aspect, under the flag's tier) carry its
#      execution requirement, no other action does;
#   6. `--@rules_pyimage//py:compression=none` makes every layer an uncompressed tar;
#   7. `py_image_layer(platform = ...)`: migrate for linux/arm64 next to linux/amd64;
#      its pure-Python pip layers have the amd64 digests, no ELF file of another
#      machine than aarch64 (no host leak: the arm64 Python toolchain is the image's);
#   8. the server for linux/amd64 and linux/arm64 (one multi-platform pip hub: pure
#      wheels from one repository for both, charset-normalizer's aarch64 wheel; the
#      arm64 interpreter tree and base layer): every pure package's fragment and the
#      pure pip layers have the same bytes in both images (aquery + sha256); one image
#      each (crane append + mutate into a loopback `crane registry serve`), `crane
#      index append` of the two; every ELF file of the arm64 image (base included) is
#      aarch64; with binfmt_misc and qemu-user, `podman run --platform linux/arm64`;
#   9. incremental: after editing only worker/jobs.py, rebuilding the three-binary
#      layers re-runs only their app layer (+ validation), from the execution log.
# Runs in a copy of the workspace (e2e/.work/multi): the edit never touches the checkout.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/hook.sh
. "$HERE/../../tools/lib/hook.sh"
hook_init multi
hook_use_workspace_copy
EXECLOG="$REPO/tools/bench_bazel/execlog.py"
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

step "bazel build //image:all //image:mixed"
if "$BAZEL" build //image:all //image:mixed >"$OUT/build.log" 2>&1; then
  pass "bazel build //image:all //image:mixed"
else
  tail -n 40 "$OUT/build.log"
  fail "bazel build //image:all //image:mixed"
  finish
fi
OUTPUT_PATH="$("$BAZEL" info output_path 2>/dev/null)"
files_of() { "$BAZEL" cquery --output=files "$@" 2>/dev/null | sed "s|^bazel-out/|$OUTPUT_PATH/|"; }

# load_image NAME: copies //image:NAME's tarball, loads it, prints its image ID.
load_image() {
  local built id
  built="$(files_of "//image:$1" | grep '\.tar$' | head -n1)"
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

# run_expect ID ENTRYPOINT WANT...: the binary prints every WANT line (fixed strings).
run_expect() {
  local id="$1" entry="$2" want ok=1
  shift 2
  if ! "${PODMAN_RUN[@]}" --entrypoint "$entry" "$id" >"$OUT/run.out" 2>&1; then
    cat "$OUT/run.out"
    return 1
  fi
  for want in "$@"; do
    grep -qF -- "$want" "$OUT/run.out" || {
      echo "missing from the output of $entry: $want"
      ok=0
    }
  done
  [ "$ok" = 1 ] || cat "$OUT/run.out"
  [ "$ok" = 1 ]
}

# run_expect_pull REF PLATFORM WANT...: podman pull of one platform of REF from the loopback
# registry, then its entrypoint prints every WANT line.
run_expect_pull() {
  local ref="$1" platform="$2" id
  shift 2
  id="$(podman pull -q --tls-verify=false --platform "$platform" "$ref" 2>"$OUT/pull.log")" || {
    cat "$OUT/pull.log"
    return 1
  }
  LOADED+=("$id")
  run_expect "$id" /app/server "$@"
}

check_binaries() {
  local id="$1" what="$2"
  check "$what: /app/server runs" run_expect "$id" /app/server \
    "server: python 3.11, modules colorama,requests,six,tabulate" \
    "server route: https://xn--bcher-kva.example/api/items"
  check "$what: /app/worker runs" run_expect "$id" /app/worker \
    "worker: python 3.11, modules colorama,requests" "worker jobs: resize,notify"
  check "$what: /app/migrate runs" run_expect "$id" /app/migrate \
    "migrate: python 3.11, modules six,tabulate" "|   0002 | add index    |" "migrate six: 1.16.0"
}

step "three binaries in one image (gzip): podman load + run each"
if ID="$(load_image all)"; then
  LOADED+=("$ID")
  pass "podman load //image:all (image ID ${ID:0:12})"
  check_binaries "$ID" "all"
else
  fail "podman load //image:all"
fi

step "web group zstd, the rest gzip, app layer owned by 1000:1000: podman load + run"
if ID="$(load_image mixed)"; then
  LOADED+=("$ID")
  pass "podman load //image:mixed with a zstd layer (image ID ${ID:0:12})"
  check_binaries "$ID" "mixed"
  want="1000:1000 755 /app/server
1000:1000 777 /app/worker.runfiles
0:0 755 /app
0:0 755 /app/.runfiles
0:0 755 /app/.runfiles/_main"
  got="$("${PODMAN_RUN[@]}" --entrypoint /bin/sh "$ID" -c \
    'stat -c "%u:%g %a %n" /app/server /app/worker.runfiles /app /app/.runfiles /app/.runfiles/_main' 2>&1)"
  if [ "$got" = "$want" ]; then
    pass "owners: launchers 1000:1000 (group_owner), the implicit parent directories 0:0 755"
  else
    printf 'got:\n%s\nwant:\n%s\n' "$got" "$want"
    fail "owners in //image:mixed"
  fi
else
  fail "podman load //image:mixed"
fi

step "execution requirements of the zstd group (flag tier //:mixed, fragments built by the aspect)"
if "$BAZEL" aquery --@rules_pyimage//py:layer_tier=//:mixed \
  'mnemonic("PyImageLayer|PyImageMerge", deps(//image:server_flag_layers))' \
  --output=jsonproto >"$OUT/aquery.json" 2>"$OUT/aquery.log"; then
  # five web packages + the web merge
  check "no-remote-cache on exactly the web group's actions" \
    "$PYTHON" tests/aquery_check.py "$OUT/aquery.json" 6
else
  tail -n 20 "$OUT/aquery.log"
  fail "bazel aquery"
fi

step "--@rules_pyimage//py:compression=none: every layer an uncompressed tar"
if "$BAZEL" build --@rules_pyimage//py:compression=none //image:mixed_layers >"$OUT/none.log" 2>&1; then
  mapfile -t NONE < <(files_of --@rules_pyimage//py:compression=none //image:mixed_layers)
  bad="$(printf '%s\n' "${NONE[@]}" | grep -v '\.tar$')"
  magic_ok=1
  for f in "${NONE[@]}"; do
    # a tar's magic `ustar` at offset 257, no gzip/zstd header
    [ "$(dd if="$f" bs=1 skip=257 count=5 2>/dev/null)" = ustar ] || magic_ok=0
  done
  if [ "${#NONE[@]}" -ge 5 ] && [ -z "$bad" ] && [ "$magic_ok" = 1 ]; then
    pass "${#NONE[@]} layers, all plain tars"
  else
    printf '%s\n' "${NONE[@]}"
    fail "--@rules_pyimage//py:compression=none"
  fi
else
  tail -n 20 "$OUT/none.log"
  fail "bazel build --@rules_pyimage//py:compression=none"
fi

step "platform = linux/arm64 next to linux/amd64 (//arm64)"
if "$BAZEL" build --output_groups=+descriptors //arm64:migrate_arm64_layers //arm64:migrate_amd64_layers >"$OUT/arm64.log" 2>&1; then
  mapfile -t AMD64 < <(files_of //arm64:migrate_amd64_layers)
  mapfile -t ARM64 < <(files_of //arm64:migrate_arm64_layers)
  check "arm64 layers: another configuration, pure pip layers as amd64's, no non-aarch64 ELF" \
    "$PYTHON" tests/arch_check.py --amd64 "${AMD64[@]}" --arm64 "${ARM64[@]}"
else
  tail -n 20 "$OUT/arm64.log"
  fail "bazel build //arm64:..."
fi

# ---- the server for linux/amd64 and linux/arm64, one image each, one image index ----
REG=""
start_registry() {
  crane registry serve --address 127.0.0.1:0 >"$OUT/registry.log" 2>&1 &
  local pid=$! port=""
  on_exit kill "$pid"
  for _ in $(seq 100); do
    port="$(sed -n 's/.*serving on port \([0-9][0-9]*\).*/\1/p' "$OUT/registry.log")"
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || return 1
  REG="127.0.0.1:$port"
}

# assemble ARCH BASE LAYER...: crane append (base first) + crane mutate; prints the digest.
assemble() {
  local arch="$1" f python_bin
  shift
  local args=()
  for f in "$@"; do args+=(-f "$f"); done
  # the interpreter layer's bin/ first on PATH (the launchers' `#!/usr/bin/env python3.11`)
  python_bin="$(tar -tzf "$2" | sed -n 's|^\(app/\.runfiles/[^/]*/python/bin\)/python3\.11$|/\1|p')"
  [ -n "$python_bin" ] || return 1
  crane append --oci-empty-base "${args[@]}" -t "$REG/multi/server:$arch-layers" >/dev/null 2>>"$OUT/crane.log" &&
    crane mutate "$REG/multi/server:$arch-layers" -t "$REG/multi/server:$arch" \
      --set-platform "linux/$arch" --entrypoint /app/server --workdir /app \
      --env "PATH=$python_bin:/usr/local/bin:/usr/bin:/bin" --env PYTHONDONTWRITEBYTECODE=1 --env LANG=C.UTF-8 \
      >/dev/null 2>>"$OUT/crane.log" &&
    crane manifest "$REG/multi/server:$arch" >"$OUT/$arch.manifest.json" &&
    crane digest "$REG/multi/server:$arch"
}

# binfmt_misc runs aarch64 ELF files through the cached qemu-aarch64-static (flag F: the
# kernel opens it now, so it works inside containers); an existing aarch64 handler is used
# as it is. Prints why not when the kernel refuses.
BINFMT=/proc/sys/fs/binfmt_misc
enable_qemu() {
  local qemu="${PYIMAGE_ARM64_CACHE:-${PYIMAGE_ROOT:-/var/cache/rules_pyimage}/tools/image-arm64}/qemu/qemu-aarch64-static" e
  [ -x "$qemu" ] || { echo "no $qemu (tools/image/make-arm64.sh)"; return 1; }
  [ -e "$BINFMT/register" ] || mount -t binfmt_misc binfmt_misc "$BINFMT" 2>&1 || return 1
  for e in "$BINFMT"/*; do
    grep -qs '^magic 7f454c460201010000000000000000000200b700' "$e" && grep -qx enabled "$e" && return 0
  done
  printf '%s' ':pyimage-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$qemu"':F' \
    >"$BINFMT/register" 2>&1 || return 1
  on_exit sh -c "echo -1 >$BINFMT/pyimage-aarch64"
}

step "the server for linux/amd64 and linux/arm64 (one pip hub, arm64 interpreter and base): image index"
# every output on disk, not only the top-level ones (Bazel 7 leaves disk-cache hits of
# intermediate outputs such as package fragments in the cache): pure_check.py reads them
if "$BAZEL" build --remote_download_outputs=all //arm64:server_arm64_layers //image:server_layers \
  @pyimage_base//:layer @pyimage_base_arm64//:layer >"$OUT/index.log" 2>&1 &&
  start_registry; then
  EXEC_ROOT="$("$BAZEL" info execution_root 2>/dev/null)"
  mapfile -t L_AMD64 < <(files_of //image:server_layers)
  mapfile -t L_ARM64 < <(files_of //arm64:server_arm64_layers)
  if "$BAZEL" aquery 'mnemonic("PyImageLayer", deps(//image:server_layers) union deps(//arm64:server_arm64_layers))' \
    --output=jsonproto >"$OUT/pure.json" 2>"$OUT/pure.log"; then
    check "pure packages: the same fragment bytes for both machines; six, pip and common layers shared, web differs" \
      "$PYTHON" tests/pure_check.py "$OUT/pure.json" "$EXEC_ROOT" --amd64 "${L_AMD64[@]}" --arm64 "${L_ARM64[@]}"
  else
    tail -n 20 "$OUT/pure.log"
    fail "bazel aquery of the two servers' fragments"
  fi
  if D_AMD64="$(assemble amd64 "$EXEC_ROOT/$(files_of @pyimage_base//:layer)" "${L_AMD64[@]}")" &&
    D_ARM64="$(assemble arm64 "$EXEC_ROOT/$(files_of @pyimage_base_arm64//:layer)" "${L_ARM64[@]}")"; then
    pass "crane append + mutate: linux/amd64 ${D_AMD64:7:12}, linux/arm64 ${D_ARM64:7:12} ($REG)"
  else
    tail -n 20 "$OUT/crane.log"
    fail "crane append + mutate of the two images"
  fi
  if [ -n "${D_ARM64:-}" ] && crane index append -m "$REG/multi/server:amd64" -m "$REG/multi/server:arm64" \
    -t "$REG/multi/server:latest" >/dev/null 2>"$OUT/index-append.log" &&
    crane manifest "$REG/multi/server:latest" >"$OUT/index.json" &&
    crane export --platform linux/arm64 "$REG/multi/server:latest" "$OUT/arm64.export.tar" 2>>"$OUT/index-append.log"; then
    check "crane index append: an index of the two; every ELF file of the arm64 image is aarch64" \
      "$PYTHON" tests/index_check.py "$OUT/index.json" "$D_AMD64" "$OUT/amd64.manifest.json" \
      "$D_ARM64" "$OUT/arm64.manifest.json" "$OUT/arm64.export.tar"
    # not in a subshell: enable_qemu registers the handler's removal with on_exit
    if enable_qemu >"$OUT/binfmt.log" 2>&1; then
      check "podman run --platform linux/arm64 of the index (qemu-user through binfmt_misc)" run_expect_pull \
        "$REG/multi/server:latest" linux/arm64 \
        "server: python 3.11, modules colorama,requests,six,tabulate" \
        "server route: https://xn--bcher-kva.example/api/items" "machine: aarch64"
      sed 's/^/  | /' "$OUT/run.out"
    else
      echo "info: binfmt_misc refused, the arm64 image is not run: $(cat "$OUT/binfmt.log")"
    fi
  else
    cat "$OUT/index-append.log"
    fail "crane index append / export"
  fi
else
  tail -n 30 "$OUT/index.log" "$OUT/registry.log"
  fail "bazel build of the two servers' layers / crane registry serve"
fi

step "incremental: edit only worker/jobs.py, rebuild the three-binary layers"
FLAGS=(--disk_cache=)
check "up-to-date build before the edit" "$BAZEL" build "${FLAGS[@]}" //image:all_layers
sed -i 's/"notify"/"notify", "cleanup"/' worker/jobs.py
check "the edit changed worker/jobs.py (in the copy)" bash -c '! cmp -s "$1" "$2"' _ worker/jobs.py "$HERE/worker/jobs.py"
check "incremental build after the edit" \
  "$BAZEL" build "${FLAGS[@]}" --execution_log_json_file="$OUT/incremental.json" //image:all_layers
"$PYTHON" "$EXECLOG" summary "$OUT/incremental.json"
check "only the union's app layer (+ validation) re-ran" \
  "$PYTHON" "$EXECLOG" check-only "$OUT/incremental.json" \
  --allow 'PyImageApp:^image/all_layers_' \
  --allow 'PyImageValidate:^image/all_layers_' \
  --exactly 'PyImageApp:^image/all_layers_=1' \
  --exactly 'PyImage(Layer|Merge|FirstParty|Interpreter|RepoMapping)=0'

finish
