"""Checks one py_image_layer target: its plan against an expected plan, and the layer
invariants (every runfile in exactly one layer, no duplicates, no .pyc).

usage: check_layers.py EXPECTED.json PLAN.json RUNFILES.paths LAYER...
"""

import io
import json
import subprocess
import sys
import tarfile


def open_layer(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x28\xb5\x2f\xfd":  # zstd frame
        try:
            from compression import zstd  # Python >= 3.14

            data = zstd.decompress(data)
        except ImportError:
            data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")


def main(argv):
    expected_path, plan_path, runfiles_path, *layers = argv
    with open(expected_path) as f:
        expected = json.load(f)
    with open(plan_path) as f:
        plan = json.load(f)
    errors = []

    got = [
        {"kind": l["kind"], "group": l["group"], "packages": sorted(set(l["packages"]))}
        for l in plan["layers"]
    ]
    want = [dict(l, packages=sorted(l["packages"])) for l in expected["layers"]]
    if got != want:
        errors.append("plan differs:\n  want %s\n  got  %s" % (json.dumps(want), json.dumps(got)))
    if len(layers) != len(want):
        errors.append("%d layer files for %d planned layers" % (len(layers), len(want)))

    root = expected["root"]
    seen = {}
    for layer in layers:
        with open_layer(layer) as tar:
            for m in tar.getmembers():
                if m.isdir():
                    continue
                path = "/" + m.name
                if path in seen:
                    errors.append("%s is in two layers: %s and %s" % (path, seen[path], layer))
                seen[path] = layer
                if path.endswith(".pyc") or "/__pycache__/" in path:
                    errors.append("%s: .pyc shipped" % path)
                if (m.uid, m.gid) != (0, 0):
                    errors.append("%s: owner %d:%d, want 0:0" % (path, m.uid, m.gid))
                if m.issym() and path == root + "/" + expected["binary"] + ".runfiles":
                    if m.linkname != ".runfiles":
                        errors.append("%s -> %s, want .runfiles" % (path, m.linkname))
    with open(runfiles_path) as f:
        want_paths = {line.strip() for line in f if line.strip()}
    missing = sorted(want_paths - set(seen))
    extra = sorted(set(seen) - want_paths)
    if missing:
        errors.append("runfiles missing from the layers: %s" % missing[:20])
    if extra:
        errors.append("paths in layers that are not runfiles: %s" % extra[:20])
    for p in [root + "/" + expected["binary"], root + "/" + expected["binary"] + ".runfiles", root + "/.runfiles/_repo_mapping"]:
        if p not in seen:
            errors.append("%s missing" % p)
    for e in errors:
        print("FAIL:", e)
    print("%s: %d layers, %d paths, %s" % (plan["target"], len(layers), len(seen), "FAILED" if errors else "OK"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
