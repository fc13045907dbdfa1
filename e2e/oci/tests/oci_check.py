#!/usr/bin/env python3
"""Host-side checks of e2e/oci/test.sh: what independent OCI tools produced
against what rules_pyimage built. Only the standard library plus the `zstd`
command line tool; nothing of rules_pyimage's own code.

    oci_check.py descriptors --manifest M --config C --descriptor D...
        the registry manifest (crane manifest) and config (crane config) list
        exactly our layers, in order: mediaType, digest, size per layer and the
        config's diff_ids equal the descriptors (base first; a D that is a
        layer blob rather than a .json stands for the descriptor computed here).
    oci_check.py layout --layout DIR [--ref NAME]
        every blob of an OCI image layout (skopeo copy oci:) hashes to its
        digest and size, and every layer decompresses to its config diff_id.
    oci_check.py export --export TAR --base BLOB --layer BLOB...
        the flattened file system (crane export) equals the union of the layer
        tars (upper layers win): nothing lost, nothing extra, same type, mode,
        owner, size and link target; every symlink resolves inside the image
        (the base's links into runtime mounts and into folders the base trims
        are listed, not failed).
    oci_check.py rootfs --rootfs DIR --export TAR
        a tree unpacked by another tool (umoci) holds exactly the exported paths.
    oci_check.py same-blobs --docker-save TAR --manifest M
        the layer blobs of a docker-save tarball are byte-identical to the
        registry image's layers (same sha256, same order).
Each prints one summary line; exit status 1 with the differences on failure.
"""

import argparse
import gzip
import hashlib
import json
import os
import posixpath
import stat
import subprocess
import sys
import tarfile

# Runtime mounts: a symlink pointing below them resolves when the container runs.
RUNTIME_MOUNTS = ("/proc/", "/dev/", "/sys/", "/run/")
# What tools/image/make-base.sh trims from the base root: Debian's alternatives
# for man pages dangle there. Tolerated in the base layer only (and listed).
BASE_TRIMMED = ("/usr/share/man/", "/usr/share/doc/", "/usr/share/info/", "/usr/share/locale/")
CHUNK = 1 << 20


def sha256_stream(f):
    h, n = hashlib.sha256(), 0
    for b in iter(lambda: f.read(CHUNK), b""):
        h.update(b)
        n += len(b)
    return "sha256:" + h.hexdigest(), n


def sha256_file(path):
    with open(path, "rb") as f:
        return sha256_stream(f)


