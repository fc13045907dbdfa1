#!/usr/bin/env bash
# e2e/tiers hook (run by tools/test-all.sh after `bazel test //...`, or by hand:
# `cd e2e/tiers && bash test.sh`). Builds //app:layers under the two tiers of the flag
# and //app:layers_pinned, and checks:
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
# Prints `N passed, N failed` last.
set -uo pipefail
cd "$(dirname "$0")" || exit 1
BAZEL="${BAZEL:-../../tools/bazel}"
# Inside the workspace: Bazel may run in the harness root, where only the checkout is mounted.
T="$(mktemp -d "$PWD/.test-out.XXXXXX")"
cp app/main.py "$T/main.py.orig"
cp libs/greet/greet.py "$T/greet.py.orig"
restore() {
  cp "$T/main.py.orig" app/main.py
  cp "$T/greet.py.orig" libs/greet/greet.py
  rm -rf "$T"
}
trap restore EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }

# Build TARGET with FLAGS, copy its plan and a digest list (kind group digest) to $T/NAME.*
build() {
  local name="$1" target="$2"
  shift 2
  if ! "$BAZEL" build "$@" "$target" --output_groups=+plan,+descriptors >"$T/$name.log" 2>&1; then
    tail -30 "$T/$name.log"
    return 1
  fi
  local pkg="${target#//}"
  pkg="${pkg%%:*}"
  local dir="bazel-bin/$pkg/${target##*:}_layers"
  cp "$dir/plan.json" "$T/$name.plan.json"
  python3 - "$T/$name.plan.json" "$("$BAZEL" cquery "$@" "$target" --output=files --output_groups=descriptors 2>/dev/null | tr '\n' ' ')" >"$T/$name.layers" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
descs = sys.argv[2].split()
for layer, d in zip(plan["layers"], descs):
    dd = json.load(open(d))
    print(layer["kind"], layer["group"], ",".join(sorted(set(layer["packages"]))), dd["digest"])
PY
}

plan_of() { cut -d' ' -f1-3 "$1"; }

build coarse //app:layers --config=coarse || ko "build //app:layers --config=coarse"
build fine //app:layers --config=fine || ko "build //app:layers --config=fine"
build pinned_fine //app:layers_pinned --config=fine || ko "build //app:layers_pinned --config=fine"

cat >"$T/want_coarse" <<'W'
pip_group web certifi,charset-normalizer,idna,requests,urllib3
pip_squashed pip colorama,packaging,six,tabulate
app app 
W
cat >"$T/want_fine" <<'W'
pip_group http requests,urllib3
pip_group text charset-normalizer,idna,tabulate
pip_group certs certifi
pip_group compat colorama,six
pip_squashed pip certifi,packaging
first_party libs //libs/...
app app 
W
if diff <(plan_of "$T/coarse.layers") "$T/want_coarse" >"$T/d1"; then ok "coarse plan as configured"; else cat "$T/d1"; ko "coarse plan"; fi
if diff <(plan_of "$T/fine.layers") "$T/want_fine" >"$T/d2"; then ok "fine plan as configured"; else cat "$T/d2"; ko "fine plan"; fi
if diff "$T/fine.layers" "$T/pinned_fine.layers" >"$T/d3"; then
  ok "pinned //tiers:fine == flag //tiers:fine (plans and digests)"
else
  cat "$T/d3"
  ko "pinned vs flag fine differ"
fi
# The app layer and the squashed layer differ between coarse and fine, the requests family moves.
if ! diff -q "$T/coarse.layers" "$T/fine.layers" >/dev/null; then ok "coarse and fine plans differ"; else ko "coarse == fine"; fi

# Pin independent of the flag.
build pinned_coarse //app:layers_pinned --config=coarse || ko "pinned under coarse"
if diff <(plan_of "$T/pinned_coarse.layers") "$T/want_fine" >"$T/d4"; then ok "pinned plan does not depend on the flag"; else cat "$T/d4"; ko "pinned plan under coarse"; fi

