#!/usr/bin/env bash
# Host-side checks of e2e/limits (run by tools/test-all.sh after
# `bazel test //...`, or by hand: `bash e2e/limits/test.sh`):
#   1. //:layers_over_limit (130 one-package groups + app layer) fails the
#      build in its validation action, naming the 127-layer limit and printing
#      a paste-ready `layer_tier(groups = {...})` fix;
#   2. //:layers_warn_only (same tier with limit_as_warning = True) builds;
#   3. 120 groups build alone but fail with base_layers = 10 (base image
#      layers count towards the limit).
# Ends with a `N passed, N failed` line (read by tools/test-all.sh).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/hook.sh
. "$HERE/../../tools/lib/hook.sh"
hook_init limits
# Validation must not come from the disk cache, so that its messages are
# printed whenever Bazel runs it.
FLAGS=(--modify_execution_info='PyImageValidate=+no-cache')

# expect_failure TARGET LOG PATTERN...: the build fails and LOG matches every
# (extended, case-insensitive) PATTERN.
expect_failure() {
  local target="$1" log="$2" p
  shift 2
  if "$BAZEL" build "${FLAGS[@]}" "$target" >"$log" 2>&1; then
    fail "$target built, but validation should have failed"
    return
  fi
  pass "$target: build failed as expected"
  for p in "$@"; do
    if grep -Eiq -- "$p" "$log"; then pass "  message matches /$p/"; else fail "  message lacks /$p/"; fi
  done
}

step "130 one-package groups: validation fails at the 127 limit"
expect_failure //:layers_over_limit "$OUT/over_limit.log" \
  'ERROR' '127' 'layer_tier\(' 'groups *= *\{' 'validat|PyImageValidate'
echo "--- validation output (excerpt):"
grep -E -A12 'ERROR|WARNING' "$OUT/over_limit.log" | head -40

step "limit_as_warning = True: the same layers build"
if "$BAZEL" build "${FLAGS[@]}" //:layers_warn_only >"$OUT/warn_only.log" 2>&1; then
  pass "//:layers_warn_only built"
  # The warning is printed when the validation action runs; when Bazel had
  # nothing to redo it is only in the action's report (validation.txt).
  if grep -Eiq 'WARNING.*(127|limit)|(127|limit).*WARNING' "$OUT/warn_only.log" \
    bazel-bin/layers_warn_only_layers/validation.txt 2>/dev/null; then
    pass "  the limit warning was printed / reported"
  else
    fail "  no limit warning printed or reported"
  fi
else
  fail "//:layers_warn_only failed"
  tail -30 "$OUT/warn_only.log"
fi

step "base image layers count: 120 groups pass alone, fail on 10 base layers"
if "$BAZEL" build "${FLAGS[@]}" //:layers_120_groups >"$OUT/120.log" 2>&1; then
  pass "//:layers_120_groups built"
else
  fail "//:layers_120_groups failed"
  tail -30 "$OUT/120.log"
fi
expect_failure //:layers_120_groups_on_10_base_layers "$OUT/120_base10.log" \
  'validat|PyImageValidate' '10 base' '127'

finish
