"""Proves that oci_check.py fails on each violation it guards.

Builds a small fake image (a base layer, two of "our" layers, the flattened
export, a registry manifest and config, an OCI layout, a docker-save tarball)
where every check passes, then one mutation per case that the named check must
reject. Argument: path of oci_check.py.
"""

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

CHECKER = None
GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def tar_bytes(entries):
    """entries: (name, data | None, mode, symlink target | None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode, link in entries:
            ti = tarfile.TarInfo(name)
            ti.mode, ti.mtime = mode, 0
            if link is not None:
                ti.type, ti.linkname = tarfile.SYMTYPE, link
                t.addfile(ti)
            elif data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


BASE = [
    ("usr", None, 0o755, None),
    ("usr/bin", None, 0o755, None),
    ("usr/bin/env", b"ELF", 0o755, None),
    ("bin", None, 0o777, "usr/bin"),
    # Debian alternatives of man pages the base trims: tolerated in the base.
    ("etc/alternatives/awk.1.gz", None, 0o777, "/usr/share/man/man1/mawk.1.gz"),
    ("etc/mtab", None, 0o777, "../proc/self/mounts"),
]
PY = [("app/.runfiles/py/bin/python3.11", b"ELF", 0o755, None)]
APP = [
    ("app/service", b"#!/usr/bin/env python3.11\n", 0o755, None),
    ("app/service.runfiles", None, 0o777, ".runfiles"),
    ("app/.runfiles/_main/service/main.py", b"print(1)\n", 0o644, None),
]


class Image:
    """The fake image's files in a temporary folder; layers = [base, py, app]."""

    def __init__(self, d, base=BASE, py=PY, app=APP, export=None):
        self.d = d
        self.layers = []
        self.descriptors = []
        for i, entries in enumerate([base, py, app]):
            raw = tar_bytes(entries)
            blob = gzip.compress(raw, mtime=0)
            path = self.write("layer%d.tar.gz" % i, blob)
            self.layers.append(path)
            self.descriptors.append({"media_type": GZIP, "digest": sha(blob), "size": len(blob), "diff_id": sha(raw)})
        flat = {}
        for entries in [base, py, app]:
            flat.update({e[0]: e for e in entries})
        self.export = self.write("export.tar", tar_bytes(export if export is not None else list(flat.values())))
        self.desc_paths = [self.write("layer%d.json" % i, json.dumps(d)) for i, d in enumerate(self.descriptors)]
        self.config = {"rootfs": {"type": "layers", "diff_ids": [d["diff_id"] for d in self.descriptors]}}
        self.manifest = {
            "schemaVersion": 2,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json"},
            "layers": [{"mediaType": d["media_type"], "digest": d["digest"], "size": d["size"]} for d in self.descriptors],
        }

    def write(self, name, data):
        path = os.path.join(self.d, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def manifest_files(self):
        return self.write("manifest.json", json.dumps(self.manifest)), self.write("config.json", json.dumps(self.config))

    def layout(self):
        """An OCI layout of the image under <d>/layout."""
        config = json.dumps(self.config).encode()
        manifest = dict(self.manifest, config={"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)})
        mbytes = json.dumps(manifest).encode()
        for blob in [config, mbytes] + [read(p) for p in self.layers]:
            self.write("layout/blobs/sha256/" + sha(blob)[7:], blob)
        index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(mbytes), "size": len(mbytes)}]}
        self.write("layout/index.json", json.dumps(index))
        self.write("layout/oci-layout", '{"imageLayoutVersion": "1.0.0"}')
        return os.path.join(self.d, "layout")

    def docker_save(self, blobs):
        names = ["%d.tar.gz" % i for i in range(len(blobs))]
        entries = [("manifest.json", json.dumps([{"Config": "c.json", "Layers": names}]).encode(), 0o644, None)]
        entries += [(n, b, 0o644, None) for n, b in zip(names, blobs)]
        return self.write("docker-save.tar", tar_bytes(entries))