def compression_of(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return "none"


class Uncompressed:
    """The uncompressed tar stream of a layer blob (gzip: Python, zstd: `zstd -dc`)."""

    def __init__(self, path):
        self.path, self.proc = path, None

    def __enter__(self):
        kind = compression_of(self.path)
        if kind == "zstd":
            self.proc = subprocess.Popen(["zstd", "-dc", "--", self.path], stdout=subprocess.PIPE)
            return self.proc.stdout
        self.f = gzip.open(self.path, "rb") if kind == "gzip" else open(self.path, "rb")
        return self.f

    def __exit__(self, *exc):
        if self.proc:
            self.proc.stdout.close()
            if self.proc.wait() != 0 and exc[0] is None:
                raise RuntimeError("zstd -dc %s failed" % self.path)
        else:
            self.f.close()


def norm(name):
    """Tar member name -> absolute image path without a trailing slash."""
    p = "/" + name.lstrip("./").strip("/") if name not in (".", "./") else "/"
    return posixpath.normpath(p)


def entries_of(blob):
    """Path -> TarInfo of one layer blob (the last entry of a path wins)."""
    out = {}
    with Uncompressed(blob) as f, tarfile.open(fileobj=f, mode="r|") as t:
        for ti in t:
            out[norm(ti.name)] = ti
    return out


def paths_twice(blobs):
    """Non-directory paths that two of `blobs` (or one blob twice) hold: a file shipped
    twice, e.g. a link's target copied next to the link."""
    seen, twice = {}, []
    for blob in blobs:
        with Uncompressed(blob) as f, tarfile.open(fileobj=f, mode="r|") as t:
            for ti in t:
                if ti.isdir():
                    continue
                p = norm(ti.name)
                if p in seen:
                    twice.append("%s in %s and %s" % (p, seen[p], blob))
                seen[p] = blob
    return twice


def summary(ti):
    """What must agree between a layer entry and the flattened file system."""
    kind = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink"}.get(ti.type, "type %r" % ti.type)
    link = ti.linkname if ti.type == tarfile.SYMTYPE else (norm(ti.linkname) if ti.type == tarfile.LNKTYPE else "")
    size = ti.size if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    return (kind, stat.S_IMODE(ti.mode), ti.uid, ti.gid, size, link)


def fail(lines, what):
    print("FAIL %s" % what)
    for line in lines[:40]:
        print("  " + line)
    if len(lines) > 40:
        print("  ... and %d more" % (len(lines) - 40))
    sys.exit(1)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def descriptor_of(path):
    """A descriptor JSON file, or (for a layer blob) the descriptor computed from it."""
    if path.endswith(".json"):
        return load_json(path)
    digest, size = sha256_file(path)
    with Uncompressed(path) as f:
        diff_id = sha256_stream(f)[0]
    kind = compression_of(path)
    media_type = "application/vnd.oci.image.layer.v1.tar" + ("" if kind == "none" else "+" + kind)
    return {"media_type": media_type, "digest": digest, "size": size, "diff_id": diff_id}


def cmd_descriptors(a):
    manifest, config = load_json(a.manifest), load_json(a.config)
    descs = [descriptor_of(d) for d in a.descriptor]
    layers, diff_ids = manifest.get("layers", []), config.get("rootfs", {}).get("diff_ids", [])
    bad = []
    if len(layers) != len(descs) or len(diff_ids) != len(descs):
        bad.append("%d descriptors, manifest has %d layers, config %d diff_ids" % (len(descs), len(layers), len(diff_ids)))
    for i, (d, m, diff_id) in enumerate(zip(descs, layers, diff_ids)):
        want = (d["media_type"], d["digest"], d["size"], d["diff_id"])
        got = (m["mediaType"], m["digest"], m["size"], diff_id)
        if want != got:
            bad.append("layer %d (%s): ours %s, image %s" % (i, a.descriptor[i], want, got))
    if bad:
        fail(bad, "manifest/config differ from our descriptors")
    kinds = sorted({m["mediaType"].rsplit(".", 1)[-1] for m in layers})
    print("ok %d layers: mediaType, digest, size and diff_id equal our descriptors (%s)" % (len(layers), ", ".join(kinds)))


def cmd_layout(a):
    index = load_json(os.path.join(a.layout, "index.json"))
    blob = lambda digest: os.path.join(a.layout, "blobs", *digest.split(":", 1))  # noqa: E731
    bad, n = [], 0

    def check(desc):
        nonlocal n
        digest, size = sha256_file(blob(desc["digest"]))
        n += 1
        if (digest, size) != (desc["digest"], desc["size"]):
            bad.append("%s: blob has %s, %d bytes; descriptor says %d bytes" % (desc["digest"], digest, size, desc["size"]))

    for mdesc in index["manifests"]:
        check(mdesc)
        manifest = load_json(blob(mdesc["digest"]))
        check(manifest["config"])
        diff_ids = load_json(blob(manifest["config"]["digest"]))["rootfs"]["diff_ids"]
        for layer, diff_id in zip(manifest["layers"], diff_ids):
            check(layer)
            want_kind = {"gzip": "gzip", "zstd": "zstd"}.get(layer["mediaType"].rsplit("+", 1)[-1], "none")
            if compression_of(blob(layer["digest"])) != want_kind:
                bad.append("%s: content is %s, mediaType %s" % (layer["digest"], compression_of(blob(layer["digest"])), layer["mediaType"]))
            try:
                with Uncompressed(blob(layer["digest"])) as f:
                    got = sha256_stream(f)[0]
            except (OSError, EOFError, RuntimeError) as e:
                got = "undecompressable (%s)" % e
            if got != diff_id:
                bad.append("%s: uncompressed sha256 %s, config diff_id %s" % (layer["digest"], got, diff_id))
    if bad:
        fail(bad, "OCI layout %s" % a.layout)
    print("ok %d blobs hash to their digests and sizes; every layer decompresses to its diff_id" % n)


def resolve(path, paths, depth=0):
    """Follows symlinks in every component inside the image. Returns (resolved
    path or None, reason)."""
    if depth > 40:
        return None, "symlink loop"
    parts = [p for p in path.strip("/").split("/") if p]
    cur = ""
    for i, part in enumerate(parts):
        cur = cur + "/" + part
        ti = paths.get(cur)
        if ti is None:
            return None, "%s does not exist" % cur
        if ti.issym():
            target = ti.linkname
            if not target.startswith("/") and escapes(posixpath.dirname(cur), target):
                return None, "%s -> %s climbs above the image root" % (cur, target)
            nxt = posixpath.normpath(target if target.startswith("/") else posixpath.join(posixpath.dirname(cur), target))
            rest = "/".join(parts[i + 1:])
            return resolve(nxt + ("/" + rest if rest else ""), paths, depth + 1)
    return cur or "/", ""


def escapes(base, target):
    """True when relative `target` from directory `base` goes above `/`."""
    depth = len([p for p in base.split("/") if p])
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def with_parents(entries):
    paths = dict(entries)
    for p in list(paths):
        d = posixpath.dirname(p)
        while d != "/" and d not in paths:
            ti = tarfile.TarInfo(d.lstrip("/"))
            ti.type = tarfile.DIRTYPE
            paths[d] = ti
            d = posixpath.dirname(d)
    return paths


def cmd_export(a):
    twice = paths_twice(a.layer)
    if twice:
        fail(twice, "a path in two of our layers (or twice in one)")
    union, origin = {}, {}
    for blob in [a.base] + a.layer:
        for path, ti in entries_of(blob).items():
            if posixpath.basename(path).startswith(".wh."):
                fail([path], "whiteout in layer %s (none expected)" % blob)
            union[path] = ti
            origin[path] = blob
    union.pop("/", None)
    exported = entries_of(a.export)
    exported.pop("/", None)
    lost = sorted(set(union) - set(exported))
    extra = sorted(set(exported) - set(union))
    differ = sorted("%s: layers %s, export %s" % (p, summary(union[p]), summary(exported[p])) for p in set(union) & set(exported) if summary(union[p]) != summary(exported[p]))
    bad = ["lost: " + p for p in lost] + ["extra: " + p for p in extra] + ["differs: " + d for d in differ]
    if bad:
        fail(bad, "crane export differs from the union of the layers")
    paths = with_parents(exported)
    links = [p for p, ti in exported.items() if ti.issym()]
    dangling, tolerated = [], []
    for p in links:
        got, why = resolve(p, paths)
        if got is None:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(p), exported[p].linkname)) + "/"
            base_trim = origin[p] == a.base and target.startswith(BASE_TRIMMED)
            if "climbs" not in why and (target.startswith(RUNTIME_MOUNTS) or base_trim):
                tolerated.append(p)
            else:
                dangling.append("%s -> %s (%s): %s" % (p, exported[p].linkname, origin[p], why))
    if dangling:
        fail(dangling, "symlinks that do not resolve inside the image")
    ours = sum(1 for p in links if origin[p] != a.base)
    print("ok %d paths = union of base + %d layers (nothing lost, nothing extra, same metadata, no path twice in our layers); %d of %d symlinks resolve inside the image (all %d of our layers'); base links into runtime mounts or trimmed folders: %s" % (len(exported), len(a.layer), len(links) - len(tolerated), len(links), ours, ", ".join(sorted(tolerated)) or "-"))


