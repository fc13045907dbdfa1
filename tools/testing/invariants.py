"""Invariants of a py_image_layer image that no snapshot can silence (TEST-ONLY).

    invariants.py --runfiles LISTING [--base BASE_LAYER] [--root /app] LAYER... [unittest args]

LISTING comes from `runfiles_listing` (runfiles.bzl): every runfiles path of the
binaries, computed from their runfiles objects independently of the rules' code, and
one `launcher\t<name>` line per binary. LAYER: the layer blobs in image order
(`.json` descriptors are ignored); BASE: the base image's layer, for links that
resolve into it. Checked: every runfile in exactly one layer and nothing else
shipped, no non-directory path in two layers nor twice in one, each launcher (0755)
with its `<name>.runfiles -> .runfiles` link, no legacy `_main/external/` copies, no
bytecode, every symlink resolves inside the image, owner 0:0 and one mtime. A test
module may subclass `Invariants` to add its own checks and call `main()`.
"""

import argparse
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
            if ti.name.startswith(("/", "./")):
                raise AssertionError("%s: entry %r has a leading '/' or './'" % (path, ti.name))
            entries["/" + ti.name.rstrip("/")] = ti
            order.append(ti.name)
    return entries, order


def read_listing(path):
    """(launcher names, {runfiles path: kind}) of a `runfiles_listing` file."""
    launchers, expected = [], {}
    with open(path) as f:
        for line in f:
            kind, p = line.rstrip("\n").split("\t", 1)
            if kind == "launcher":
                launchers.append(p)
            else:
                expected[p] = kind
    return launchers, expected


class Invariants(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        a = ARGS
        cls.root = a.root.rstrip("/")
        cls.layers = []  # (basename, {path: TarInfo}, [names in order])
        for p in a.layers:
            entries, order = read_layer(p)
            cls.layers.append((posixpath.basename(p), entries, order))
        cls.base = read_layer(a.base)[0] if a.base else {}
        cls.launchers, cls.expected = read_listing(a.runfiles)

    def owners(self, path):
        return [name for name, entries, _ in self.layers if path in entries and not entries[path].isdir()]

    def entry(self, path):
        owners = self.owners(path)
        self.assertEqual(len(owners), 1, "%s: in %s" % (path, owners))
        return [e for n, e, _ in self.layers if n == owners[0]][0][path]

    def test_launchers_listed(self):
        self.assertTrue(self.launchers, "the runfiles listing names no launcher")

    def test_no_path_twice_in_a_layer(self):
        twice = []
        for name, _, order in self.layers:
            seen = set()
            for n in order:
                if n in seen and not n.endswith("/"):
                    twice.append("%s (%s)" % (n, name))
                seen.add(n)
        self.assertEqual(twice, [], "a path twice in one layer (a link and a copy of one file?)")

    def test_no_non_directory_path_in_two_layers(self):
        seen, dups = {}, []
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
        for path in sorted(self.expected):
            owners = self.owners(rf + path)
            if not owners:
                missing.append(path)
            elif len(owners) > 1:
                multiple.append("%s: %s" % (path, owners))
        self.assertEqual(missing, [], "runfiles missing from every layer")
        self.assertEqual(multiple, [], "runfiles in several layers")

    def test_nothing_shipped_beyond_runfiles(self):
        rf = self.root + "/.runfiles/"
        allowed = set()
        for name in self.launchers:
            allowed.update([self.root + "/" + name, self.root + "/" + name + ".runfiles"])
        extra = []
        for name, entries, _ in self.layers:
            for path, ti in entries.items():
                if ti.isdir() or path in allowed:
                    continue
                if not path.startswith(rf) or path[len(rf):] not in self.expected:
                    extra.append("%s (%s)" % (path, name))
        self.assertEqual(extra, [], "files in layers that are not runfiles of the binaries")

    def test_launchers_and_runfiles_symlinks(self):
        for name in self.launchers:
            launcher = self.root + "/" + name
            ti = self.entry(launcher)
            self.assertTrue(ti.isreg(), launcher)
            self.assertEqual(ti.mode & 0o7777, 0o755, launcher)
            link = self.entry(launcher + ".runfiles")
            self.assertTrue(link.issym(), "%s.runfiles must be a symlink" % launcher)
            target = posixpath.normpath(posixpath.join(self.root, link.linkname))
            self.assertEqual(target, self.root + "/.runfiles", launcher)
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
        """The path with every symlink (in any component) resolved inside the image; None if dangling."""
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
                base = posixpath.dirname(cur)
                target = ti.linkname
                nxt = posixpath.normpath(target if target.startswith("/") else posixpath.join(base, target))
                rest = "/".join(parts[i + 1:])
                return self.resolve(nxt + ("/" + rest if rest else ""), paths, depth + 1)
        return cur

    def test_symlinks_resolve_inside_the_image(self):
        paths = self.all_paths()
        bad = []
        for name, entries, _ in self.layers:
            for path, ti in entries.items():
                if ti.issym() and self.resolve(path, paths) is None:
                    bad.append("%s -> %s (%s)" % (path, ti.linkname, name))
        self.assertEqual(bad, [])

    def test_deterministic_metadata(self):
        bad = []
        for name, entries, _ in self.layers:
            mtimes = {ti.mtime for ti in entries.values()}
            if len(mtimes) > 1:
                bad.append("%s: mtimes %s" % (name, sorted(mtimes)))
            bad.extend("%s: uid %d gid %d (%s)" % (p, ti.uid, ti.gid, name) for p, ti in entries.items() if ti.uid or ti.gid)
        self.assertEqual(bad[:20], [])


def main(argv=None):
    """Parses the arguments into ARGS and runs the unittest classes of `__main__`."""
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/app")
    ap.add_argument("--runfiles", required=True)
    ap.add_argument("--base")
    ap.add_argument("layers", nargs="+")
    ARGS, rest = ap.parse_known_args(argv)
    ARGS.layers = [p for p in ARGS.layers if not p.endswith(".json")]
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