def run(*args):
    p = subprocess.run([sys.executable, CHECKER] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


class OciCheckSelfTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def export(self, img):
        return run("export", "--export", img.export, "--base", img.layers[0], "--layer", img.layers[1], "--layer", img.layers[2])

    def assert_fails(self, result, *needles):
        rc, out = result
        self.assertEqual(rc, 1, out)
        for n in needles:
            self.assertIn(n, out)

    def test_good_image_passes_every_check(self):
        img = Image(self.d)
        rc, out = self.export(img)
        self.assertEqual(rc, 0, out)
        self.assertIn("/etc/alternatives/awk.1.gz, /etc/mtab", out)
        m, c = img.manifest_files()
        args = ["descriptors", "--manifest", m, "--config", c]
        for p in img.desc_paths[:1] + img.layers[1:2] + img.desc_paths[2:]:
            args += ["--descriptor", p]  # a blob stands for its computed descriptor
        self.assertEqual(run(*args)[0], 0, run(*args)[1])
        self.assertEqual(run("layout", "--layout", img.layout())[0], 0)
        blobs = [read(p) for p in img.layers]
        self.assertEqual(run("same-blobs", "--docker-save", img.docker_save(blobs), "--manifest", m)[0], 0)
        rootfs = os.path.join(self.d, "rootfs")
        with tarfile.open(img.export) as t:
            t.extractall(rootfs)
        rc, out = run("rootfs", "--rootfs", rootfs, "--export", img.export)
        self.assertEqual(rc, 0, out)

    def test_export_lost_extra_and_changed_files(self):
        img = Image(self.d, export=BASE + PY + APP[1:] + [("app/extra.py", b"", 0o644, None), ("app/service", b"#!", 0o755, None)])
        self.assert_fails(self.export(img), "extra: /app/extra.py", "differs: /app/service")
        img = Image(self.d, export=BASE + APP)
        self.assert_fails(self.export(img), "lost: /app/.runfiles/py/bin/python3.11")
        export = BASE + PY + APP[:2] + [(APP[2][0], APP[2][1], 0o755, None)]
        self.assert_fails(self.export(Image(self.d, export=export)), "differs: /app/.runfiles/_main/service/main.py")

    def test_path_twice_in_our_layers(self):
        app = APP + [("app/.runfiles/py/bin/python3.11", b"ELF", 0o755, None)]
        self.assert_fails(self.export(Image(self.d, app=app)), "/app/.runfiles/py/bin/python3.11 in ")

    def test_link_kept_next_to_its_target_passes(self):
        py = PY + [("app/.runfiles/py/bin/python3", None, 0o777, "python3.11")]
        rc, out = self.export(Image(self.d, py=py))
        self.assertEqual(rc, 0, out)

    def test_dangling_symlink_in_our_layer(self):
        app = APP + [("app/.runfiles/lib.so", None, 0o777, "missing.so")]
        self.assert_fails(self.export(Image(self.d, app=app)), "/app/.runfiles/lib.so -> missing.so")

    def test_trimmed_folder_link_tolerated_only_in_the_base(self):
        app = APP + [("app/man.1.gz", None, 0o777, "/usr/share/man/man1/x.1.gz")]
        self.assert_fails(self.export(Image(self.d, app=app)), "/app/man.1.gz")

    def test_symlink_climbing_above_the_root(self):
        app = APP + [("app/up", None, 0o777, "../../../usr/bin/env")]
        self.assert_fails(self.export(Image(self.d, app=app)), "climbs above the image root")

    def test_whiteout_in_a_layer(self):
        app = APP + [("app/.wh.old", b"", 0o644, None)]
        self.assert_fails(self.export(Image(self.d, app=app)), "whiteout")

    def test_descriptors_mismatch_and_order(self):
        img = Image(self.d)
        img.manifest["layers"][1]["size"] += 1
        m, c = img.manifest_files()
        self.assert_fails(run("descriptors", "--manifest", m, "--config", c, *sum([["--descriptor", p] for p in img.desc_paths], [])), "layer 1")
        img = Image(self.d)
        m, c = img.manifest_files()
        swapped = [img.desc_paths[0], img.desc_paths[2], img.desc_paths[1]]
        self.assert_fails(run("descriptors", "--manifest", m, "--config", c, *sum([["--descriptor", p] for p in swapped], [])), "layer 1", "layer 2")
        self.assert_fails(run("descriptors", "--manifest", m, "--config", c, "--descriptor", img.desc_paths[0]), "1 descriptors")

    def test_layout_corrupt_blob_and_wrong_diff_id(self):
        img = Image(self.d)
        layout = img.layout()
        victim = os.path.join(layout, "blobs", "sha256", img.descriptors[2]["digest"][7:])
        with open(victim, "ab") as f:
            f.write(b"x")
        self.assert_fails(run("layout", "--layout", layout), img.descriptors[2]["digest"])
        img = Image(os.path.join(self.d, "b"))
        img.config["rootfs"]["diff_ids"][1] = sha(b"other")
        self.assert_fails(run("layout", "--layout", img.layout()), "config diff_id")

    def test_same_blobs_differ(self):
        img = Image(self.d)
        m, _ = img.manifest_files()
        blobs = [read(p) for p in img.layers]
        blobs[2] = gzip.compress(tar_bytes(APP), mtime=1)  # same tar, other gzip header
        self.assert_fails(run("same-blobs", "--docker-save", img.docker_save(blobs), "--manifest", m), "layer blobs differ")

    def test_unpacked_tree_with_an_extra_file(self):
        img = Image(self.d)
        rootfs = os.path.join(self.d, "rootfs")
        with tarfile.open(img.export) as t:
            t.extractall(rootfs)
        with open(os.path.join(rootfs, "app", "stray"), "w") as f:
            f.write("x")
        self.assert_fails(run("rootfs", "--rootfs", rootfs, "--export", img.export), "extra: /app/stray")


if __name__ == "__main__":
    CHECKER = os.path.abspath(sys.argv[1])
    unittest.main(argv=sys.argv[:1])
