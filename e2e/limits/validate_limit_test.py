"""Runs `pyimage validate` on the plans of e2e/limits, inside `bazel test`.

The failing targets cannot be dependencies of a test (their validation action
would fail the test's build), so this test takes the *warn-only* and the
120-group layer sets (plan + descriptors, which build) and runs the very
validation the rules run, with the flags of the failing variants:

  1. warn-only plan without --limit-as-warning  -> exit 1, ERROR naming 125,
     a paste-ready `layer_tier(groups = {...})` snippet;
  2. warn-only plan with --limit-as-warning     -> exit 0, WARNING;
  3. 120-group plan                              -> exit 0;
  4. 120-group plan with --base-layers 10        -> exit 1, ERROR naming 125;
  5. 120-group plan on the 30-layer base image (OCI layout, then docker archive) -> exit 1,
     ERROR naming 125 and the 30 layers counted in the image.

Arguments: TOOL --set=warn PLAN DESCRIPTOR... --set=g120 PLAN DESCRIPTOR...
           --base30=LAYOUT_DIR --base30-tar=DOCKER_TAR
"""

import re
import subprocess
import sys


def parse(argv):
    tool, sets, cur = argv[0], {"base": {}}, None
    for a in argv[1:]:
        if a.startswith("--base30"):
            key, value = a.split("=", 1)
            sets["base"][key] = value
        elif a.startswith("--set="):
            cur = a.split("=", 1)[1]
            sets[cur] = {"plan": None, "descriptors": []}
        elif a.endswith("plan.json") and sets[cur]["plan"] is None:
            sets[cur]["plan"] = a
        else:
            sets[cur]["descriptors"].append(a)
    return tool, sets


def validate(tool, s, *flags):
    cmd = [tool, "validate", "--plan", s["plan"], *flags, *s["descriptors"]]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main(argv):
    tool, sets = parse(argv)
    failures = []

    def expect(name, rc, out, want_rc, patterns):
        ok = rc == want_rc
        missing = [p for p in patterns if not re.search(p, out)]
        status = "ok  " if ok and not missing else "FAIL"
        print("%s %s: exit %d (want %d)%s" % (status, name, rc, want_rc,
                                              ", missing /" + "/, /".join(missing) + "/" if missing else ""))
        if status == "FAIL":
            failures.append(name)
            print(out[-3000:])

    rc, out = validate(tool, sets["warn"])
    expect("130 groups, strict", rc, out, 1, [r"ERROR", r"max_layers = 125", r"layer_tier\(", r"groups = \{"])
    print("\n".join(out.splitlines()[:4]))
    rc, out = validate(tool, sets["warn"], "--limit-as-warning")
    expect("130 groups, --limit-as-warning", rc, out, 0, [r"WARNING", r"125"])
    rc, out = validate(tool, sets["g120"])
    expect("120 groups", rc, out, 0, [])
    rc, out = validate(tool, sets["g120"], "--base-layers", "10")
    expect("120 groups on 10 base layers", rc, out, 1, [r"ERROR", r"125", r"10 base"])
    for key, form in [("--base30", "OCI layout"), ("--base30-tar", "docker archive")]:
        rc, out = validate(tool, sets["g120"], "--base", sets["base"][key])
        expect("120 groups on the 30-layer base (%s)" % form, rc, out, 1,
               [r"ERROR", r"152 layers \(30 base \+ 122 own\) exceed max_layers = 125",
                r"30 layers were counted in the " + form, r"layer_tier\("])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
