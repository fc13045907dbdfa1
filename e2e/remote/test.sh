#!/usr/bin/env bash
# e2e/remote: rules_pyimage under a real remote cache and real remote execution
# (run by tools/test-all.sh after `bazel test //...` of this workspace, or by
# hand: `bash e2e/remote/test.sh`). Builds e2e/smoke's layers in two scratch
# copies of this checkout (A and B: other paths, own output bases) against
# servers started here on loopback (tools/remote/start.sh: nginx WebDAV,
# BuildGrid + PostgreSQL, a buildbox worker in the harness root running each
# action in bubblewrap's sandbox) and stopped on any exit. The copies run a
# statically linked pyimage (lib.sh: the sandbox holds only the action's inputs).
# Every check reads Bazel's execution log, never an exit status:
#   a. remote execution: A built locally and on the worker, every PyImage*
#      output byte-identical (keyed by declared outputs), every PyImage* spawn
#      executed remotely;
#   e. the spawns asked for the worker's platform (OSFamily, ISA) and resolved
#      the tool for the worker's execution platform; a worker of another CPU gets
#      no tool (analysis fails naming its platform);
#   g. two binaries pinned to two tiers with the same interpreter settings: one
#      PyImageInterpreter action (aquery);
#   f. an execution platform no worker offers: the actions wait for a worker
#      (the build does not complete) and none runs locally instead;
#   b. remote cache across checkouts: B, cold, 100 % PyImage* remote cache hits
#      from nginx and from BuildGrid, same digests;
#   c. stamping (--stamp, stable and volatile status changing) re-runs no layer
#      action and changes no digest;
#   d. cache economics (economics.sh): the promised invalidations hold.
# Ends with `N passed, N failed`.
set -uo pipefail
# shellcheck source=e2e/remote/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

ECON_ARGS=(--check)
for a in "$@"; do
  case "$a" in
    --write-doc) ECON_ARGS+=(--write-doc) ;;
    *)
      echo "usage: e2e/remote/test.sh [--write-doc]" >&2
      exit 2
      ;;
  esac
done

A="$WORK/a"
B="$WORK/b"
STATE="$(mktemp -d "${TMPDIR:-/tmp}/pyimage-remote.XXXXXX")"

cleanup() {
  local ws
  for ws in "$A" "$B"; do
    if [ -x "$ws/tools/bazel" ]; then (cd "$ws/e2e/smoke" && "$ws/tools/bazel" shutdown) >/dev/null 2>&1; fi
    # tools/bazel bind-mounted the copy into the harness root.
    if mountpoint -q "$PYIMAGE_ROOTFS$ws"; then umount "$PYIMAGE_ROOTFS$ws" 2>/dev/null || umount -l "$PYIMAGE_ROOTFS$ws"; fi
  done
  bash "$REPO/tools/remote/stop.sh" "$STATE"
  rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
  printf '\n%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" = 0 ]
  exit $?
}

step "servers (tools/remote/start.sh)"
# The worker runs each action in bubblewrap's sandbox (only its inputs visible);
# PYIMAGE_REMOTE_RUNNER=hosttools runs them without one.
if ! PYIMAGE_REMOTE_RUNNER="${PYIMAGE_REMOTE_RUNNER:-bubblewrap}" bash "$REPO/tools/remote/start.sh" "$STATE"; then
  check "remote servers started" false
  finish
fi
# shellcheck disable=SC1091
. "$STATE/env"
printf 'nginx %s, BuildGrid %s, worker platform %s\n' "$REMOTE_HTTP" "$REMOTE_GRPC" "$REMOTE_WORKER_PLATFORM"
read -r -a WORKER_PROPS <<<"$REMOTE_WORKER_PLATFORM"
HTTP_CACHE=(--remote_cache="$REMOTE_HTTP")
# The execution platform's exec_properties are part of every action's key: a
# cache-only client hits what the worker produced only with the same platform.
GRPC_CACHE=(--remote_cache="$REMOTE_GRPC" --remote_instance_name= --extra_execution_platforms="$REMOTE_EXEC_PLATFORM")
# BuildGrid starts with an empty (in-memory) action cache, so every action of
# the first remote build executes on the worker; BuildGrid then caches it.
REMOTE_EXEC=(--remote_executor="$REMOTE_GRPC" --remote_instance_name=
  --extra_execution_platforms="$REMOTE_EXEC_PLATFORM" --remote_timeout=300 --jobs=8)

step "scratch copies of the checkout: $A and $B"
mkdir -p "$WORK_ROOT"
exec 8>>"$WORK_ROOT/lock"
if ! flock -n 8; then
  echo "another e2e/remote run holds $WORK_ROOT/lock: waiting"
  flock 8
fi
check "the statically linked pyimage tool built (cargo --target, +crt-static)" build_static_tool
[ -x "$STATIC_TOOL" ] || finish
copy_checkout "$A"
copy_checkout "$B"
install_static_tool "$A"
install_static_tool "$B"
rm -rf "$OUT"
mkdir -p "$OUT"
BA="$A/tools/bazel"
BB="$B/tools/bazel"

