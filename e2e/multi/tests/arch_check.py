"""Checks the linux/arm64 layers of e2e/multi against the linux/amd64 ones (run by test.sh).

Usage: arch_check.py --amd64 LAYER... --arm64 LAYER...   (image order; descriptors LAYER.json)

- the arm64 layers were built in another configuration than the amd64 ones (paths);
- the pure-Python pip layers (all but the last, the app layer) have the same digests;
- no ELF file in the arm64 layers is for another machine than aarch64 (no host leak).
"""

import json
import os
import struct
import sys
import tarfile

EM_AARCH64 = 183


def config_dir(path):
    parts = path.split("/")
    return parts[parts.index("bazel-out") + 1] if "bazel-out" in parts else "?"


def elf_machines(layer):
    """(name, e_machine) of every ELF file of a gzip or uncompressed layer."""
    out = []
    with tarfile.open(layer, mode="r:*") as tar:
        for m in tar:
            if not m.isfile():
                continue
            head = tar.extractfile(m).read(20)
            if head[:4] == b"\x7fELF" and len(head) >= 20:
                endian = "<" if head[5] == 1 else ">"
                out.append((m.name, struct.unpack(endian + "H", head[18:20])[0]))
    return out


def main(argv):
    amd64 = argv[argv.index("--amd64") + 1 : argv.index("--arm64")]
    arm64 = argv[argv.index("--arm64") + 1 :]
    failures = []
    if len(amd64) != len(arm64) or not arm64:
        failures.append("layer counts differ: %d amd64, %d arm64" % (len(amd64), len(arm64)))
    app_cfg = (config_dir(amd64[-1]), config_dir(arm64[-1]))
    print("app layer configurations: amd64 %s, arm64 %s" % app_cfg)
    if app_cfg[0] == app_cfg[1]:
        failures.append("the arm64 layers were built in the amd64 configuration")
    for a, b in zip(amd64[:-1], arm64[:-1]):
        with open(a + ".json") as f:
            da = json.load(f)
        with open(b + ".json") as f:
            db = json.load(f)
        same = da["digest"] == db["digest"]
        print("%-30s %s %s" % (os.path.basename(b), db["digest"][:19], "same" if same else "DIFFERENT"))
        if not same:
            failures.append("%s differs from %s" % (b, a))
    elf = 0
    for layer in arm64:
        for name, machine in elf_machines(layer):
            elf += 1
            if machine != EM_AARCH64:
                failures.append("%s in %s: ELF machine %d, not aarch64" % (name, layer, machine))
    print("ELF files in the arm64 layers: %d, all aarch64" % elf if not failures else "")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
