"""Checks the warn-only layer set of e2e/limits: one layer per package.

Arguments: `--expect-packages=N --min-layers=M DESCRIPTOR...`.
"""

import json
import sys


def main(argv):
    expect, minimum, files = 0, 0, []
    for a in argv:
        if a.startswith("--expect-packages="):
            expect = int(a.split("=", 1)[1])
        elif a.startswith("--min-layers="):
            minimum = int(a.split("=", 1)[1])
        else:
            files.append(a)
    layers, seen, failures = 0, {}, []
    for path in files:
        with open(path, encoding="utf-8") as f:
            desc = json.load(f)
        layers += 1
        names = sorted({p["name"] for p in desc.get("packages", [])})
        if len(names) > 1:
            failures.append("%s holds %d packages, expected one per layer: %s" % (path, len(names), names))
        for n in names:
            if n in seen:
                failures.append("package %s in two layers: %s, %s" % (n, seen[n], path))
            seen[n] = path
    print("%d layers, %d packages" % (layers, len(seen)))
    if layers < minimum:
        failures.append("expected at least %d layers, got %d" % (minimum, layers))
    if len(seen) != expect:
        failures.append("expected %d packages, got %d" % (expect, len(seen)))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
