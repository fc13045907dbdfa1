"""Checks that the three binaries of e2e/sharing ship byte-identical package layers.

Arguments: `--packages=a,b,...` then, per layer set, `--set=NAME` followed by
that set's layer blobs and descriptor JSON files (any order; a file whose name
ends in `.json` is a descriptor, anything else a blob).

Asserted, for every layer set:
  * every descriptor's digest is the sha256 of one of the set's blobs;
  * each listed package sits in exactly one layer, and that layer holds only it
    (the tier has one group per package);
and across sets: each package's layer has the same digest, diff_id and size
in every set and is the very same file (the tar declared once at the package,
so one action built it), while the app layers (different first-party code)
differ.
"""

import hashlib
import json
import sys


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def parse_args(argv):
    packages, sets, current = [], {}, None
    for arg in argv:
        if arg == "--squashed":
            continue
        if arg.startswith("--packages="):
            packages = [p for p in arg.split("=", 1)[1].split(",") if p]
        elif arg.startswith("--set="):
            current = arg.split("=", 1)[1]
            sets[current] = {"blobs": [], "descriptors": []}
        elif current is None:
            raise SystemExit("file argument before --set: " + arg)
        elif arg.endswith(".json"):
            sets[current]["descriptors"].append(arg)
        else:
            sets[current]["blobs"].append(arg)
    return packages, sets


def pkg_names(desc):
    return sorted({p["name"] for p in desc.get("packages", [])})


def main_squashed(packages, sets):
    """All packages in one layer per set; that layer identical across sets."""
    failures, found = [], {}
    for name, files in sorted(sets.items()):
        blob_digests = {sha256(b) for b in files["blobs"]}
        for path in files["descriptors"]:
            with open(path, encoding="utf-8") as f:
                desc = json.load(f)
            if desc["digest"] not in blob_digests:
                failures.append("%s: descriptor %s names a digest no blob has" % (name, path))
            names = pkg_names(desc)
            if names and names != sorted(packages):
                failures.append("%s: layer %s holds %s, expected all of %s squashed" % (name, path, names, packages))
            elif names:
                found[name] = (desc["digest"], desc.get("diff_id"), desc.get("size"))
                print("  %-8s squashed %s size=%s" % (name, desc["digest"], desc.get("size")))
    if len(found) != len(sets):
        failures.append("squashed layer missing in: %s" % sorted(set(sets) - set(found)))
    if len(set(found.values())) > 1:
        failures.append("squashed layers differ across sets: %s" % found)
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("PASS: one squashed layer of %d packages, identical across %d sets" % (len(packages), len(sets)))
    return 1 if failures else 0


def main(argv):
    packages, sets = parse_args(argv)
    if "--squashed" in argv:
        return main_squashed(packages, sets)
    failures = []
    by_package = {p: {} for p in packages}  # package -> set -> (digest, diff_id, size, path)
    app_layers = {}
    for name, files in sorted(sets.items()):
        if not files["descriptors"]:
            failures.append("%s: no descriptors (output group missing?)" % name)
            continue
        blob_digests = {sha256(b): b for b in files["blobs"]}
        seen = {}
        for path in files["descriptors"]:
            with open(path, encoding="utf-8") as f:
                desc = json.load(f)
            digest = desc["digest"]
            if digest not in blob_digests:
                failures.append("%s: descriptor %s names %s, which no blob of the set has" % (name, path, digest))
            names = pkg_names(desc)
            for p in names:
                if p in seen:
                    failures.append("%s: package %s in two layers: %s and %s" % (name, p, seen[p], path))
                seen[p] = path
            if not names:
                app_layers.setdefault(name, []).append(digest)
            for p in packages:
                if p in names:
                    if names != [p]:
                        failures.append("%s: package %s shares its layer with %s (tier has one group per package)" % (name, p, names))
                    by_package[p][name] = (digest, desc.get("diff_id"), desc.get("size"), blob_digests.get(digest, "?"))
        for p in packages:
            if p not in seen:
                failures.append("%s: package %s in no layer" % (name, p))
        print("%s: %d layers, %d blobs" % (name, len(files["descriptors"]), len(files["blobs"])))

    for p in packages:
        rows = by_package[p]
        for name, (digest, diff_id, size, blob) in sorted(rows.items()):
            print("  %-10s %-8s %s size=%s %s" % (p, name, digest, size, blob))
        values = {(d, i, s) for (d, i, s, _) in rows.values()}
        if len(rows) == len(sets) and len(values) != 1:
            failures.append("package %s: layers differ across sets: %s" % (p, sorted(values)))
        blobs = {b for (_, _, _, b) in rows.values()}
        if len(blobs) == 1:
            print("  %-10s one shared artifact: %s" % (p, next(iter(blobs))))
        else:
            # A one-package group's layer is the package's own tar, declared
            # once at the package: the same file (hence the same action) in
            # every set.
            failures.append("package %s: %d different layer files across sets (expected one shared artifact): %s" % (
                p, len(blobs), sorted(blobs)))

    apps = [tuple(sorted(v)) for v in app_layers.values()]
    if len(apps) == len(sets) and len(set(apps)) != len(apps):
        failures.append("app layers identical across sets (expected different first-party code): %s" % app_layers)

    if failures:
        print("FAIL")
        for f in failures:
            print("  " + f)
        return 1
    print("PASS: %d packages share one digest across %d layer sets" % (len(packages), len(sets)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
