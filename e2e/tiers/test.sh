#!/usr/bin/env bash
# Host-side checks of e2e/tiers (run by tools/test-all.sh after `bazel test //...`,
# or by hand: `bash e2e/tiers/test.sh`). Builds //app:layers under the two tiers of
# the flag and //app:layers_pinned, and checks:
#   1. the coarse and fine plans are exactly the configured ones;
#   2. the pinned target's plan and layer digests equal //app:layers' under --config=fine;
#   3. the pinned target's plan does not depend on the flag;
#   4. action graph: a pin equal to the flag builds no package fragment of its own; a pin that
#      only regroups cuts only certifi again (its split differs); a pin with other byte
#      settings builds one fragment per package;
#   5. execution log of a clean build of both targets: every fragment is built once;
#   6. a second binary with the same packages in another dependency order gets
#      byte-identical group layers;
#   7. execution log: editing app code re-runs only PyImageApp (+ validation); editing the
#      first-party library only its PyImageFirstParty layer (+ validation).
# Runs in a copy of the workspace (e2e/.work/tiers): the edits and the `bazel clean`
# never touch the checkout's files or this workspace's outputs.
# Ends with a `N passed, N failed` line (read by tools/test-all.sh).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/hook.sh
. "$HERE/../../tools/lib/hook.sh"
hook_init tiers
hook_use_workspace_copy
EXECLOG="$REPO/tools/bench_bazel/execlog.py"

# build NAME TARGET FLAGS...: builds TARGET, copies its plan and a digest list
# (kind group packages digest, one line per layer) to $OUT/NAME.*
build() {
  local name="$1" target="$2" pkg
  shift 2
  if ! "$BAZEL" build "$@" "$target" --output_groups=+plan,+descriptors >"$OUT/$name.log" 2>&1; then
    tail -30 "$OUT/$name.log"
    return 1
  fi
  pkg="${target#//}"
  pkg="${pkg%%:*}"
  cp "bazel-bin/$pkg/${target##*:}_layers/plan.json" "$OUT/$name.plan.json"
  "$PYTHON" - "$OUT/$name.plan.json" "$("$BAZEL" cquery "$@" "$target" --output=files --output_groups=descriptors 2>/dev/null | tr '\n' ' ')" >"$OUT/$name.layers" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
descs = sys.argv[2].split()
for layer, d in zip(plan["layers"], descs):
    dd = json.load(open(d))
    print(layer["kind"], layer["group"], ",".join(sorted(set(layer["packages"]))), dd["digest"])
PY
}

plan_of() { cut -d' ' -f1-3 "$1"; }

# same NAME GOT WANT: the files GOT and WANT are equal; otherwise prints the diff.
same() {
  if diff "$2" "$3" >"$OUT/$1.diff"; then return 0; fi
  cat "$OUT/$1.diff"
  return 1
}

step "plans under the two flag tiers and the pin"
build coarse //app:layers --config=coarse || fail "build //app:layers --config=coarse"
build fine //app:layers --config=fine || fail "build //app:layers --config=fine"
build pinned_fine //app:layers_pinned --config=fine || fail "build //app:layers_pinned --config=fine"
cat >"$OUT/want_coarse" <<'W'
pip_group web certifi,charset-normalizer,idna,requests,urllib3
pip_squashed pip colorama,packaging,six,tabulate
app app 
W
cat >"$OUT/want_fine" <<'W'
pip_group http requests,urllib3
pip_group text charset-normalizer,idna,tabulate
pip_group certs certifi
pip_group compat colorama,six
pip_squashed pip certifi,packaging
first_party libs //libs/...
app app 
W
check "coarse plan as configured" same coarse <(plan_of "$OUT/coarse.layers") "$OUT/want_coarse"
check "fine plan as configured" same fine <(plan_of "$OUT/fine.layers") "$OUT/want_fine"
check "pinned //tiers:fine == flag //tiers:fine (plans and digests)" same pinned "$OUT/fine.layers" "$OUT/pinned_fine.layers"
# The app layer and the squashed layer differ between coarse and fine, the requests family moves.
check "coarse and fine plans differ" bash -c '! cmp -s "$1" "$2"' _ "$OUT/coarse.layers" "$OUT/fine.layers"

