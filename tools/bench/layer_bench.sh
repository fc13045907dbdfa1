#!/usr/bin/env bash
# Layer-writing benchmark: pyimage vs GNU tar, bsdtar, tar|gzip -6, tar|pigz -6, tar|zstd -3 -T0,
# and pyimage merge of 20 per-package layers vs re-tarring them. Prints medians (wall and CPU),
# sizes and ratios side by side as Markdown; results and the command are recorded in
# docs/performance.md.
#
#   tools/bench/layer_bench.sh                 # RUNS=5 interleaved rounds per case after a warm-up
#   RUNS=3 tools/bench/layer_bench.sh          # fewer rounds
#   PYIMAGE_BENCH_CACHE=/tmp/b tools/bench/layer_bench.sh   # cache dir (default /var/cache/rules_pyimage/bench)
#   NICE=-10 tools/bench/layer_bench.sh        # run every command at this nice level (root; same for all)
#
# The inputs (pip install --target of numpy pandas scipy fastapi pydantic sqlalchemy requests,
# and a synthetic 20,000-small-file tree) are prepared once by prepare_trees.sh and cached.
# Needs: cargo, python3 with pip (first run only), GNU tar, bsdtar, gzip, pigz, zstd
# (Debian: apt-get install libarchive-tools pigz zstd).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
CACHE="${PYIMAGE_BENCH_CACHE:-/var/cache/rules_pyimage/bench}"
RUNS="${RUNS:-5}"
export PYIMAGE_BENCH_CACHE="$CACHE"

for tool in tar bsdtar gzip pigz zstd python3 cargo openssl; do
  command -v "$tool" >/dev/null || { echo "layer_bench: missing $tool (apt-get install libarchive-tools pigz zstd)" >&2; exit 1; }
done

"$here/prepare_trees.sh" >&2
(cd "$repo" && cargo build --release --quiet --bin pyimage)
exec nice -n "${NICE:-0}" python3 "$here/layer_bench.py" --bin "$repo/target/release/pyimage" --cache "$CACHE" \
  --runs "$RUNS" --json "$CACHE/results.json"