# build WS_DIR BAZEL LOG FLAGS...: one build of the targets with an execution log.
build() {
  local dir="$1" bazel="$2" log="$3"
  shift 3
  rm -f "$log"
  # Bounded: a remote build that cannot be scheduled would otherwise wait forever
  # (--foreground: a caller's own timeout still reaches the Bazel client).
  (cd "$dir" && timeout --foreground -s INT 900 "$bazel" build "${BASE_FLAGS[@]}" "${OUTPUT_GROUPS[@]}" --execution_log_json_file="$log" "$@" "${TARGETS[@]}")
}
summary() { "$PY" "$CHECKS" counts "$1"; }

step "a. A built locally (outputs uploaded to nginx), then on the worker"
(cd "$A/e2e/smoke" && "$BA" clean)
build "$A/e2e/smoke" "$BA" "$OUT/a-local.json" "${HTTP_CACHE[@]}"
summary "$OUT/a-local.json"
(cd "$A/e2e/smoke" && "$BA" clean)
build "$A/e2e/smoke" "$BA" "$OUT/a-remote.json" "${REMOTE_EXEC[@]}"
summary "$OUT/a-remote.json"
check "a. local and remote execution give byte-identical PyImage* outputs; all ran remotely" \
  "$PY" "$CHECKS" compare "$OUT/a-local.json" "$OUT/a-remote.json"
echo "worker log: $(grep -c 'Runner exited with code 0' "$STATE/worker.log") actions run by buildbox-run-$REMOTE_WORKER_RUNNER, exit code 0"

step "e. the worker's platform was asked for and matched"
check "e. every remote PyImage* spawn asked for the worker's properties ($REMOTE_WORKER_PLATFORM)" \
  "$PY" "$CHECKS" platform "$OUT/a-remote.json" "${WORKER_PROPS[@]}"
(cd "$A/e2e/smoke" && "$BA" aquery "${BASE_FLAGS[@]}" "${REMOTE_EXEC[@]}" --output=text \
  'mnemonic("PyImage.*", deps(//app:layers))' 2>/dev/null) | grep -E '^ *Execution platform:' | sort | uniq -c >"$OUT/exec-platforms.txt"
cat "$OUT/exec-platforms.txt"
check "e. toolchain resolution chose the worker's execution platform for every PyImage* action" \
  bash -c '[ -s "$1" ] && [ "$(wc -l <"$1")" = 1 ] && grep -q "Execution platform: ${2}\$" "$1"' _ \
  "$OUT/exec-platforms.txt" "$REMOTE_EXEC_PLATFORM"

# The tool's exec constraints, not the client's machine, decide: a worker of the other
# CPU gets no tool built for this one (the source toolchain is constrained to the host);
# toolchain resolution ends at the catch-all toolchain, whose analysis fails naming
# that platform.
case "$REMOTE_EXEC_PLATFORM" in
  *_x86_64) OTHER_CPU_PLATFORM="${REMOTE_EXEC_PLATFORM%_x86_64}_aarch64" ;;
  *) OTHER_CPU_PLATFORM="${REMOTE_EXEC_PLATFORM%_aarch64}_x86_64" ;;
