#!/usr/bin/env bash
# The main job of rules_pyimage (README): build the smoke example's image
# layers, print the layer report, and run the image under podman. `--help`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
usage() {
  cat <<'USAGE'
usage: bash tools/run-example.sh [--teardown]

  (no option)   build layers + image, print the layer report, podman run
  --teardown    same, then stop Bazel and unmount (tools/teardown.sh)

Steps: tools/setup.sh (the offline Bazel root, once), tools/image/*.sh (the
cached base layer and CPython tree, once), then in e2e/smoke
`bazel build //app:layers //image:image`, the `report` output group of
//app:layers, `podman load` of the docker-save tarball and `podman run`.
The Bazel server and caches are kept between runs (a second run takes a
fraction of the first); tools/teardown.sh stops them.
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

BAZEL="$REPO/tools/bazel"
TAG="localhost/rules_pyimage/smoke:test"
start=$SECONDS
log() { printf '[run-example] %s\n' "$*" >&2; }

main() {
  "$REPO/tools/setup.sh"
  "$REPO/tools/image/make-interpreter.sh" >/dev/null
  "$REPO/tools/image/make-base.sh" >/dev/null
  cd "$REPO/e2e/smoke"

  log "bazel build //app:layers //image:image (layers of //app:app + a docker-save tarball)"
  "$BAZEL" build //app:layers //image:image --output_groups=+report
  local report image
  report="$("$BAZEL" cquery --output=files --output_groups=report //app:layers 2>/dev/null | head -n1)"
  image="$("$BAZEL" cquery --output=files //image:image 2>/dev/null | grep '\.tar$' | head -n1)"

  echo
  echo "== layer report (//app:layers, output group 'report': $report)"
  cat "$report"
  echo
  echo "== image: e2e/smoke/$image ($(du -h "$image" | cut -f1))"

  if ! command -v podman >/dev/null; then
    log "podman is not installed: running the app with 'bazel run //app' instead"
    "$BAZEL" run //app
    return
  fi
  echo
  echo "== podman load + podman run $TAG"
  podman load -q -i "$image"
  podman run --rm --runtime runc --cgroup-manager=cgroupfs \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none "$TAG"
}

rc=0
main || rc=$?
log "finished in $((SECONDS - start)) s (exit $rc)"
if [ "$TEARDOWN" = 1 ]; then "$REPO/tools/teardown.sh"; fi
exit "$rc"
