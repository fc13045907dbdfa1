#!/usr/bin/env bash
# The test command of rules_pyimage (what .ci/run runs); `--help` for its steps.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$REPO/tools/lib/common.sh"

usage() {
  cat <<'USAGE'
usage: bash tools/test-all.sh [--keep]

  (no option)  set up, run every check, tear down
  --keep       same, but keep the Bazel servers and mounts (faster reruns
               while developing; also PYIMAGE_KEEP=1)

Steps: tools/setup.sh; cargo fmt --check; cargo clippy --all-targets
-D warnings; cargo test; the fuzz properties with 20000 cases each; buildifier lint over every Starlark file; ShellCheck
of every tracked shell script; tools/check-map.py (docs/design.md's Map matches
the tree); `duplicates --change` when that command exists
(printed, not counted; PYIMAGE_DUPLICATES_BASE=REV compares with REV instead
of HEAD); bazel test //... in the root module; for every e2e/<ws>/ with a
MODULE.bazel: bazel test //... there, then the optional hook e2e/<ws>/test.sh
(see docs/harness.md).
Each counted step prints a result line; the last line is `N passed, N failed`
(tests and checks counted together). Exit status 0 only if nothing failed.
USAGE
}

KEEP="${PYIMAGE_KEEP:-0}"
for a in "$@"; do
  case "$a" in
    --keep) KEEP=1 ;;
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

case ":$PATH:" in *":$CARGO_HOME/bin:"*) ;; *) [ -d "$CARGO_HOME/bin" ] && PATH="$CARGO_HOME/bin:$PATH" ;; esac
export PATH
# Cargo's build output is shared by every clone on the machine (CI always
# works in a fresh clone), like Bazel's caches.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PYIMAGE_OUTPUT/cargo-target}"
BAZEL="$REPO/tools/bazel"
LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/pyimage-test-all.XXXXXX")"
TOTAL_PASS=0
TOTAL_FAIL=0
RESULTS=()

