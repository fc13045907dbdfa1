"""Compares `pyimage list` listings of the smoke layers with e2e/smoke/snapshots/.

Arguments: --snapshots DIR_MARKER LISTING... ; each LISTING `<layer>.txt` must equal
`snapshots/<layer>.txt`, and every snapshot must have a listing.
Regenerate with `e2e/smoke/tests/update-snapshots.sh` and review the diff.
"""

import difflib
import os
import sys


def main(argv):
    marker = argv[argv.index("--snapshots") + 1]
    listings = [a for a in argv if a.endswith(".txt")]
    snapdir = os.path.dirname(marker)
    failures = []
    want = sorted(f for f in os.listdir(snapdir) if f.endswith(".txt"))
    got = sorted(os.path.basename(p) for p in listings)
    if want != got:
        failures.append("layer set changed: snapshots %s, layers %s" % (want, got))
    for p in listings:
        snap = os.path.join(snapdir, os.path.basename(p))
        with open(p) as f:
            actual = f.read().splitlines(True)
        expected = []
        if os.path.exists(snap):
            with open(snap) as f:
                expected = f.read().splitlines(True)
        if actual != expected:
            diff = "".join(difflib.unified_diff(expected, actual, "snapshots/" + os.path.basename(p), "actual", n=1))
            failures.append(diff[:20000])
        else:
            print("ok   %s (%d entries)" % (os.path.basename(p), len(actual)))
    if failures:
        print("\n".join(failures))
        print("FAIL: layer listings differ from e2e/smoke/snapshots/. If the change is intended, run\n"
              "  e2e/smoke/tests/update-snapshots.sh\nand commit the new snapshots.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
