#!/usr/bin/env bash
# The main job of rules_pyimage (README): build the e2e/oci example's image
# layers, print the layer report, assemble the image with crane and run it
# under podman. `--help`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
usage() {
  cat <<'USAGE'
usage: bash tools/run-example.sh [--teardown]

  (no option)   build the layers, print the layer report, assemble the image
                with crane, podman run it
  --teardown    same, then stop Bazel and unmount (tools/teardown.sh)

Steps: tools/setup.sh (the offline Bazel root, the cached base layer and
CPython tree, the OCI tools; each once), then `e2e/oci/test.sh --run`:
in e2e/oci `bazel build //service:layers` and the layer report (its `report`
output group); `crane registry serve` on a loopback port, `crane append` of
the base layer and the five layers, `crane mutate` (entrypoint, env, workdir);
`podman pull` into a private store and `podman run ... check`, whose output
(the service's answers to its endpoints) is printed. The registry and the
podman store are removed at the end; the Bazel server and caches are kept
(a second run takes a fraction of the first); tools/teardown.sh stops them.
USAGE
}

TEARDOWN=0
for a in "$@"; do
  case "$a" in
    --teardown) TEARDOWN=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "unknown argument: $a" >&2
      usage >&2
      exit 2
      ;;
  esac
done

start=$SECONDS
log() { printf '[run-example] %s\n' "$*" >&2; }

main() {
  "$REPO/tools/setup.sh"
  log "e2e/oci/test.sh --run: build, layer report, crane assembly, podman run"
  bash "$REPO/e2e/oci/test.sh" --run
}

rc=0
main || rc=$?
log "finished in $((SECONDS - start)) s (exit $rc)"
if [ "$TEARDOWN" = 1 ]; then "$REPO/tools/teardown.sh"; fi
exit "$rc"
