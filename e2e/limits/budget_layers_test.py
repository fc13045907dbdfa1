"""Checks the layers of e2e/limits' budget target against their listings.

Arguments: `--expect-packages=N --budget=B --expect-auto=K AUTO_LAYERS.json LAYER...`:
every generated package's files are in exactly one layer, the image has B layers of its
own, K of them auto layers, and each auto layer holds exactly the packages the assignment
JSON names for it.
"""

import json
import os
import re
import sys
import tarfile

_PKG = re.compile(r"/site-packages/(bud_pkg_\d+)[/-]")


def packages_of(path):
    """The generated packages whose files a layer tar holds."""
    found = set()
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            m = _PKG.search("/" + member.name)
            if m:
                found.add(m.group(1).replace("_", "-"))
    return found


def main(argv):
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--"))
    files = [a for a in argv if not a.startswith("--")]
    assignment = [f for f in files if f.endswith(".json")]
    layers = [f for f in files if not f.endswith(".json")]
    failures = []
    if len(assignment) != 1:
        failures.append("expected one assignment JSON, got %s" % assignment)
        assignment = []
    seen = {}
    for path in layers:
        for name in packages_of(path):
            seen.setdefault(name, []).append(os.path.basename(path))
    twice = {n: ls for n, ls in seen.items() if len(ls) > 1}
    if twice:
        failures.append("packages in more than one layer: %s" % sorted(twice.items())[:5])
    if len(seen) != int(opts["expect-packages"]):
        failures.append("%d packages in the layers, expected %s" % (len(seen), opts["expect-packages"]))
    if len(layers) != int(opts["budget"]):
        failures.append("%d layers, expected the budget %s" % (len(layers), opts["budget"]))
    auto = {}
    for path in layers:
        m = re.search(r"_(auto-\d+)\.tar", os.path.basename(path))
        if m:
            auto[m.group(1)] = path
    if len(auto) != int(opts["expect-auto"]):
        failures.append("%d auto layers, expected %s" % (len(auto), opts["expect-auto"]))
    empty = 0
    for entry in json.load(open(assignment[0], encoding="utf-8"))["layers"] if assignment else []:
        named = {p["name"] for p in entry["packages"]}
        listed = packages_of(auto[entry["name"]]) if entry["name"] in auto else None
        empty += not named
        if listed != named:
            failures.append("%s: the assignment names %s, the layer holds %s" % (entry["name"], sorted(named), listed and sorted(listed)))
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("ok: %d packages, each in one of %d layers (%d auto layers, %d of them empty)" % (len(seen), len(layers), len(auto), empty))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
