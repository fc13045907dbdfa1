"""Proves that invariants_test.py really fails on each violation it guards.

Builds small fake layers (a good image plus one mutation each) and runs
invariants_test.py on them: the good image must pass, every mutation must fail
the named check. Arguments: path of invariants_test.py, path of the shared
tools/testing/invariants.py it imports.
"""

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

CHECKER = None
SHARED = None

RF = "app/.runfiles/"
PY = "rules_pyimage~~image~pyimage_python311/python/bin/python3.11"
REQ = "rules_python~~pip~pypi_requests/site-packages/requests/__init__.py"


def entry(name, data=b"", mode=0o644, link=None, kind=None):
    ti = tarfile.TarInfo(name)
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.mode = mode
    if link is not None:
        ti.type = tarfile.SYMTYPE
        ti.linkname = link
        return ti, None
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
        return ti, None
    ti.size = len(data)
    return ti, data


def good_layers():
    return [
        [entry(RF + PY, b"ELF", 0o755), entry(RF + PY[: -len(".11")], link="python3.11")],
        [entry(RF + REQ, b"# requests")],
        [entry(RF + "_main/lib/greeting.py", b"def greeting(n): pass\n")],
        [
            entry("app/app", b"#!/usr/bin/env python3.11\n", 0o755),
            entry("app/app.runfiles", link=".runfiles"),
            entry(RF + "_main/app/main.py", b"print(1)\n"),
            entry(RF + "_repo_mapping", b""),
        ],
    ]


RUNFILES = [
    "launcher\tapp",
    "file\t" + PY,
    "file\t" + PY[: -len(".11")],
    "file\t" + REQ,
    "file\t_main/lib/greeting.py",
    "file\t_main/app/main.py",
    "file\t_repo_mapping",
]


class SelfTest(unittest.TestCase):
    def run_checker(self, layers, runfiles=RUNFILES):
        d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        paths = []
        for i, entries in enumerate(layers):
            p = os.path.join(d, "%d_layer.tar.gz" % i)
            with tarfile.open(p, "w:gz", format=tarfile.PAX_FORMAT) as t:
                for ti, data in entries:
                    t.addfile(ti, io.BytesIO(data) if data is not None else None)
            paths.append(p)
        base = os.path.join(d, "base.tar")
        with tarfile.open(base, "w") as t:
            ti, data = entry("usr/lib/x86_64-linux-gnu/libssl.so.3", b"ELF")
            t.addfile(ti, io.BytesIO(data))
        rf = os.path.join(d, "runfiles.txt")
        with open(rf, "w") as f:
            f.write("\n".join(runfiles) + "\n")
        r = subprocess.run(
            [sys.executable, CHECKER, "--runfiles", rf, "--base", base] + paths,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(SHARED))),
        )
        return r.returncode, r.stdout + r.stderr

    def assert_fails(self, layers, check, runfiles=RUNFILES):
        rc, out = self.run_checker(layers, runfiles)
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"%s \(__main__\.Invariants\.%s\) \.\.\. FAIL" % (check, check), out)

    def test_good_image_passes(self):
        rc, out = self.run_checker(good_layers())
        self.assertEqual(rc, 0, out)

    def test_path_in_two_layers(self):
        layers = good_layers()
        layers[2].append(entry(RF + REQ, b"# requests"))
        self.assert_fails(layers, "test_no_non_directory_path_in_two_layers")

    def test_missing_runfile(self):
        layers = good_layers()
        layers[2] = [entry(RF + "_main/lib/other.py")]
        self.assert_fails(layers, "test_every_runfile_in_exactly_one_layer")

    def test_extra_file(self):
        layers = good_layers()
        layers[3].append(entry(RF + "_main/stray.txt", b"x"))
        self.assert_fails(layers, "test_nothing_shipped_beyond_runfiles")

    def test_legacy_external_copy(self):
        layers = good_layers()
        layers[3].append(entry(RF + "_main/external/" + REQ, b"# requests"))
        self.assert_fails(layers, "test_no_legacy_external_runfiles")

    def test_bytecode(self):
        layers = good_layers()
        layers[2].append(entry(RF + "_main/lib/__pycache__/greeting.cpython-311.pyc", b"\x00"))
        self.assert_fails(layers, "test_no_bytecode")

    def test_dangling_symlink(self):
        layers = good_layers()
        layers[3][1] = entry("app/app.runfiles", link="runfiles-missing")
        self.assert_fails(layers, "test_symlinks_resolve_inside_the_image")

    def test_interpreter_link_materialised(self):
        layers = good_layers()
        layers[0][1] = entry(RF + PY[: -len(".11")], b"ELF", 0o755)
        self.assert_fails(layers, "test_interpreter_keeps_its_links")

    def test_link_to_a_file_of_the_same_layer_shipped_twice(self):
        layers = good_layers()
        layers[3].append(entry(RF + "_main/app/again.py", link="main.py"))
        layers[3].append(entry(RF + "_main/app/again.py", b"print(1)\n"))
        self.assert_fails(layers, "test_no_path_twice_in_a_layer")

    def test_wrong_owner(self):
        layers = good_layers()
        ti, data = layers[1][0]
        ti.uid = 1000
        self.assert_fails(layers, "test_deterministic_metadata")

    def test_launcher_not_executable(self):
        layers = good_layers()
        layers[3][0] = entry("app/app", b"#!/usr/bin/env python3.11\n", 0o644)
        self.assert_fails(layers, "test_launchers_and_runfiles_symlinks")


if __name__ == "__main__":
    CHECKER = sys.argv.pop(1)
    SHARED = sys.argv.pop(1)
    unittest.main(verbosity=2)