# Package fragments a pinned target builds itself (from the action graph): only those whose
# bytes differ from the flag tier's fragments.
owned() { # CONFIG TARGET -> number of PyImageLayer actions owned by TARGET
  "$BAZEL" aquery "--config=$1" "mnemonic(\"PyImageLayer\", $2)" 2>/dev/null | grep -c "^action 'PyImageLayer"
}
n="$(owned fine //app:layers_pinned)"
if [ "$n" = 0 ]; then ok "pin == flag tier: 0 package actions of its own"; else ko "pin == flag tier: $n package actions of its own (want 0)"; fi
n="$(owned coarse //app:layers_pinned)"
if [ "$n" = 2 ]; then ok "pin regroups coarse: only certifi's split cut again (2 actions)"; else ko "pin vs coarse: $n own package actions (want 2: certifi split + rest)"; fi
n="$(owned coarse //app:layers_zstd)"
if [ "$n" = 9 ]; then ok "pin with other byte settings (zstd, /srv): 9 package actions, one per package"; else ko "zstd pin: $n own package actions (want 9)"; fi

# Execution log: building both targets from scratch runs each package fragment once.
"$BAZEL" clean >/dev/null 2>&1
if "$BAZEL" build --config=fine //app:layers //app:layers_pinned --execution_log_json_file="$T/exec.json" >"$T/x.log" 2>&1; then
  python3 - "$T/exec.json" >"$T/exec.txt" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
i = 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    if obj.get("mnemonic") == "PyImageLayer":
        print(" ".join(o["path"] for o in obj.get("actualOutputs", []) if not o["path"].endswith(".json")))
PY
  total="$(wc -l <"$T/exec.txt")"
  uniq="$(sort -u "$T/exec.txt" | wc -l)"
  # 9 packages, certifi split in two by the fine tier: 10 fragments, each built once.
  if [ "$total" = 10 ] && [ "$uniq" = 10 ]; then
    ok "execution log: 10 PyImageLayer actions for 2 targets (each fragment once)"
  else
    sed 's/^/  /' "$T/exec.txt"
    ko "execution log: $total PyImageLayer actions ($uniq distinct), want 10"
  fi
else
  tail -20 "$T/x.log"
  ko "clean build of both targets"
fi

# Sharing across binaries: //app:app2 reaches the same packages through another graph
# shape; every layer but the app layer must be byte-identical.
build pinned2 //app:layers2_pinned --config=fine || ko "build //app:layers2_pinned"
if diff <(grep -v '^app ' "$T/pinned_fine.layers") <(grep -v '^app ' "$T/pinned2.layers") >"$T/d5"; then
  ok "two binaries, other dependency order: identical group layers ($(grep -vc '^app ' "$T/pinned2.layers") digests)"
else
  cat "$T/d5"
  ko "group layers of two binaries with the same packages differ"
fi

# Incremental: editing first-party code re-runs only the layer holding it (+ validation).
executed() { # LOG -> "mnemonic" per executed PyImage* spawn, sorted
  python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
i, out = 0, []
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    m = obj.get("mnemonic", "")
    if m.startswith("PyImage"):
        out.append(m)
print(" ".join(sorted(out)))
PY
}
incremental() { # NAME FILE WANT
  printf '\n# edited by e2e/tiers/test.sh\n' >>"$2"
  if "$BAZEL" build --config=fine //app:layers --execution_log_json_file="$T/inc_$1.json" >"$T/inc_$1.log" 2>&1; then
    got="$(executed "$T/inc_$1.json")"
    if [ "$got" = "$3" ]; then ok "edit $2: only [$got] ran"; else ko "edit $2: ran [$got], want [$3]"; fi
  else
    tail -20 "$T/inc_$1.log"
    ko "incremental build after editing $2"
  fi
}
"$BAZEL" build --config=fine //app:layers >/dev/null 2>&1
incremental app app/main.py "PyImageApp PyImageValidate"
incremental lib libs/greet/greet.py "PyImageFirstParty PyImageValidate"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
