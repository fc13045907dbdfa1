#!/usr/bin/env bash
# Host-side checks of e2e/oci (run by tools/test-all.sh after `bazel test //...`,
# or by hand: `e2e/oci/test.sh`): our layers assembled and read by independent
# OCI tools, never by rules_pyimage's own code. Ends with `N passed, N failed`.
# `test.sh --run` (the README's main job, via tools/run-example.sh) only builds
# the gzip layers, prints their report, assembles the gzip image and runs it
# under podman.
#
#   1. bazel build of the gzip and zstd layer sets and of the test-only
#      docker-save image of the same layers;
#   2. `crane registry serve` on a free loopback port (stopped on any exit);
#      `crane append` of the base layer and our layers, in order, plus
#      `crane mutate` (entrypoint, cmd, env, workdir, platform): four images,
#      all-gzip, all-zstd and both mixed orders;
#   3. per image: manifest + config against our descriptors; `crane validate`;
#      `skopeo copy` to an OCI layout (every blob re-hashed, every layer
#      decompressed to its diff_id) and to a docker archive; `crane export`
#      == union of the layer tars, every symlink resolving inside the image;
#      `umoci unpack` (tree and runtime config);
#   4. the gzip image's blobs byte-identical to the docker-save image's;
#      `dive --ci` (0 wasted bytes); container-structure-test, tar driver on
#      the docker archive and docker driver through a private podman service;
#   5. `podman pull` from the registry into a private store and `podman run`:
#      the service answers every endpoint and imports every package, and
#      serves with the image's default command.
set -uo pipefail

case "${1:-}" in
  "") MODE=check ;;
  --run) MODE=run ;;
  -h | --help)
    sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
    exit 0
    ;;
  *)
    echo "usage: $0 [--run]" >&2
    exit 2
    ;;
esac
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/hook.sh
. "$HERE/../../tools/lib/hook.sh"
hook_init oci
: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
: "${PYIMAGE_TOOLS:=$PYIMAGE_ROOT/tools}"
export PATH="$PYIMAGE_TOOLS/bin:$PATH"
CHECK="$HERE/tests/oci_check.py"
# Podman's per-boot state (locks, runtime files) belongs on a tmpfs.
PODMAN_RUN_DIR="$(mktemp -d /run/rules_pyimage-oci.XXXXXX)"
reg="" svc="" serving=""

# Stops what this hook started; runs before `finish` removes $OUT, as the
# private podman store and its mounts live there.
cleanup() {
  if [ -n "$serving" ]; then podman rm -f "$serving" >/dev/null 2>&1; fi
  if [ -n "$svc" ]; then kill "$svc" 2>/dev/null; fi
  if [ -n "$reg" ]; then kill "$reg" 2>/dev/null; fi
  reg="" svc="" serving=""
  if [ -n "${CONTAINERS_STORAGE_CONF:-}" ]; then
    podman rmi -a -f >/dev/null 2>&1
    # The overlay driver bind-mounts its folder onto itself (private propagation).
    findmnt -rn -o TARGET | grep -F "$OUT/podman/" | sort -r | xargs -r -n1 umount -l
  fi
  rm -rf "$PODMAN_RUN_DIR" "$OUT/podman" "$OUT/bundle-"* "$OUT/layout-"*
}
on_finish cleanup
tools_present() {
  local t missing=""
  for t in crane skopeo umoci dive container-structure-test podman zstd python3; do
    command -v "$t" >/dev/null || missing="$missing $t"
  done
  if [ -n "$missing" ]; then
    echo "missing:$missing (run tools/setup.sh: hook tools/setup/60-oci-tools.sh)"
    return 1
  fi
  echo "$(paste -sd' ' "$PYIMAGE_TOOLS/oci/VERSIONS" 2>/dev/null || echo crane umoci) / $(skopeo --version) / $(umoci --version | head -n1) / $(dive --version) / $(podman --version)"
}

