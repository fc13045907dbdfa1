#!/usr/bin/env bash
# Regenerates e2e/smoke/snapshots/*.txt (`pyimage list` of each layer of
# //app:layers, built by //tests:listings). Review the diff before committing;
# //tests:invariants_test keeps checking the invariants whatever the snapshots say.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPO="$(cd "$HERE/../.." && pwd -P)"
BAZEL="${BAZEL:-$REPO/tools/bazel}"
cd "$HERE"
"$BAZEL" build //tests:listings
mapfile -t files < <("$BAZEL" cquery --output=files //tests:listings 2>/dev/null)
[ "${#files[@]}" -gt 0 ] || { echo "no listings built" >&2; exit 1; }
rm -f snapshots/*.txt
for f in "${files[@]}"; do
  cp "$f" "snapshots/$(basename "$f")"
  chmod 644 "snapshots/$(basename "$f")"
done
git -C "$HERE" status --short -- snapshots
echo "updated ${#files[@]} snapshots in $HERE/snapshots"
