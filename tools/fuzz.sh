#!/usr/bin/env bash
# Runs pyimage's property-based fuzz tests with a large case count: the tar reader on
# arbitrary and mutated streams, the plan and descriptor loaders on mutated JSON, and
# mutations of every seed of the committed corpus rust/pyimage/fuzz/corpus/<target>/
# (targets: tar, manifest, plan, descriptor; `cargo test` replays the corpus itself).
#
# A failure prints proptest's minimal failing input. To keep it as a regression case:
# write those bytes to rust/pyimage/fuzz/corpus/<target>/<what-it-is> (the replay test
# `fuzz::corpus_replays_without_panic` then fails until the bug is fixed), fix the bug,
# and commit both. See docs/security.md.
# Usage: tools/fuzz.sh [CASES]   (default 500000 per property: a few minutes in release
# after a 5-8 min first build on 2 cores; 20000 take a few seconds)
set -euo pipefail
cd "$(dirname "$0")/../rust"
export PYIMAGE_FUZZ_CASES="${1:-500000}"
exec cargo test --release -p pyimage --lib -- \
    reader_survives_ plan_and_descriptor_loaders_never_panic fuzz::