esac
(cd "$A/e2e/smoke" && "$BA" build --nobuild "${BASE_FLAGS[@]}" --extra_execution_platforms="$OTHER_CPU_PLATFORM" \
  //app:layers) >"$OUT/e-other-cpu.log" 2>&1
e_rc=$?
grep -m1 -o 'rules_pyimage: `pyimage` was built from source.*which has other constraints' "$OUT/e-other-cpu.log"
check "e. a worker of another CPU ($OTHER_CPU_PLATFORM): analysis fails naming it, the host's tool is never sent there" \
  bash -c '[ "$1" != 0 ] && grep -qF "$2, which has other constraints" "$3"' _ "$e_rc" "${OTHER_CPU_PLATFORM#@rules_pyimage}" "$OUT/e-other-cpu.log"

step "g. the interpreter layer: one action for two binaries pinned to two tiers with the same interpreter settings"
(cd "$A/e2e/smoke" && "$BA" aquery "${BASE_FLAGS[@]}" "${REMOTE_EXEC[@]}" --output=text \
  'mnemonic("PyImageInterpreter", deps(//app:layers) + deps(//app:layers_coarse))' 2>/dev/null) >"$OUT/g-interpreter.txt"
grep -E '^ *Outputs:' "$OUT/g-interpreter.txt" | sort -u | tee "$OUT/g-outputs.txt"
check "g. //app:layers (//image:tier) and //app:layers_coarse (//image:tier_coarse): 1 PyImageInterpreter action" \
  bash -c '[ "$(grep -c "^action " "$1")" = 1 ] && [ "$(wc -l <"$2")" = 1 ]' _ "$OUT/g-interpreter.txt" "$OUT/g-outputs.txt"

step "f. an execution platform no worker offers: nothing runs, not even locally"
# BuildGrid queues the actions for a worker that never comes (Bazel 7.7.1 keeps
# waiting: --remote_timeout does not bound the wait for execution). Bazel must
# keep them on the remote ("[Sched]") and never run them on this machine (it
# would only with --remote_local_fallback). SIGINT after 90 s: Bazel cancels the
# build and still prints its process summary (no execution log is written).
(cd "$A/e2e/smoke" && "$BA" clean)
NO_WORKER=(--remote_executor="$REMOTE_GRPC" --remote_instance_name= --jobs=8 --show_progress_rate_limit=5
  --extra_execution_platforms="${REMOTE_EXEC_PLATFORM/:worker_/:no_worker_}")
timeout -s INT 90 bash -c "$(declare -f build); $(declare -p BASE_FLAGS OUTPUT_GROUPS TARGETS); build \"\$@\"" _ \
  "$A/e2e/smoke" "$BA" "$OUT/f-no-worker.json" "${NO_WORKER[@]}" >"$OUT/f-no-worker.log" 2>&1
f_rc=$?
grep -E '\[Sched\] PyImage|^INFO: [0-9]+ process' "$OUT/f-no-worker.log" | tail -n 2
check "f. the build did not complete (exit $f_rc)" test "$f_rc" != 0
check "f. the PyImage* actions waited for a remote worker ([Sched])" grep -qE '\[Sched\] PyImage' "$OUT/f-no-worker.log"
check "f. no action ran, locally or remotely (Bazel's process summary: internal only)" \
  grep -qE '^INFO: ([0-9]+) processes?: \1 internal\.$' "$OUT/f-no-worker.log"
(cd "$A/e2e/smoke" && "$BA" clean)

step "b. B (another path, own output base), cold, from the nginx cache"
(cd "$B/e2e/smoke" && "$BB" clean)
build "$B/e2e/smoke" "$BB" "$OUT/b-http.json" "${HTTP_CACHE[@]}"
tool_a="$(tool_of "$A/e2e/smoke")"
tool_b="$(tool_of "$B/e2e/smoke")"
echo "pyimage tool: A ${tool_a:-?}, B ${tool_b:-?}"
check "b. A and B run the same pyimage binary (a cache is shared only by identical tools)" \
  test -n "$tool_a" -a "$tool_a" = "$tool_b"
summary "$OUT/b-http.json"
check "b. nginx: 100 % of B's PyImage* spawns are remote cache hits, none executed" \
  "$PY" "$CHECKS" all-hits "$OUT/b-http.json"
check "b. nginx: B's outputs have A's digests" "$PY" "$CHECKS" same "$OUT/a-local.json" "$OUT/b-http.json"

step "b. B cold again, from BuildGrid's cache (filled by A's remote execution)"
(cd "$B/e2e/smoke" && "$BB" clean)
build "$B/e2e/smoke" "$BB" "$OUT/b-grpc.json" "${GRPC_CACHE[@]}"
summary "$OUT/b-grpc.json"
check "b. BuildGrid: 100 % of B's PyImage* spawns are remote cache hits, none executed" \
  "$PY" "$CHECKS" all-hits "$OUT/b-grpc.json"
check "b. BuildGrid: B's outputs have A's digests" "$PY" "$CHECKS" same "$OUT/a-local.json" "$OUT/b-grpc.json"

step "c. stamping: --stamp with changing stable and volatile status"
layer_sums() { (cd "$A/e2e/smoke" && find -L bazel-bin/app -name '*.json' -path '*layers*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
build "$A/e2e/smoke" "$BA" "$OUT/c-settle.json"
layer_sums >"$OUT/c-before.txt"
for run in 1 2; do
  printf '#!/bin/sh\necho STABLE_PYIMAGE_E2E_RUN %s-%s\necho BUILD_PYIMAGE_E2E_TIME %s\n' "$run" "$$" "$(date +%s%N)" >"$OUT/status.sh"
  chmod 755 "$OUT/status.sh"
  # Stamping is local: here the exit status does say whether the build happened.
  check "c. --stamp build (status run $run) succeeded" \
    build "$A/e2e/smoke" "$BA" "$OUT/c-stamp$run.json" --stamp --workspace_status_command="$OUT/status.sh"
  check "c. --stamp (status run $run): no PyImage* action re-ran" "$PY" "$CHECKS" none "$OUT/c-stamp$run.json"
done
layer_sums >"$OUT/c-after.txt"
check "c. descriptors (layer digests) unchanged by stamping" cmp "$OUT/c-before.txt" "$OUT/c-after.txt"

step "d. cache economics (economics.sh, in B with the nginx cache)"
bash "$HERE/economics.sh" "${ECON_ARGS[@]}" "$B" "$REMOTE_HTTP" | tee "$OUT/economics.txt"
econ_rc=${PIPESTATUS[0]}
check "d. cache economics: the promised invalidations hold" test "$econ_rc" = 0

finish
