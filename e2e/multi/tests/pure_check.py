"""Checks that the server's pure-Python packages are shared by its linux/amd64 and
linux/arm64 images (run by test.sh).

Usage: pure_check.py AQUERY.json EXEC_ROOT --amd64 LAYER... --arm64 LAYER...   (image order)

AQUERY.json: `bazel aquery --output=jsonproto` of the PyImageLayer actions of both
servers' layers. The pip hub (pypi/wheels.bzl) takes a pure wheel from one repository
for both machines and a native one from a repository per machine, so:

- every pure package's fragment is built in both configurations with the same bytes
  (same sha256), and each native package's fragment in one configuration only;
- the layers of pure packages only (`six`, the squashed `pip` layer) and the first-party
  `common` layer have the same digest in both images; the `web` layer (native
  charset-normalizer) and the interpreter layer differ.
"""

import collections
import hashlib
import json
import os
import sys

NATIVE_SUFFIXES = ("_x86_64", "_aarch64")
SAME = ["six", "pip", "common"]
DIFFERENT = ["interpreter", "web"]


def fragment_paths(aquery):
    with open(aquery) as f:
        d = json.load(f)
    artifacts = {a["id"]: a["pathFragmentId"] for a in d.get("artifacts", [])}
    fragments = {f["id"]: f for f in d.get("pathFragments", [])}

    def path_of(fid):
        parts = []
        while fid:
            frag = fragments[fid]
            parts.append(frag["label"])
            fid = frag.get("parentId")
        return "/".join(reversed(parts))

    out = set()
    for action in d.get("actions", []):
        for o in action["outputIds"]:
            p = path_of(artifacts[o])
            if not p.endswith(".json") and not p.endswith(".manifest"):
                out.add(p)
    return sorted(out)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def group_of(layer):
    """The tier group of a layer file: `3_pip.tar.gz` -> pip; a fragment used as a layer -> its package."""
    name = os.path.basename(layer).split(".tar")[0]
    head, _, rest = name.partition("_")
    return rest if head.isdigit() else name.split("-")[0]


def check_fragments(paths, exec_root, failures):
    by_package = collections.defaultdict(dict)  # (repo, file) -> {config: sha256}
    for p in paths:
        parts = p.split("/")
        config, repo = parts[1], parts[parts.index("external") + 1]
        by_package[(repo, parts[-1])][config] = sha256(os.path.join(exec_root, p))
    for (repo, name), configs in sorted(by_package.items()):
        native = repo.endswith(NATIVE_SUFFIXES)
        digests = set(configs.values())
        print("%-48s %-36s %d configuration(s), %s" % (repo, name, len(configs), " ".join(d[:12] for d in sorted(digests))))
        if native and len(configs) != 1:
            failures.append("%s: a native package's fragment in %d configurations, want 1" % (repo, len(configs)))
        if not native and (len(configs) != 2 or len(digests) != 1):
            failures.append("%s/%s: want one digest in the two configurations, got %s" % (repo, name, configs))
    if not any(r.endswith(NATIVE_SUFFIXES) for r, _ in by_package):
        failures.append("no native package fragment: the check cannot tell")


def check_layers(amd64, arm64, failures):
    if [group_of(l) for l in amd64] != [group_of(l) for l in arm64]:
        failures.append("layer groups differ: %s vs %s" % ([group_of(l) for l in amd64], [group_of(l) for l in arm64]))
        return
    for a, b in zip(amd64, arm64):
        group = group_of(a)
        da, db = [json.load(open(p + ".json"))["digest"] for p in (a, b)]
        print("layer %-8s amd64 %s arm64 %s %s" % (group, da[7:19], db[7:19], "same" if da == db else "different"))
        if group in SAME and da != db:
            failures.append("the %s layer differs between the two images" % group)
        if group in DIFFERENT and da == db:
            failures.append("the %s layer is the same in both images: the arm64 image has amd64 files?" % group)
    missing = [g for g in SAME + DIFFERENT if g not in [group_of(l) for l in amd64]]
    if missing:
        failures.append("no layer of group(s) %s" % missing)


def main(argv):
    aquery, exec_root = argv[0], argv[1]
    amd64 = argv[argv.index("--amd64") + 1 : argv.index("--arm64")]
    arm64 = argv[argv.index("--arm64") + 1 :]
    failures = []
    check_fragments(fragment_paths(aquery), exec_root, failures)
    check_layers(amd64, arm64, failures)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
