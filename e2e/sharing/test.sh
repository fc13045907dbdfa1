#!/usr/bin/env bash
# Host-side checks of e2e/sharing that need more than one Bazel invocation
# (run by tools/test-all.sh after `bazel test //...`, or by hand:
# `bash e2e/sharing/test.sh`). Proves from Bazel's execution log:
#   1. clean build of the three layer sets: each pip package's PyImageLayer
#      action ran exactly once (one owner per package, no duplicates across
#      binaries or configurations);
#   2. the package layers have identical digests in all three layer sets
#      (descriptors output group, via tests/shared_digests_test.py);
#   3. incremental: after editing only apps/app_a.py, the rebuild re-runs only
#      app_a's app-layer action (plus validation/report), no package action.
# Runs in a copy of the workspace (e2e/.work/sharing): the edit and the
# `bazel clean` never touch the checkout's files or this workspace's outputs.
# Ends with a `N passed, N failed` line (read by tools/test-all.sh).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/hook.sh
. "$HERE/../../tools/lib/hook.sh"
hook_init sharing
hook_use_workspace_copy
EXECLOG="$REPO/tools/bench_bazel/execlog.py"
# No disk cache here: every spawn in the clean build's log is a real
# execution (the layer tool itself comes from a repository rule and is not
# rebuilt by `bazel clean`). The local action cache stays on: that is what
# the incremental check relies on.
FLAGS=(--disk_cache=)
TARGETS=(//apps:app_a_layers //apps:app_b_layers //apps:app_c_layers
  //apps:app_a_descriptors //apps:app_b_descriptors //apps:app_c_descriptors)

step "clean build of three layer sets with an execution log"
"$BAZEL" clean
check "clean build of the three layer sets" \
  "$BAZEL" build "${FLAGS[@]}" --execution_log_json_file="$OUT/clean.json" "${TARGETS[@]}"
[ -s "$OUT/clean.json" ] || finish
"$PYTHON" "$EXECLOG" summary "$OUT/clean.json"

step "each package's PyImageLayer action ran once for all three binaries"
check "one PyImageLayer action per package (4 packages, 3 binaries)" \
  "$PYTHON" "$EXECLOG" check-once "$OUT/clean.json" --mnemonic PyImageLayer --external-only --expect-owners 4

step "package layer digests identical across the three layer sets"
args=("--packages=attrs,colorama,idna,six")
for app in app_a app_b app_c; do
  args+=("--set=$app")
  while IFS= read -r f; do args+=("$f"); done < <(
    "$BAZEL" cquery --output=files "${FLAGS[@]}" "//apps:${app}_layers + //apps:${app}_descriptors" 2>/dev/null
  )
done
# cquery prints paths relative to the execution root; bazel-out/ is reachable
# through the workspace's convenience symlink.
for i in "${!args[@]}"; do
  case "${args[$i]}" in bazel-out/*) args[i]="$PWD/${args[$i]}" ;; esac
done
check "package layer digests identical across the three layer sets" \
  "$PYTHON" "$HERE/tests/shared_digests_test.py" "${args[@]}"

step "incremental: edit only first-party app code, rebuild"
# Settle first: an up-to-date build right before the edit, so that the log
# below holds only what the edit caused.
check "up-to-date build before the edit" "$BAZEL" build "${FLAGS[@]}" "${TARGETS[@]}"
sed -i 's/who="app_a"/who="app_a (edited by e2e\/sharing\/test.sh)"/' apps/app_a.py
check "the edit changed apps/app_a.py (in the copy)" bash -c '! cmp -s "$1" "$2"' _ apps/app_a.py "$HERE/apps/app_a.py"
check "incremental build after the edit" \
  "$BAZEL" build "${FLAGS[@]}" --execution_log_json_file="$OUT/incremental.json" "${TARGETS[@]}"
"$PYTHON" "$EXECLOG" summary "$OUT/incremental.json"
# Allowed: the app layer of app_a (declared in //apps, under app_a_layers*;
# mnemonic PyImageApp, PyImageLayer accepted too), app_a's validation and
# report actions. Required: exactly one app-layer action. Nothing of app_b or
# app_c, no package action, no merge.
check "only app_a's app layer (+ validation/report) re-ran" \
  "$PYTHON" "$EXECLOG" check-only "$OUT/incremental.json" \
  --allow 'PyImage(App|Layer):^apps/app_a_' \
  --allow 'PyImage(Validate|Report|Plan|Descriptor)[A-Za-z]*:^apps/app_a_' \
  --exactly 'PyImage(App|Layer):^apps/app_a_=1' \
  --exactly 'PyImage(App|Layer|Merge):^external/=0' \
  --exactly 'PyImageMerge=0'
if git -C "$REPO" rev-parse >/dev/null 2>&1; then
  check "the checkout's apps/app_a.py untouched" git -C "$REPO" diff --quiet -- "$HERE/apps/app_a.py"
fi
finish