TORN_DOWN=0
teardown_once() {
  [ "$TORN_DOWN" = 1 ] && return 0
  TORN_DOWN=1
  if [ "$KEEP" != 1 ]; then
    echo "==> teardown (tools/teardown.sh; --keep skips it)"
    "$REPO/tools/teardown.sh" || echo "teardown reported a problem" >&2
  fi
}
cleanup() {
  teardown_once
  rm -rf "$LOGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# record NAME PASSED FAILED SECONDS
record() {
  local status=PASS
  [ "$3" -gt 0 ] && status=FAIL
  TOTAL_PASS=$((TOTAL_PASS + $2))
  TOTAL_FAIL=$((TOTAL_FAIL + $3))
  RESULTS+=("$(printf '[%s] %-44s %4d passed, %3d failed  (%ss)' "$status" "$1" "$2" "$3" "$4")")
  echo "${RESULTS[-1]}"
}

# run_logged LOG CMD... : runs CMD, output to terminal and LOG, returns its status.
run_logged() {
  local log="$1"
  shift
  "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

# A check counted as one pass or one failure.
check_step() {
  local name="$1" start=$SECONDS rc
  shift
  echo "==> $name"
  run_logged "$LOGDIR/step.log" "$@"
  rc=$?
  if [ "$rc" = 0 ]; then record "$name" 1 0 $((SECONDS - start)); else record "$name" 0 1 $((SECONDS - start)); fi
}

cargo_test_step() {
  local start=$SECONDS rc p f
  echo "==> cargo test"
  run_logged "$LOGDIR/cargo-test.log" cargo test --workspace --color never
  rc=$?
  p="$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^passed/) s += $i } END { print s + 0 }' "$LOGDIR/cargo-test.log")"
  f="$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^failed/) s += $i } END { print s + 0 }' "$LOGDIR/cargo-test.log")"
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi # did not build, or crashed
  record "cargo test" "$p" "$f" $((SECONDS - start))
}

# bazel_test_step NAME DIR : `bazel test //...` in a workspace; counts test targets.
bazel_test_step() {
  local name="$1" dir="$2" start=$SECONDS rc p f log="$LOGDIR/bazel.log"
  echo "==> $name"
  (cd "$dir" && run_logged "$log" "$BAZEL" test --keep_going --color=no --curses=no --show_progress_rate_limit=30 //...)
  rc=$?
  p="$(grep -cE '^(//|@)[^ ]+ +(\(cached\) )?(PASSED|FLAKY)' "$log")"
  f="$(grep -cE '^(//|@)[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FAILED TO BUILD)' "$log")"
  if [ "$rc" = 4 ] && [ "$p" = 0 ] && [ "$f" = 0 ]; then
    echo "(no test targets in $dir)"
  elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    f=1 # analysis or build failure before any test ran
  fi
  record "$name" "$p" "$f" $((SECONDS - start))
}

# hook_step WS DIR : runs e2e/<ws>/test.sh; a closing `N passed, N failed`
# line is added to the totals, otherwise its exit status counts as one check.
hook_step() {
  local ws="$1" dir="$2" start=$SECONDS rc p f line log="$LOGDIR/hook.log"
  echo "==> e2e/$ws/test.sh"
  (
    cd "$dir" || exit 1
    export BAZEL REPO_ROOT="$REPO" PYIMAGE_ROOT PYIMAGE_TOOLS PATH="$PYIMAGE_TOOLS/bin:$PATH"
    run_logged "$log" bash ./test.sh
  )
  rc=$?
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)"
  if [ -n "$line" ]; then
    p="${line%% passed*}"
    f="${line#*passed, }"
    f="${f%% failed*}"
  elif [ "$rc" = 0 ]; then
    p=1 f=0
  else
    p=0 f=1
  fi
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  record "e2e/$ws/test.sh" "$p" "$f" $((SECONDS - start))
}

starlark_files() {
  # e2e/.work holds the hooks' temporary workspace copies (tools/lib/hook.sh).
  find "$REPO" \( -name .git -o -name 'bazel-*' -o -name target -o -name node_modules -o -path "$REPO/e2e/.work" \) -prune -o \
    -type f \( -name '*.bzl' -o -name BUILD -o -name BUILD.bazel -o -name MODULE.bazel \
    -o -name WORKSPACE -o -name WORKSPACE.bazel -o -name '*.star' \) -print | LC_ALL=C sort
}

buildifier_lint() {
  local files
  mapfile -t files < <(starlark_files)
  echo "buildifier: ${#files[@]} Starlark files"
  "$PYIMAGE_TOOLS/bin/buildifier" -mode=check -lint=warn "${files[@]}"
}

shellcheck_all() {
  # Every shell script the repository tracks, plus the extension-less entry points.
  local f files=()
  while IFS= read -r f; do
    if [ -f "$REPO/$f" ]; then files+=("$REPO/$f"); fi
  done < <(git -C "$REPO" ls-files '*.sh' tools/bazel .ci/run)
  echo "shellcheck: ${#files[@]} scripts"
  shellcheck -x -S warning "${files[@]}"
}

# Code the uncommitted change (or everything since $PYIMAGE_DUPLICATES_BASE)
# repeats from elsewhere: a list of places to look at, never a failure, so it
# is printed and not counted.
duplicates_report() {
  local base=()
  if [ -n "${PYIMAGE_DUPLICATES_BASE:-}" ]; then base=(--base "$PYIMAGE_DUPLICATES_BASE"); fi
  if ! command -v duplicates >/dev/null; then
    echo "==> duplicates: command not installed, skipped"
    return 0
  fi
  echo "==> duplicates --change ${base[*]} (informational, not counted)"
  duplicates --change "${base[@]}" --repo "$REPO" || true
}

SUITE_START=$SECONDS
echo "==> setup (tools/setup.sh)"
if ! "$REPO/tools/setup.sh"; then
  record "setup" 0 1 $((SECONDS - SUITE_START))
  teardown_once
  echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
  exit 1
fi
record "setup" 1 0 $((SECONDS - SUITE_START))

cd "$REPO" || exit 1
if [ -f Cargo.toml ]; then
  check_step "cargo fmt --check" cargo fmt --all --check
  check_step "cargo clippy --all-targets -D warnings" cargo clippy --workspace --all-targets --color never -- -D warnings
  cargo_test_step
  # The fuzz properties (tar reader, manifest parser, plan and descriptor loaders; the
  # mutations of the committed corpus rust/pyimage/fuzz/corpus/) with more cases than
  # `cargo test` runs, on the debug build the step above made: a bounded run (~2-3 min).
  check_step "fuzz: tar reader, manifest parser, JSON loaders and corpus mutations, 20000 cases each" \
    env PYIMAGE_FUZZ_CASES=20000 cargo test -p pyimage --lib --color never -- \
    reader_survives_ plan_and_descriptor_loaders_never_panic fuzz::
fi
check_step "buildifier lint" buildifier_lint
check_step "shellcheck (every tracked script)" shellcheck_all
check_step "docs/design.md Map matches the tree" python3 "$REPO/tools/check-map.py"
duplicates_report
bazel_test_step "bazel test //... (root module)" "$REPO"
for mod in "$REPO"/e2e/*/MODULE.bazel; do
  [ -f "$mod" ] || continue
  wsdir="$(dirname "$mod")"
  ws="$(basename "$wsdir")"
  bazel_test_step "bazel test //... (e2e/$ws)" "$wsdir"
  if [ -f "$wsdir/test.sh" ]; then hook_step "$ws" "$wsdir"; fi
done

teardown_once
echo
echo "==> summary ($((SECONDS - SUITE_START)) s)"
printf '%s\n' "${RESULTS[@]}"
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" = 0 ]
