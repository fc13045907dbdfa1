#!/usr/bin/env bash
# Host-side checks of e2e/limits (run by tools/test-all.sh after
# `bazel test //...`, or by hand: `bash e2e/limits/test.sh`):
#   1. //:layers_over_limit (130 one-package groups + app layer) fails the
#      build in its validation action, naming the 125-layer limit and printing
#      a paste-ready `layer_tier(groups = {...})` fix;
#   2. //:layers_warn_only (same tier with limit_as_warning = True) builds;
#   3. 120 groups build alone but fail with base_layers = 10 (base image
#      layers count towards the limit);
#   4. a synthetic 30-layer base image given as `base` (OCI layout and docker
#      archive) is counted by the validation action: 90 groups pass on it, 120
#      fail with the fix; skopeo reads the same 30 layers from both forms.
#   5. a layer budget: 200 packages in 95 layers of their own on a 30-layer base
#      validate (125 layers); in a copy of the workspace, bumping one package's
#      version changes exactly one layer digest, the auto layer holding it.
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

step "130 one-package groups: validation fails at the 125 limit"
expect_failure //:layers_over_limit "$OUT/over_limit.log" \
  'ERROR' 'max_layers = 125' 'layer_tier\(' 'groups *= *\{' 'validat|PyImageValidate'
echo "--- validation output (excerpt):"
grep -E -A12 'ERROR|WARNING' "$OUT/over_limit.log" | head -40

step "limit_as_warning = True: the same layers build"
if "$BAZEL" build "${FLAGS[@]}" //:layers_warn_only >"$OUT/warn_only.log" 2>&1; then
  pass "//:layers_warn_only built"
  # The warning is printed when the validation action runs; when Bazel had
  # nothing to redo it is only in the action's report (validation.txt).
  if grep -Eiq 'WARNING.*(125|limit)|(125|limit).*WARNING' "$OUT/warn_only.log" \
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
  'validat|PyImageValidate' '10 base' '125'

step "a 30-layer base image counts: 90 groups pass on it, 120 fail"
if "$BAZEL" build "${FLAGS[@]}" //:layers_90_groups_on_base30 //:layers_90_groups_on_base30_tar \
  //:base30 //:base30_tar >"$OUT/base30.log" 2>&1; then
  pass "90 groups on the 30-layer base built (OCI layout and docker archive)"
  for t in layers_90_groups_on_base30:oci-layout layers_90_groups_on_base30_tar:docker-archive; do
    v="bazel-bin/${t%%:*}_layers/validation.txt"
    check "  ${t%%:*}: validation counted 30 base layers from the ${t#*:}" \
      grep -q "122 layers (30 base from the ${t#*:} + 92 own" "$v"
  done
else
  fail "90 groups on the 30-layer base failed"
  tail -30 "$OUT/base30.log"
fi
expect_failure //:layers_120_groups_on_base30 "$OUT/120_base30.log" \
  'PyImageValidate' '152 layers \(30 base \+ 122 own\) exceed max_layers = 125' \
  "base image's 30 layers were counted in the OCI layout" 'layer_tier\('

step "independent readers count the same 30 layers (skopeo inspect)"
skopeo_layers() {
  skopeo inspect "$1" | "$PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)["Layers"]))'
}
if command -v skopeo >/dev/null; then
  for ref in oci:bazel-bin/base30 docker-archive:bazel-bin/base30_tar.tar; do
    n="$(skopeo_layers "$ref" 2>"$OUT/skopeo.err")"
    if [ "$n" = 30 ]; then pass "skopeo inspect $ref: 30 layers"; else
      fail "skopeo inspect $ref: '$n' layers, want 30: $(tail -n2 "$OUT/skopeo.err")"
    fi
  done
else
  fail "skopeo is not installed (tools/setup/60-oci-tools.sh installs it)"
fi

step "layer budget: 200 packages, budget 95, on a 30-layer base"
if "$BAZEL" build "${FLAGS[@]}" --output_groups=+report //:layers_budget >"$OUT/budget.log" 2>&1; then
  pass "//:layers_budget built (validation passed)"
  check "  validation counts 125 layers (30 base from the image + 95 own)" \
    grep -q "125 layers (30 base from the oci-layout + 95 own" bazel-bin/layers_budget_layers/validation.txt
else
  fail "//:layers_budget failed"
  tail -30 "$OUT/budget.log"
fi

# bump_changes_one_layer BEFORE AFTER PACKAGE: exactly one layer digest differs,
# an auto layer holding PACKAGE in AFTER; every other layer keeps its members.
bump_changes_one_layer() {
  "$PYTHON" - "$@" <<'PY'
import json, sys
before, after = (json.load(open(p))["layers"] for p in sys.argv[1:3])
package = sys.argv[3]
assert len(before) == len(after), (len(before), len(after))
changed = [(b, a) for b, a in zip(before, after) if b["digest"] != a["digest"]]
print("%d of %d layers changed: %s" % (len(changed), len(after), [a["group"] for _, a in changed]))
assert len(changed) == 1, "expected exactly one changed layer"
b, a = changed[0]
assert a["kind"] == "pip_auto" and package in a["packages"], a
assert all(x["packages"] == y["packages"] for x, y in zip(before, after)), "a package moved"
PY
}

step "layer budget: a one-package version bump changes exactly one auto layer (workspace copy)"
hook_use_workspace_copy
if "$BAZEL" build --output_groups=+report //:layers_budget >"$OUT/budget_before.log" 2>&1; then
  cp bazel-bin/layers_budget_layers/report.json "$OUT/report_before.json"
  cp "$OUT/report_before.json" previous_report.json
  echo 'exports_files(["previous_report.json"])' >>BUILD.bazel
  sed -i 's|versions = {},|versions = {"bud-pkg-123": "1.1"},|' MODULE.bazel
  check "  MODULE.bazel bumps bud-pkg-123 to 1.1" grep -q '"bud-pkg-123": "1.1"' MODULE.bazel
  if "$BAZEL" build --output_groups=+report,+diff --@rules_pyimage//py:previous_report=//:previous_report.json \
    //:layers_budget >"$OUT/budget_after.log" 2>&1; then
    check "  one layer digest changed: the auto layer holding bud-pkg-123" \
      bump_changes_one_layer "$OUT/report_before.json" bazel-bin/layers_budget_layers/report.json bud-pkg-123
    check "  pyimage diff: 1 of 95 layers changed" grep -q '1 of 95 layers changed' bazel-bin/layers_budget_layers/diff.txt
    head -3 bazel-bin/layers_budget_layers/diff.txt
  else
    fail "//:layers_budget failed after the bump"
    tail -30 "$OUT/budget_after.log"
  fi
else
  fail "//:layers_budget failed in the workspace copy"
  tail -30 "$OUT/budget_before.log"
fi

finish