def cmd_rootfs(a):
    # Layers need not carry their parent directories; an unpacker creates them.
    exported = set(with_parents(entries_of(a.export))) - {"/"}
    found = set()
    for dirpath, dirnames, filenames in os.walk(a.rootfs):
        for n in dirnames + filenames:
            found.add("/" + os.path.relpath(os.path.join(dirpath, n), a.rootfs))
    lost, extra = sorted(exported - found), sorted(found - exported)
    if lost or extra:
        fail(["lost: " + p for p in lost] + ["extra: " + p for p in extra], "unpacked tree %s differs from crane export" % a.rootfs)
    print("ok %d paths, exactly the exported ones" % len(found))


def cmd_same_blobs(a):
    manifest = load_json(a.manifest)
    with tarfile.open(a.docker_save) as t:
        saved = json.load(t.extractfile("manifest.json"))[0]
        digests = [sha256_stream(t.extractfile(name))[0] for name in saved["Layers"]]
    ours = [m["digest"] for m in manifest["layers"]]
    if digests != ours:
        fail(["docker-save %s" % d for d in digests] + ["registry    %s" % d for d in ours], "layer blobs differ")
    print("ok %d layer blobs byte-identical (%s)" % (len(ours), ", ".join(d[7:19] for d in ours)))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("descriptors")
    s.add_argument("--manifest", required=True)
    s.add_argument("--config", required=True)
    s.add_argument("--descriptor", action="append", required=True)
    s = sub.add_parser("layout")
    s.add_argument("--layout", required=True)
    s = sub.add_parser("export")
    s.add_argument("--export", required=True)
    s.add_argument("--base", required=True)
    s.add_argument("--layer", action="append", required=True)
    s = sub.add_parser("rootfs")
    s.add_argument("--rootfs", required=True)
    s.add_argument("--export", required=True)
    s = sub.add_parser("same-blobs")
    s.add_argument("--docker-save", required=True)
    s.add_argument("--manifest", required=True)
    a = p.parse_args(argv)
    {"descriptors": cmd_descriptors, "layout": cmd_layout, "export": cmd_export, "rootfs": cmd_rootfs, "same-blobs": cmd_same_blobs}[a.cmd](a)


if __name__ == "__main__":
    main(sys.argv[1:])
