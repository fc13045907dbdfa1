"""Invariants of the smoke image's layers that no snapshot regeneration can silence.

Arguments: --root /app --binary app --runfiles LISTING --base BASE_LAYER LAYER...
(LISTING comes from tests/defs.bzl `runfiles_listing`, computed from the
binary's runfiles object, independently of rules_pyimage's own code.)
"""

import argparse
import os
import posixpath
import sys
import tarfile
import unittest

ARGS = None


def read_layer(path):
    """{image path: TarInfo} of one layer blob (gzip or plain tar), and its names in order."""
    entries = {}
    order = []
    with tarfile.open(path, "r:*") as t:
        for ti in t:
            name = "/" + ti.name.rstrip("/")
            if ti.name.startswith(("/", "./")):
                raise AssertionError("%s: entry %r has a leading '/' or './'" % (path, ti.name))
            entries[name] = ti
            order.append(ti.name)
    return entries, order


class Invariants(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        a = ARGS
        cls.root = a.root.rstrip("/")
        cls.binary = a.binary
        cls.layers = []  # (name, {path: TarInfo}, [names in order])
        for p in a.layers:
            entries, order = read_layer(p)
            cls.layers.append((os.path.basename(p), entries, order))
        cls.base, _ = read_layer(a.base) if a.base else ({}, [])
        cls.expected = {}  # runfiles path -> kind
        with open(a.runfiles) as f:
            for line in f:
                kind, path = line.rstrip("\n").split("\t", 1)
                if kind == "launcher":
                    cls.launcher = path
                else:
                    cls.expected[path] = kind

    def owners(self, path):
        return [name for name, entries, _ in self.layers if path in entries and not entries[path].isdir()]

    def test_layers_exist(self):
        self.assertGreaterEqual(len(self.layers), 4, [n for n, _, _ in self.layers])

    def test_no_path_twice_in_a_layer(self):
        twice = []
        for name, _, order in self.layers:
            seen = set()
            for n in order:
                if n in seen and not n.endswith("/"):
                    twice.append("%s (%s)" % (n, name))
                seen.add(n)
        self.assertEqual(twice, [], "a path twice in one layer (a link and a copy of one file?)")

    def test_interpreter_keeps_its_links(self):
        # the interpreter tree's bin/python3 -> python3.11 is a link, not a second copy
        links = {}
        for _, entries, _ in self.layers:
            for path, ti in entries.items():
                if path.endswith("/python/bin/python3"):
                    links[path] = ti.linkname if ti.issym() else "(%s, not a link)" % ("file" if ti.isreg() else ti.type)
        self.assertEqual(list(links.values()), ["python3.11"], links)

    def test_no_non_directory_path_in_two_layers(self):
        seen = {}
        dups = []
        for name, entries, _ in self.layers:
            for path, ti in entries.items():
                if ti.isdir():
                    continue
                if path in seen:
                    dups.append("%s in %s and %s" % (path, seen[path], name))
                seen[path] = name
        self.assertEqual(dups, [])

    def test_every_runfile_in_exactly_one_layer(self):
        rf = self.root + "/.runfiles/"
        missing, multiple = [], []
        for path, kind in sorted(self.expected.items()):
            owners = self.owners(rf + path)
            if not owners:
                missing.append(path)
            elif len(owners) > 1:
                multiple.append("%s: %s" % (path, owners))
        self.assertEqual(missing, [], "runfiles missing from every layer")
        self.assertEqual(multiple, [], "runfiles in several layers")

    def test_nothing_shipped_beyond_runfiles(self):
        rf = self.root + "/.runfiles/"
        allowed = {self.root + "/" + self.launcher, self.root + "/" + self.launcher + ".runfiles"}
        extra = []
        for name, entries, _ in self.layers:
            for path, ti in entries.items():
                if ti.isdir() or path in allowed:
                    continue
                if not path.startswith(rf) or path[len(rf):] not in self.expected:
                    extra.append("%s (%s)" % (path, name))
        self.assertEqual(extra, [], "files in layers that are not runfiles of the binary")

    def test_launcher_and_runfiles_symlink(self):
        launcher = self.root + "/" + self.launcher
        owners = self.owners(launcher)
        self.assertEqual(len(owners), 1, owners)
        ti = [e for n, e, _ in self.layers if n == owners[0]][0][launcher]
        self.assertTrue(ti.isreg())
        self.assertEqual(ti.mode & 0o7777, 0o755)
        link = launcher + ".runfiles"
        owners = self.owners(link)
        self.assertEqual(len(owners), 1, owners)
        lt = [e for n, e, _ in self.layers if n == owners[0]][0][link]
        self.assertTrue(lt.issym(), "%s must be a symlink" % link)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(link), lt.linkname))
        self.assertEqual(target, self.root + "/.runfiles")
        # Resolving the symlink, the binary's own runfiles view is complete.
        self.assertIn(self.root + "/.runfiles/_repo_mapping", self.all_paths())

    def test_no_legacy_external_runfiles(self):
        bad = [p for _, e, _ in self.layers for p in e if p.startswith(self.root + "/.runfiles/_main/external/")]
        self.assertEqual(bad, [], "Bazel 7 legacy _main/external copies shipped")

    def test_no_bytecode(self):
        bad = [p for _, e, _ in self.layers for p in e if p.endswith((".pyc", ".pyo")) or "/__pycache__" in p]
        self.assertEqual(bad, [])

    def all_paths(self):
        """Every path of the image (base + layers), parent directories included."""
        paths = dict(self.base)
        for _, entries, _ in self.layers:
            paths.update(entries)
        for p in list(paths):
            d = posixpath.dirname(p)
            while d not in ("/", "") and d not in paths:
                ti = tarfile.TarInfo(d.lstrip("/"))
                ti.type = tarfile.DIRTYPE
                paths[d] = ti
                d = posixpath.dirname(d)
        return paths

    def resolve(self, path, paths, depth=0):
        """Resolve symlinks (in any component) within the image; None if dangling."""
        if depth > 40:
            return None
        parts = path.strip("/").split("/")
        cur = ""
        for i, part in enumerate(parts):
            cur = cur + "/" + part
            ti = paths.get(cur)
            if ti is None:
                return None
            if ti.issym():
                target = ti.linkname
                base = posixpath.dirname(cur)
                nxt = posixpath.normpath(target if target.startswith("/") else posixpath.join(base, target))
                rest = "/".join(parts[i + 1:])
                return self.resolve(nxt + ("/" + rest if rest else ""), paths, depth + 1)
        return cur

    def test_symlinks_resolve_inside_the_image(self):
        paths = self.all_paths()
        paths["/"] = None
        bad = []
        for name, entries, _ in self.layers:
            for path, ti in entries.items():
                if ti.issym() and self.resolve(path, paths) is None:
                    bad.append("%s -> %s (%s)" % (path, ti.linkname, name))
        self.assertEqual(bad, [])

    def test_deterministic_metadata(self):
        bad = []
        for name, entries, _ in self.layers:
            for path, ti in entries.items():
                if ti.mtime != entries[next(iter(entries))].mtime or ti.uid != 0 or ti.gid != 0:
                    bad.append("%s: mtime %d uid %d gid %d (%s)" % (path, ti.mtime, ti.uid, ti.gid, name))
        self.assertEqual(bad[:20], [])

    def test_interpreter_and_pip_files_present(self):
        paths = self.all_paths()
        rf = self.root + "/.runfiles/"
        self.assertTrue(any(p.startswith(rf) and p.endswith("/python/bin/python3.11") for p in paths))
        self.assertTrue(any(p.endswith("/site-packages/requests/__init__.py") for p in paths))
        self.assertIn("/usr/lib/x86_64-linux-gnu/libssl.so.3", paths)
        self.assertNotIn("/usr/bin/python3", paths, "the base must not bring a python")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/app")
    ap.add_argument("--binary", default="app")
    ap.add_argument("--runfiles", required=True)
    ap.add_argument("--base")
    ap.add_argument("layers", nargs="+")
    ARGS, rest = ap.parse_known_args()
    ARGS.layers = [p for p in ARGS.layers if not p.endswith(".json")]
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
