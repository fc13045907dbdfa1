"""Writes a deterministic tar of STAGE/PREFIX to stdout (compress with `gzip -n`).

usage: make_archive.py STAGE PREFIX MTIME
Regular files only (no directory entries), sorted by path, owner 0:0 without
names, mode 0644 or 0755 (executable bit kept), every mtime = MTIME.
"""

import io
import os
import sys
import tarfile


def files_under(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                sys.exit("make_archive.py: %s is not a regular file" % path)
            found.append(os.path.relpath(path, os.path.dirname(root)))
    return sorted(found)


def main(stage, prefix, mtime):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for rel in files_under(os.path.join(stage, prefix)):
            path = os.path.join(stage, rel)
            info = tarfile.TarInfo(rel.replace(os.sep, "/"))
            info.size = os.path.getsize(path)
            info.mtime = int(mtime)
            info.mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(path, "rb") as f:
                tar.addfile(info, f)
    sys.stdout.buffer.write(buf.getvalue())


if __name__ == "__main__":
    main(*sys.argv[1:])
