"""Unit test of docker_save.py (the TEST-ONLY docker-save assembler)."""

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker_save.py")


def layer_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


class DockerSaveTest(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.raw = layer_tar([("etc/os-release", b"ID=test\n")])
        self.base = os.path.join(self.d, "base.tar")
        with open(self.base, "wb") as f:
            f.write(self.raw)
        self.app_raw = layer_tar([("app/app", b"#!/bin/sh\necho hi\n")])
        self.app = os.path.join(self.d, "1_app.tar.gz")
        with open(self.app, "wb") as f:
            f.write(gzip.compress(self.app_raw, mtime=0))

    def run_tool(self, out, *extra):
        return subprocess.run(
            [sys.executable, SCRIPT, "--output", out, "--entrypoint", '["/app/app"]',
             "--env", "PATH=/usr/bin", "--repo-tag", "t:1"] + list(extra) + [self.base, self.app],
            capture_output=True, text=True)

    def test_format_and_determinism(self):
        a, b = os.path.join(self.d, "a.tar"), os.path.join(self.d, "b.tar")
        self.assertEqual(self.run_tool(a).returncode, 0)
        self.assertEqual(self.run_tool(b).returncode, 0)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertEqual(fa.read(), fb.read(), "not byte-identical")
        with tarfile.open(a) as t:
            names = t.getnames()
            self.assertEqual(names[0], "manifest.json")
            self.assertFalse([n for n in names if n.startswith(("./", "/")) or "/" in n])
            self.assertTrue(all(m.mtime == 0 and m.uid == 0 for m in t.getmembers()))
            manifest = json.load(t.extractfile("manifest.json"))
            config_bytes = t.extractfile(manifest[0]["Config"]).read()
        self.assertEqual(manifest[0]["Config"], hashlib.sha256(config_bytes).hexdigest() + ".json")
        self.assertEqual(manifest[0]["RepoTags"], ["t:1"])
        config = json.loads(config_bytes)
        self.assertEqual(config["config"]["Entrypoint"], ["/app/app"])
        self.assertEqual(config["rootfs"]["diff_ids"], [
            "sha256:" + hashlib.sha256(self.raw).hexdigest(),
            "sha256:" + hashlib.sha256(self.app_raw).hexdigest(),
        ])
        self.assertTrue(manifest[0]["Layers"][0].endswith(".tar"))
        self.assertTrue(manifest[0]["Layers"][1].endswith(".tar.gz"))

    def descriptor(self, **override):
        with open(self.app, "rb") as f:
            blob = f.read()
        d = {"digest": "sha256:" + hashlib.sha256(blob).hexdigest(), "size": len(blob),
             "diff_id": "sha256:" + hashlib.sha256(self.app_raw).hexdigest()}
        d.update(override)
        p = os.path.join(self.d, "desc.json")
        with open(p, "w") as f:
            json.dump(d, f)
        return p

    def test_matching_descriptor(self):
        r = self.run_tool(os.path.join(self.d, "c.tar"), "--descriptor", self.descriptor())
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_wrong_diff_id_in_descriptor(self):
        r = self.run_tool(os.path.join(self.d, "c.tar"), "--descriptor", self.descriptor(diff_id="sha256:" + "0" * 64))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("diff_id", r.stderr)

    def test_wrong_size_in_descriptor(self):
        r = self.run_tool(os.path.join(self.d, "c.tar"), "--descriptor", self.descriptor(size=1))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("size", r.stderr)


if __name__ == "__main__":
    unittest.main()