step "the pin does not depend on the flag"
build pinned_coarse //app:layers_pinned --config=coarse || fail "pinned under coarse"
check "pinned plan does not depend on the flag" same pinned_coarse <(plan_of "$OUT/pinned_coarse.layers") "$OUT/want_fine"

step "package fragments a pinned target builds itself (action graph)"
# Only those whose bytes differ from the flag tier's fragments.
owned() { # CONFIG TARGET -> number of PyImageLayer actions owned by TARGET
  "$BAZEL" aquery "--config=$1" "mnemonic(\"PyImageLayer\", $2)" 2>/dev/null | grep -c "^action 'PyImageLayer"
}
n="$(owned fine //app:layers_pinned)"
if [ "$n" = 0 ]; then pass "pin == flag tier: 0 package actions of its own"; else fail "pin == flag tier: $n package actions of its own (want 0)"; fi
n="$(owned coarse //app:layers_pinned)"
if [ "$n" = 2 ]; then pass "pin regroups coarse: only certifi's split cut again (2 actions)"; else fail "pin vs coarse: $n own package actions (want 2: certifi split + rest)"; fi
n="$(owned coarse //app:layers_zstd)"
if [ "$n" = 9 ]; then pass "pin with other byte settings (zstd, /srv): 9 package actions, one per package"; else fail "zstd pin: $n own package actions (want 9)"; fi

step "execution log: a clean build of both targets runs each fragment once"
"$BAZEL" clean >/dev/null 2>&1
if "$BAZEL" build --config=fine //app:layers //app:layers_pinned --execution_log_json_file="$OUT/exec.json" >"$OUT/x.log" 2>&1; then
  # 9 packages, certifi split in two by the fine tier: 10 fragments, each built once.
  check "execution log: 10 PyImageLayer actions for 2 targets (each fragment once)" \
    "$PYTHON" "$EXECLOG" check-once "$OUT/exec.json" --mnemonic PyImageLayer --per output --expect-owners 10
else
  tail -20 "$OUT/x.log"
  fail "clean build of both targets"
fi

step "two binaries, other dependency order: identical group layers"
# //app:app2 reaches the same packages through another graph shape; every layer
# but the app layer must be byte-identical.
build pinned2 //app:layers2_pinned --config=fine || fail "build //app:layers2_pinned"
check "two binaries, other dependency order: identical group layers ($(grep -vc '^app ' "$OUT/pinned2.layers") digests)" \
  same pinned2 <(grep -v '^app ' "$OUT/pinned_fine.layers") <(grep -v '^app ' "$OUT/pinned2.layers")

step "incremental: editing first-party code re-runs only the layer holding it (+ validation)"
# incremental NAME FILE MNEMONIC...: after an edit of FILE, exactly one spawn of
# each MNEMONIC and no other PyImage* spawn ran.
incremental() {
  local name="$1" file="$2" m rules=()
  shift 2
  for m in "$@"; do rules+=(--allow "$m" --exactly "$m=1"); done
  printf '\n# edited by e2e/tiers/test.sh\n' >>"$file"
  if "$BAZEL" build --config=fine //app:layers --execution_log_json_file="$OUT/inc_$name.json" >"$OUT/inc_$name.log" 2>&1; then
    check "edit $file: only [$*] ran" "$PYTHON" "$EXECLOG" check-only "$OUT/inc_$name.json" --only 'PyImage.*' "${rules[@]}"
  else
    tail -20 "$OUT/inc_$name.log"
    fail "incremental build after editing $file"
  fi
}
"$BAZEL" build --config=fine //app:layers >/dev/null 2>&1
incremental app app/main.py PyImageApp PyImageValidate
incremental lib libs/greet/greet.py PyImageFirstParty PyImageValidate

finish
