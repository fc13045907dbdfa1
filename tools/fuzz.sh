#!/usr/bin/env bash
# Runs pyimage's fuzz tests with a large case count: the tar reader on arbitrary and mutated
# streams, the plan and descriptor loaders on mutated JSON, and mutations of every seed of
# the committed corpus rust/pyimage/fuzz/corpus/<target>/ (targets: tar, manifest, plan,
# descriptor; `cargo test` replays the corpus itself).
#
# Usage: tools/fuzz.sh [CASES]
#          proptest properties on the stable toolchain (default 500000 cases each: a few
#          minutes in release after a 5-8 min first build on 2 cores)
#        tools/fuzz.sh --libfuzzer [SECONDS]
#          the same targets under libFuzzer with AddressSanitizer, SECONDS each (default
#          60); needs a nightly toolchain and cargo-fuzz (`rustup toolchain install
#          nightly`, `cargo install cargo-fuzz`). New inputs libFuzzer finds go to a scratch
#          corpus, never into the committed one; crashes to rust/pyimage/fuzz/artifacts/.
#
# A failure prints the failing input (proptest: its minimal case; libFuzzer: the artifact
# file). To keep it as a regression case: write those bytes to
# rust/pyimage/fuzz/corpus/<target>/<what-it-is> (the replay test
# `fuzz::tests::corpus_replays_without_panic` then fails until the bug is fixed), fix the
# bug, and commit both. See docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/../rust"
if [ "${1:-}" != "--libfuzzer" ]; then
  export PYIMAGE_FUZZ_CASES="${1:-500000}"
  exec cargo test --release -p pyimage --lib -- \
      reader_survives_ plan_and_descriptor_loaders_never_panic fuzz::
fi
seconds="${2:-60}"
cd pyimage
# sanitizer builds kept apart from the tool's (a shared CARGO_TARGET_DIR gets a -fuzz twin)
target_dir="$PWD/fuzz/target"
if [ -n "${CARGO_TARGET_DIR:-}" ]; then target_dir="$CARGO_TARGET_DIR-fuzz"; fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for t in tar manifest plan descriptor; do
  mkdir -p "$scratch/$t"
  cargo +nightly fuzz run --target-dir "$target_dir" "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=1024
done
