"""Checks the layers of e2e/multi (run by `bazel test //tests:multi_layers_test`).

Arguments: `--repo-mappings FILE...` (Bazel's `_repo_mapping` of server, worker,
migrate), then per layer set `--set NAME PLAN RUNFILES_PATHS LAYER_LIST` for the sets
all (three binaries), server and worker (one binary each) and mixed (three binaries,
per-group settings). Each layer's descriptor is `LAYER.json`.
"""

import io
import os
import json
import sys
import tarfile
import unittest

BINARIES = ["server", "worker", "migrate"]
SETS = {}
REPO_MAPPINGS = []


def resolve(path):
    """A path from a layer list (`<repo>/...` for other repositories) seen from the test's cwd."""
    if os.path.exists(path):
        return path
    return os.path.join("..", path)


def parse_args(argv):
    current = None
    for arg in argv:
        if arg == "--repo-mappings":
            current = REPO_MAPPINGS
        elif arg == "--set":
            current = []
            SETS[len(SETS)] = current
        else:
            current.append(arg)
    for key in list(SETS):
        name, plan, paths, layer_list = SETS.pop(key)
        layers = []
        with open(layer_list) as f:  # runfiles paths: `_main/...` is relative to the test's cwd
            for line in f.read().splitlines():
                layers.append(line)
        layers = [resolve(p) for p in layers]
        with open(plan) as f:
            plan_json = json.load(f)
        with open(paths) as f:
            runfiles_paths = [line for line in f.read().splitlines() if line]
        descriptors = []
        for layer in layers:
            with open(layer + ".json") as f:
                descriptors.append(json.load(f))
        groups = [entry["group"] for entry in plan_json["layers"]]
        SETS[name] = {
            "layers": dict(zip(groups, layers)),
            "descriptors": dict(zip(groups, descriptors)),
            "runfiles_paths": runfiles_paths,
            "order": groups,
        }


def members(path):
    """(name, TarInfo) of a gzip or uncompressed layer."""
    with open(path, "rb") as f:
        data = f.read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        return [(m.name, m) for m in tar.getmembers()]


def read_member(path, name):
    with tarfile.open(path, mode="r:*") as tar:
        return tar.extractfile(name).read().decode()


class MultiLayersTest(unittest.TestCase):
    def test_one_runfiles_tree_with_every_path_once(self):
        s = SETS["all"]
        seen = {}
        for group, layer in s["layers"].items():
            for name, _ in members(layer):
                self.assertNotIn(name, seen, "%s in layers %s and %s" % (name, seen.get(name), group))
                seen[name] = group
        for path in s["runfiles_paths"]:
            self.assertIn(path.lstrip("/"), seen, "runfiles path missing from the image")
        for b in BINARIES:
            self.assertEqual("app", seen.get("app/%s" % b), "launcher /app/" + b)
        own_code = {"server": "routes.py", "worker": "jobs.py", "migrate": "steps.py"}
        for b, f in own_code.items():
            self.assertIn("app/.runfiles/_main/%s/%s" % (b, f), seen)
        self.assertEqual("common", seen.get("app/.runfiles/_main/common/report.py"))
        own_trees = [n for n in seen if any(n.startswith("app/%s.runfiles/" % b) for b in BINARIES)]
        self.assertEqual([], own_trees, "nothing under a binary's own .runfiles directory (a link)")

    def test_launchers_and_links(self):
        app = dict(members(SETS["all"]["layers"]["app"]))
        for b in BINARIES:
            launcher = app["app/" + b]
            self.assertTrue(launcher.isfile())
            self.assertEqual(0o755, launcher.mode & 0o777)
            link = app["app/%s.runfiles" % b]
            self.assertTrue(link.issym())
            self.assertEqual(".runfiles", link.linkname)

    def test_repo_mapping_is_the_union(self):
        self.assertEqual(3, len(REPO_MAPPINGS))
        lines = set()
        for path in REPO_MAPPINGS:
            with open(path) as f:
                lines.update(f.read().splitlines())
        got = read_member(SETS["all"]["layers"]["app"], "app/.runfiles/_repo_mapping").splitlines()
        self.assertEqual(sorted(lines), got)

    def test_pip_layers_identical_to_single_binary_images(self):
        all_d = SETS["all"]["descriptors"]
        server_d = SETS["server"]["descriptors"]
        worker_d = SETS["worker"]["descriptors"]
        # server reaches every package: all its pip (and interpreter) layers are the three-binary image's
        for group in ["python", "web", "six", "pip"]:
            self.assertEqual(server_d[group]["digest"], all_d[group]["digest"], group)
        # worker's web group holds the same packages
        self.assertEqual(worker_d["web"]["digest"], all_d["web"]["digest"])
        # the six layer is six's package fragment: the very same bytes everywhere
        self.assertEqual(["six"], [p["name"] for p in all_d["six"]["packages"]])

    def test_per_group_compression(self):
        mixed = SETS["mixed"]["descriptors"]
        all_d = SETS["all"]["descriptors"]
        self.assertEqual("zstd", mixed["web"]["compression"])
        self.assertTrue(SETS["mixed"]["layers"]["web"].endswith(".tar.zst"))
        for group in ["python", "six", "pip", "common", "app"]:
            self.assertEqual("gzip", mixed[group]["compression"], group)
        # same settings, same bytes: only the web and app layers differ from the gzip image's
        for group in ["python", "six", "pip", "common"]:
            self.assertEqual(all_d[group]["digest"], mixed[group]["digest"], group)
        self.assertNotEqual(all_d["web"]["digest"], mixed["web"]["digest"])
        self.assertEqual(all_d["web"]["diff_id"], mixed["web"]["diff_id"], "same tar, other compression")

    def test_per_group_owner(self):
        for name, m in members(SETS["mixed"]["layers"]["app"]):
            self.assertEqual((1000, 1000), (m.uid, m.gid), name)
        for name, m in members(SETS["mixed"]["layers"]["common"]):
            self.assertEqual((0, 0), (m.uid, m.gid), name)


if __name__ == "__main__":
    parse_args(sys.argv[1:])
    unittest.main(argv=sys.argv[:1])
