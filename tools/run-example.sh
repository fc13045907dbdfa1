#!/usr/bin/env bash
# The main job of rules_pyimage (README): build and run the example app.
#
#   bash tools/run-example.sh              build + run e2e/smoke's //app:app
#   bash tools/run-example.sh --teardown   same, then stop Bazel and unmount
#
# The Bazel server and caches are kept between runs (a second run takes a
# fraction of the first); tools/teardown.sh stops them.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
TEARDOWN=0
for a in "$@"; do
  case "$a" in
    --teardown) TEARDOWN=1 ;;
    -h | --help)
      sed -n '2,8p' "$0"
      exit 0
      ;;
    *)
      echo "unknown argument: $a" >&2
      exit 2
      ;;
  esac
done

start=$SECONDS
"$REPO/tools/setup.sh"
cd "$REPO/e2e/smoke"
rc=0
"$REPO/tools/bazel" run //app:app || rc=$?
echo "run-example: finished in $((SECONDS - start)) s (exit $rc)" >&2
if [ "$TEARDOWN" = 1 ]; then "$REPO/tools/teardown.sh"; fi
exit "$rc"
