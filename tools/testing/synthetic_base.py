#!/usr/bin/env python3
"""Write a synthetic base image with N tiny layers, byte-for-byte deterministic.

TEST-ONLY helper of //tools/testing:base_image.bzl, not part of the public API.

    synthetic_base.py --format oci-layout --output DIR --layers 30 --platform linux/amd64
        [--other-platform linux/s390x]...
    synthetic_base.py --format docker-archive --output OUT.tar --layers 30 --platform linux/amd64

Each layer is an uncompressed tar holding one file, `base/layer-NNN.txt`. `oci-layout`
writes an OCI image layout (index.json, oci-layout, blobs/sha256/...); with
`--other-platform`, index.json names an image index whose first image is for
`--platform` (N layers) and whose i-th other image has N + 1 + i layers, so that a reader
picking the wrong image counts a different number. `docker-archive` writes a `docker
save` tarball (manifest.json, the config, `<id>/layer.tar`).
"""

import argparse
import hashlib
import io
import json
import os
import tarfile


def tar_bytes(members):
    """A tar of (name, bytes) members with fixed metadata."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def layers_of(count, platform):
    return [
        tar_bytes([("base/layer-%03d.txt" % i, ("%s layer %d\n" % (platform, i)).encode())])
        for i in range(count)
    ]


def config_of(platform, layers):
    os_name, arch = platform.split("/")[:2]
    return dumps({
        "architecture": arch,
        "os": os_name,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer) for layer in layers]},
    })


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def blob(self, data):
        digest = sha256(data)
        with open(os.path.join(self.root, "blobs", "sha256", digest[7:]), "wb") as f:
            f.write(data)
        return {"digest": digest, "size": len(data)}

    def image(self, count, platform):
        layers = layers_of(count, platform)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(self.blob(config_of(platform, layers)), mediaType="application/vnd.oci.image.config.v1+json"),
            "layers": [dict(self.blob(layer), mediaType="application/vnd.oci.image.layer.v1.tar") for layer in layers],
        }
        return dict(self.blob(dumps(manifest)), mediaType="application/vnd.oci.image.manifest.v1+json")

    def finish(self, manifests):
        with open(os.path.join(self.root, "oci-layout"), "wb") as f:
            f.write(dumps({"imageLayoutVersion": "1.0.0"}))
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
        with open(os.path.join(self.root, "index.json"), "wb") as f:
            f.write(dumps(index))


def platform_field(platform):
    parts = platform.split("/")
    out = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        out["variant"] = parts[2]
    return out


def write_oci_layout(args):
    layout = Layout(args.output)
    first = layout.image(args.layers, args.platform)
    if not args.other_platform:
        layout.finish([first])
        return
    images = [dict(first, platform=platform_field(args.platform))]
    for i, other in enumerate(args.other_platform):
        images.append(dict(layout.image(args.layers + 1 + i, other), platform=platform_field(other)))
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": images}
    layout.finish([dict(layout.blob(dumps(index)), mediaType="application/vnd.oci.image.index.v1+json")])


def write_docker_archive(args):
    layers = layers_of(args.layers, args.platform)
    config = config_of(args.platform, layers)
    config_name = sha256(config)[7:] + ".json"
    members = [(config_name, config)]
    names = []
    for layer in layers:
        name = sha256(layer)[7:] + "/layer.tar"
        names.append(name)
        members.append((name, layer))
    manifest = [{"Config": config_name, "RepoTags": ["synthetic/base:%d" % args.layers], "Layers": names}]
    members.append(("manifest.json", dumps(manifest)))
    with open(args.output, "wb") as f:
        f.write(tar_bytes(members))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--format", choices=["oci-layout", "docker-archive"], required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--platform", required=True, help="os/arch[/variant] of the (first) image")
    p.add_argument("--other-platform", action="append", default=[])
    args = p.parse_args()
    if args.format == "oci-layout":
        write_oci_layout(args)
    else:
        write_docker_archive(args)


if __name__ == "__main__":
    main()