# ---- 1. build ----------------------------------------------------------------
files_of() { "$BAZEL" cquery --output=files "$@" 2>/dev/null | sed "s|^bazel-out/|$OUTPUT_PATH/|;s|^external/|$OUTPUT_BASE/external/|"; }
# build: the full check builds both layer sets and the docker-save image;
# `--run` only what the gzip image needs.
build() {
  local targets=(//service:layers //image:env)
  if [ "$MODE" = check ]; then targets+=(//service:layers_zstd //image:docker_save); fi
  step "bazel build: ${targets[*]}"
  if ! "$BAZEL" build "${targets[@]}" --output_groups=+descriptors,+report >"$OUT/build.log" 2>&1; then
    tail -n 40 "$OUT/build.log"
    fail "bazel build"
    finish
  fi
  pass "bazel build ${targets[*]}"
  OUTPUT_PATH="$("$BAZEL" info output_path 2>/dev/null)"
  OUTPUT_BASE="$("$BAZEL" info output_base 2>/dev/null)"
  mapfile -t GZ < <(files_of //service:layers)
  BASE_GZ="$(files_of @pyimage_base//:layer)"
  mapfile -t ENV_ARGS < <(sed 's/^/-e\n/' "$(files_of //image:env)")
  local report
  report="$(files_of --output_groups=report //service:layers | grep 'report\.txt$')"
  echo "layer report of //service:layers (output group 'report', ${report#"$OUTPUT_PATH/"}):"
  cat "$report"
  [ "$MODE" = check ] || return 0
  mapfile -t ZST < <(files_of //service:layers_zstd)
  # shellcheck disable=SC2034 # read through namerefs (read_image)
  mapfile -t GZ_DESC < <(files_of --output_groups=descriptors //service:layers)
  # shellcheck disable=SC2034
  mapfile -t ZST_DESC < <(files_of --output_groups=descriptors //service:layers_zstd)
  DOCKER_SAVE="$(files_of //image:docker_save)"
  # The all-zstd image needs a zstd base: the same tar, recompressed.
  gzip -dc "$BASE_GZ" | zstd -q -3 -T1 -o "$OUT/base.tar.zst"
  BASE_ZST="$OUT/base.tar.zst"
}

# ---- 2. registry and images ------------------------------------------------------
start_registry() {
  step "crane registry serve on a free loopback port"
  crane registry serve --address 127.0.0.1:0 >"$OUT/registry.log" 2>&1 &
  reg=$!
  local port=""
  for _ in $(seq 100); do
    port="$(sed -n 's/.*serving on port \([0-9][0-9]*\).*/\1/p' "$OUT/registry.log")"
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    cat "$OUT/registry.log"
    fail "crane registry serve did not start"
    finish
  fi
  REG="127.0.0.1:$port"
  pass "registry at $REG (pid $reg)"
}

# assemble TAG LAYER...: crane append (base first) + crane mutate (the config).
assemble() {
  local tag="$1" f
  shift
  local args=()
  for f in "$@"; do args+=(-f "$f"); done
  crane append --oci-empty-base "${args[@]}" -t "$REG/oci/service:$tag-layers" &&
    crane mutate "$REG/oci/service:$tag-layers" -t "$REG/oci/service:$tag" \
      --set-platform linux/amd64 --entrypoint /app/service --cmd serve --workdir /app \
      -l org.opencontainers.image.title="rules_pyimage e2e/oci ($tag)" "${ENV_ARGS[@]}" &&
    crane manifest "$REG/oci/service:$tag" >"$OUT/$tag.manifest.json" &&
    crane config "$REG/oci/service:$tag" >"$OUT/$tag.config.json" &&
    echo "$tag: $(crane digest "$REG/oci/service:$tag")"
}

assemble_all() {
  step "crane append + crane mutate: four images (base + our layers, in order)"
  check_logged "image gzip" assemble gzip "$BASE_GZ" "${GZ[@]}"
  check_logged "image zstd" assemble zstd "$BASE_ZST" "${ZST[@]}"
  check_logged "image mixed-gzip-base (gzip base, zstd layers)" assemble mixed-gzip-base "$BASE_GZ" "${ZST[@]}"
  check_logged "image mixed-zstd-base (zstd base, gzip layers)" assemble mixed-zstd-base "$BASE_ZST" "${GZ[@]}"
  docker_base_trap
}

# The trap of mixed compression (reported, not counted): crane takes the manifest
# type from the base. On a Docker-typed base (no --oci-empty-base, or a Docker
# base image) it writes zstd layers into a Docker v2s2 manifest, which
# containers/image (skopeo, podman) refuses.
docker_base_trap() {
  crane append -f "$BASE_GZ" -t "$REG/oci/trap:docker-base" >/dev/null 2>&1 &&
    crane append -b "$REG/oci/trap:docker-base" -f "${ZST[0]}" -t "$REG/oci/trap:zstd-on-docker" >/dev/null 2>&1 || return 0
  echo "info: crane append of a zstd layer onto a Docker-typed base: $(crane manifest "$REG/oci/trap:zstd-on-docker" |
    python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["mediaType"].split("/")[1], "with", " ".join(l["mediaType"].split("/")[1] for l in m["layers"]))')"
  local out
  if out="$(skopeo inspect --tls-verify=false "docker://$REG/oci/trap:zstd-on-docker" 2>&1)"; then
    echo "info: skopeo inspect of it: accepted"
  else
    echo "info: skopeo inspect of it: refused: $(grep -o 'unsupported docker v2s2 media type: [^ ]*zstd' <<<"${out//\\/}" || tail -n1 <<<"$out")"
  fi
}

# ---- 3. readers ------------------------------------------------------------------
# crane validate reads every layer through gzip (go-containerregistry's
# validate.Layer): it rejects zstd layers with "gzip: invalid header" however
# well-formed. For images with zstd layers the check is `--fast` (manifest,
# config, descriptors) and the layout check below hashes and decompresses
# every blob with an independent zstd.
crane_validate() {
  local tag="$1" full
  if full="$(crane validate --remote "$REG/oci/service:$tag" 2>&1)"; then
    echo "$full"
    return 0
  fi
  echo "full validation: $full"
  case "$tag" in gzip) return 1 ;; esac
  grep -q 'gzip: invalid header' <<<"$full" || return 1
  crane validate --fast --remote "$REG/oci/service:$tag" &&
    echo "(zstd layers: crane validate only reads gzip; --fast passes, blobs checked in the layout)"
}

descriptors() {
  local tag="$1" base="$2"
  shift 2
  local args=(--descriptor "$base") d
  for d in "$@"; do args+=(--descriptor "$d"); done
  python3 "$CHECK" descriptors --manifest "$OUT/$tag.manifest.json" --config "$OUT/$tag.config.json" "${args[@]}"
}

layout() {
  local tag="$1"
  skopeo copy -q --src-tls-verify=false "docker://$REG/oci/service:$tag" "oci:$OUT/layout-$tag:service" &&
    python3 "$CHECK" layout --layout "$OUT/layout-$tag"
}

export_matches() {
  local tag="$1" base="$2"
  shift 2
  local args=(--base "$base") l
  for l in "$@"; do args+=(--layer "$l"); done
  crane export "$REG/oci/service:$tag" "$OUT/$tag.export.tar" &&
    python3 "$CHECK" export --export "$OUT/$tag.export.tar" "${args[@]}"
}

# umoci_unpack TAG EXPORT: the unpacked tree holds exactly EXPORT's paths.
umoci_unpack() {
  local tag="$1" export="$2"
  local bundle="$OUT/bundle-$tag"
  umoci unpack --image "$OUT/layout-$tag:service" "$bundle" >/dev/null &&
    python3 "$CHECK" rootfs --rootfs "$bundle/rootfs" --export "$export" &&
    python3 - "$bundle/config.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["process"]
assert p["args"] == ["/app/service", "serve"], p["args"]
assert p["cwd"] == "/app", p["cwd"]
assert any(e.startswith("PATH=/app/.runfiles/") for e in p["env"]), p["env"]
print("ok runtime config: args %s, cwd %s, user %s" % (p["args"], p["cwd"], p["user"]))
PY
}

# read_image TAG BASE LAYERS_VAR DESCRIPTORS_VAR [full]
read_image() {
  local tag="$1" base="$2" layers_var="$3" desc_var="$4" full="${5:-}"
  local -n layers="$layers_var" descs="$desc_var"
  step "$tag: independent readers"
  echo "layer media types: $(python3 -c 'import json, sys; print(" ".join(l["mediaType"].rsplit(".", 1)[1] for l in json.load(open(sys.argv[1]))["layers"]))' "$OUT/$tag.manifest.json")"
  check_logged "$tag: crane validate" crane_validate "$tag"
  check_logged "$tag: manifest and config == our descriptors" descriptors "$tag" "$base" "${descs[@]}"
  check_logged "$tag: skopeo copy to an OCI layout; blobs re-hashed and decompressed" layout "$tag"
  # The file system does not depend on compression: the mixed images skip
  # crane export and are compared with the gzip image's export.
  local export="$OUT/gzip.export.tar"
  if [ -n "$full" ]; then
    export="$OUT/$tag.export.tar"
    check_logged "$tag: crane export == union of the layers; symlinks resolve" export_matches "$tag" "$base" "${layers[@]}"
  fi
  check_logged "$tag: umoci unpack (tree == crane export, runtime config)" umoci_unpack "$tag" "$export"
  rm -rf "$OUT/bundle-$tag" "$OUT/layout-$tag"
}

# ---- 4. the docker archive: byte identity, dive, container-structure-test ----------
docker_archive() {
  step "gzip: docker archive (skopeo), docker-save identity, dive, container-structure-test"
  check_logged "gzip: blobs byte-identical to the test-only docker-save image" \
    python3 "$CHECK" same-blobs --docker-save "$DOCKER_SAVE" --manifest "$OUT/gzip.manifest.json"
  check_logged "gzip: skopeo copy to a docker archive" to_docker_archive gzip
  # The docker archive format has no zstd: skopeo refuses rather than converting.
  if skopeo copy -q --src-tls-verify=false "docker://$REG/oci/service:zstd" \
    "docker-archive:$OUT/zstd.docker.tar:localhost/rules_pyimage/oci:zstd" >"$OUT/zstd-archive.log" 2>&1; then
    echo "info: skopeo wrote a docker archive of the zstd image (decompressed layers)"
  else
    echo "info: skopeo copy zstd -> docker-archive: $(grep -o 'zstd compression is not supported[^"]*' "$OUT/zstd-archive.log" || tail -n1 "$OUT/zstd-archive.log")"
  fi
  check_logged "gzip: dive --ci (efficiency 1, 0 wasted bytes)" dive_ci docker-archive "$OUT/gzip.docker.tar"
  check_logged "gzip: container-structure-test --driver tar" cst_tar "$OUT/gzip.docker.tar"
}

to_docker_archive() {
  skopeo copy -q --src-tls-verify=false "docker://$REG/oci/service:$1" \
    "docker-archive:$OUT/$1.docker.tar:localhost/rules_pyimage/oci:$1" &&
    echo "$(tar -tf "$OUT/$1.docker.tar" | grep -c '^[0-9a-f]*\.tar$') layers (uncompressed, as docker archives hold them)"
}

dive_ci() {
  CI=true dive --ci --source "$1" "$2" --lowestEfficiency=1 --highestWastedBytes=0 --highestUserWastedPercent=0 >"$OUT/dive.out" 2>&1
  local rc=$?
  cat "$OUT/dive.out"
  [ "$rc" = 0 ] && grep -q 'wastedBytes: 0 bytes' "$OUT/dive.out" && echo "dive: efficiency 100 %, wastedBytes 0"
}

cst_tar() {
  # The tar driver extracts the whole image per test: use a tmpfs when there is room.
  local tmp="${TMPDIR:-/tmp}"
  if [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 2097152 ]; then tmp=/dev/shm; fi
  TMPDIR="$tmp" container-structure-test test --driver tar --image "$1" --config "$HERE/tests/structure.yaml" >"$OUT/cst-tar.out" 2>&1
  cst_result "$OUT/cst-tar.out" 15
}

# cst_result LOG MIN: at least MIN tests passed, none failed.
cst_result() {
  local n_pass n_fail
  n_pass="$(awk '/^Passes:/ { print $2 }' "$1" | tail -n1)"
  n_fail="$(awk '/^Failures:/ { print $2 }' "$1" | tail -n1)"
  if [ "${n_pass:-0}" -ge "$2" ] && [ "${n_fail:-1}" = 0 ]; then
    echo "$n_pass tests passed"
  else
    cat "$1"
    return 1
  fi
}

# ---- 5. podman, in a private store -------------------------------------------------
private_podman() {
  mkdir -p "$OUT/podman/root"
  cat >"$OUT/podman/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$OUT/podman/root"
runroot = "$PODMAN_RUN_DIR/run"
CONF
  # File locks under a private tmp_dir: no lock or state shared with other podman users.
  cat >"$OUT/podman/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
lock_type = "file"
tmp_dir = "$PODMAN_RUN_DIR/tmp"
CONF
  export CONTAINERS_STORAGE_CONF="$OUT/podman/storage.conf" CONTAINERS_CONF="$OUT/podman/containers.conf"
}

EXPECTED_OUTPUT=(
  "rules_pyimage oci example service"
  "executable: /app/service.runfiles/rules_pyimage~~image~pyimage_python311/python/bin/python3.11"
  "imports: 10 modules ok (numpy, numpy.linalg, numpy.fft, numpy.random, jaraco.context, jaraco.functools, more_itertools, backports.tarfile, libs.stats.stats, libs.web.web)"
  'GET /health -> 200 {"status": "ok"}'
  'GET /stats?values=3,1,4,1,5,9,2,6 -> 200 {"count": 8, "mean": 3.875, "quartiles": [1.75, 3.5, 5.25], "std": 2.748376}'
  'GET /fit?x=0,1,2,3&y=1,3,5,7 -> 200 {"intercept": 1.0, "slope": 2.0}'
  'GET /stats?values=1,x -> 400'
  'GET /missing -> 404'
  '"distributions": {"backports.tarfile": "1.2.0", "jaraco.context": "6.0.1", "jaraco.functools": "4.1.0", "more-itertools": "11.2.1", "numpy": "2.2.6"}'
  '"jaraco namespace portions": 2, "numpy-config --version": "2.2.6"'
  "bundled library: /app/.runfiles/rules_python~~pip~pypi_numpy/site-packages/numpy.libs/libscipy_openblas64_-56d6093b.so"
  "status: ok"
)

# podman_check TAG: a fresh pull (empty store: every blob decompressed by podman)
# and `service check` in the container.
podman_check() {
  local tag="$1" want ok=0
  podman rmi -a -f >/dev/null 2>&1
  podman pull -q --tls-verify=false "$REG/oci/service:$tag" >"$OUT/pull-$tag.log" 2>&1 || {
    cat "$OUT/pull-$tag.log"
    return 1
  }
  podman run --rm --network none "$REG/oci/service:$tag" check >"$OUT/run-$tag.out" 2>"$OUT/run-$tag.err" || ok=1
  cat "$OUT/run-$tag.out"
  for want in "${EXPECTED_OUTPUT[@]}"; do
    grep -qF -- "$want" "$OUT/run-$tag.out" || {
      echo "missing from the output: $want"
      ok=1
    }
  done
  [ "$ok" = 0 ] && echo "podman run $tag check: the expected output"
}

# The image's default command serves; a client inside the container asks /health.
podman_serve() {
  serving="$(podman run -d --network none "$REG/oci/service:gzip")" || return 1
  local py="/app/.runfiles/rules_pyimage~~image~pyimage_python311/python/bin/python3.11" answer=""
  for _ in $(seq 50); do
    answer="$(podman exec "$serving" "$py" -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:8080/health").read().decode().strip())' 2>/dev/null)" && break
    sleep 0.2
  done
  podman logs "$serving" 2>&1 | head -n 3
  podman rm -f "$serving" >/dev/null 2>&1
  serving=""
  [ "$answer" = '{"status": "ok"}' ] && echo "default command serves: GET /health on :8080 -> $answer"
}

cst_podman() {
  local sock="$PODMAN_RUN_DIR/podman.sock"
  podman system service --time=0 "unix://$sock" >"$OUT/service.log" 2>&1 &
  svc=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  DOCKER_HOST="unix://$sock" timeout 300 container-structure-test test --driver docker \
    --image "$REG/oci/service:gzip" --config "$HERE/tests/structure-podman.yaml" >"$OUT/cst-podman.out" 2>&1
  kill "$svc" 2>/dev/null
  wait "$svc" 2>/dev/null
  svc=""
  cst_result "$OUT/cst-podman.out" 6
}

run_podman() {
  step "podman (private store): pull from the registry, run"
  private_podman
  local tag
  for tag in zstd mixed-gzip-base mixed-zstd-base gzip; do
    check_logged "$tag: podman pull + run check" podman_check "$tag"
  done
  check_logged "gzip: podman run (default command) serves" podman_serve
  check_logged "gzip: container-structure-test --driver docker via podman" cst_podman
}

step "tools"
check_logged "tools present" tools_present || finish
build
start_registry
if [ "$MODE" = run ]; then
  # The short path (a main job): the gzip image, pulled and run under podman.
  check_logged "image gzip" assemble gzip "$BASE_GZ" "${GZ[@]}"
  step "podman (private store): pull from the registry, run \`service check\`"
  private_podman
  check_logged "gzip: podman pull + run check" podman_check gzip
  cat "$OUT/run-gzip.out"
  finish
fi
assemble_all
read_image gzip "$BASE_GZ" GZ GZ_DESC full
read_image zstd "$BASE_ZST" ZST ZST_DESC full
read_image mixed-gzip-base "$BASE_GZ" ZST ZST_DESC
read_image mixed-zstd-base "$BASE_ZST" GZ GZ_DESC
docker_archive
run_podman
finish
