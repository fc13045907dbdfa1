#!/usr/bin/env bash
# Runs pyimage's property-based fuzz tests (tar reader on arbitrary and mutated streams,
# plan and descriptor loaders on mutated JSON) with a large case count. A failure prints
# proptest's minimal failing input: turn it into a regression test.
# Usage: tools/fuzz.sh [CASES]   (default 20000: about 1-2 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../rust"
export PYIMAGE_FUZZ_CASES="${1:-20000}"
exec cargo test --release -p pyimage --lib -- \
    reader_survives_ plan_and_descriptor_loaders_never_panic
