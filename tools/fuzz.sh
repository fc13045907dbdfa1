#!/usr/bin/env bash
# Runs pyimage's property-based fuzz tests (tar reader on arbitrary and mutated streams,
# plan and descriptor loaders on mutated JSON) with a large case count. A failure prints
# proptest's minimal failing input: turn it into a regression test.
# Usage: tools/fuzz.sh [CASES]   (default 500000 per property: about 30-40 s in release
# after a 5-8 min first build on 2 cores; 20000 take about 1.5 s)
set -euo pipefail
cd "$(dirname "$0")/../rust"
export PYIMAGE_FUZZ_CASES="${1:-500000}"
exec cargo test --release -p pyimage --lib -- \
    reader_survives_ plan_and_descriptor_loaders_never_panic
