#!/usr/bin/env python3
"""Assemble a docker-save ("docker-archive") tarball from layer blobs.

TEST-ONLY helper of //tools/testing:image.bzl, not part of the public API.

    docker_save.py --output OUT.tar --config-out CONFIG.json
        [--descriptor DESC.json]...      # pyimage descriptors: cross-checked
        [--entrypoint JSON] [--cmd JSON] [--env K=V]... [--workdir DIR]
        [--label K=V]... [--repo-tag NAME:TAG] [--arch amd64]
        LAYER...                          # blobs, base first

The tarball holds `manifest.json`, `<config sha256>.json` and the layer blobs
named `<blob sha256>.tar[.gz|.zst]`, all at the top level (no `./` prefix),
in that order, with mtime 0, uid/gid 0, mode 0644: byte-identical for the same
inputs. Layers stay as they are (compressed blobs are not recompressed);
digest and diff_id are computed here and must agree with any descriptor given
for the same blob (so the tool's descriptors are tested on every image).
"""

import argparse
import gzip
import hashlib
import io
import json
import sys
import tarfile

CHUNK = 1 << 20


def sha256_file(path):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
            n += len(b)
    return h.hexdigest(), n


def kind_of(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return "none"


def diff_id_of(path, kind):
    if kind == "none":
        return sha256_file(path)[0]
    if kind == "gzip":
        h = hashlib.sha256()
        with gzip.open(path, "rb") as f:
            while True:
                b = f.read(CHUNK)
                if not b:
                    break
                h.update(b)
        return h.hexdigest()
    return None  # zstd: Python 3.11 cannot decompress it; use the descriptor


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", required=True)
    ap.add_argument("--config-out")
    ap.add_argument("--descriptor", action="append", default=[])
    ap.add_argument("--entrypoint")
    ap.add_argument("--cmd")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--workdir")
    ap.add_argument("--user")
    ap.add_argument("--repo-tag", action="append", default=[])
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("layers", nargs="+")
    a = ap.parse_args(argv)

    descs = {}
    for d in a.descriptor:
        with open(d) as f:
            j = json.load(f)
        descs[j["digest"]] = (d, j)

    layers = []  # (path, digest hex, size, diff_id hex, ext)
    seen = set()
    for path in a.layers:
        digest, size = sha256_file(path)
        kind = kind_of(path)
        diff_id = diff_id_of(path, kind)
        desc = descs.get("sha256:" + digest)
        if desc is not None:
            dpath, j = desc
            if j.get("size") not in (None, size):
                sys.exit("ERROR: %s: size %d but descriptor %s says %s" % (path, size, dpath, j.get("size")))
            if diff_id is not None and j.get("diff_id") not in (None, "sha256:" + diff_id):
                sys.exit("ERROR: %s: diff_id sha256:%s but descriptor %s says %s" % (path, diff_id, dpath, j.get("diff_id")))
            if diff_id is None:
                diff_id = j["diff_id"][len("sha256:"):]
        elif path.endswith((".json",)):
            sys.exit("ERROR: %s looks like a descriptor, not a layer" % path)
        if diff_id is None:
            sys.exit("ERROR: %s is zstd-compressed and has no descriptor giving its diff_id" % path)
        if digest in seen:
            sys.exit("ERROR: the same layer blob is given twice: %s" % path)
        seen.add(digest)
        ext = {"gzip": ".tar.gz", "zstd": ".tar.zst", "none": ".tar"}[kind]
        layers.append((path, digest, size, diff_id, ext))
    if len(descs) and not any(("sha256:" + l[1]) in descs for l in layers):
        sys.exit("ERROR: none of the %d descriptors matches a layer blob" % len(descs))
    missing = [d for dig, (d, _) in sorted(descs.items()) if dig[len("sha256:"):] not in seen]
    if missing:
        sys.exit("ERROR: descriptors without a layer: %s" % ", ".join(missing))

    cfg = {}
    if a.entrypoint:
        cfg["Entrypoint"] = json.loads(a.entrypoint)
    if a.cmd:
        cfg["Cmd"] = json.loads(a.cmd)
    if a.env:
        cfg["Env"] = list(a.env)
    if a.workdir:
        cfg["WorkingDir"] = a.workdir
    if a.user:
        cfg["User"] = a.user
    if a.label:
        cfg["Labels"] = dict(kv.split("=", 1) for kv in a.label)
    config = {
        "architecture": a.arch,
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + l[3] for l in layers]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "rules_pyimage tools/testing: layer %d" % i} for i in range(len(layers))],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{
        "Config": config_name,
        "RepoTags": list(a.repo_tag),
        "Layers": [l[1] + l[4] for l in layers],
    }]
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()

    def info(name, size):
        ti = tarfile.TarInfo(name)
        ti.size = size
        ti.mtime = 0
        ti.mode = 0o644
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        ti.type = tarfile.REGTYPE
        return ti

    with open(a.output, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
            t.addfile(info("manifest.json", len(manifest_bytes)), io.BytesIO(manifest_bytes))
            t.addfile(info(config_name, len(config_bytes)), io.BytesIO(config_bytes))
            for path, digest, size, _, ext in layers:
                with open(path, "rb") as f:
                    t.addfile(info(digest + ext, size), f)
    if a.config_out:
        with open(a.config_out, "wb") as f:
            f.write(config_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
