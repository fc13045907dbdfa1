"""Checks the multi-arch image index of e2e/multi's server (run by test.sh).

Usage: index_check.py INDEX.json AMD64_DIGEST AMD64.manifest.json ARM64_DIGEST ARM64.manifest.json ARM64_EXPORT.tar

- the index lists exactly the two images, linux/amd64 and linux/arm64, by digest;
- every ELF file of the arm64 image's file system (`crane export --platform linux/arm64`
  of the index: base layer included) is an aarch64 file: no host leak;
- prints the layers the two images share (same blob digest).
"""

import json
import struct
import sys
import tarfile

EM_AARCH64 = 183


def main(argv):
    index_path, amd64_digest, amd64_manifest, arm64_digest, arm64_manifest, export = argv
    failures = []
    with open(index_path) as f:
        index = json.load(f)
    got = sorted(
        (m["platform"]["os"], m["platform"]["architecture"], m["digest"]) for m in index.get("manifests", [])
    )
    want = sorted([("linux", "amd64", amd64_digest), ("linux", "arm64", arm64_digest)])
    print("index %s: %s" % (index.get("mediaType"), ", ".join("%s/%s %s" % (o, a, d[:19]) for o, a, d in got)))
    if got != want:
        failures.append("index manifests %s, want %s" % (got, want))
    layers = []
    for path in (amd64_manifest, arm64_manifest):
        with open(path) as f:
            layers.append([layer["digest"] for layer in json.load(f)["layers"]])
    shared = [d for d in layers[1] if d in layers[0]]
    print("layers: amd64 %d, arm64 %d, shared by both: %d %s" % (
        len(layers[0]), len(layers[1]), len(shared), " ".join(d[:19] for d in shared)))
    machines = {}
    with tarfile.open(export, mode="r:*") as tar:
        for m in tar:
            if not m.isfile():
                continue
            head = tar.extractfile(m).read(20)
            if head[:4] == b"\x7fELF" and len(head) >= 20:
                endian = "<" if head[5] == 1 else ">"
                machine = struct.unpack(endian + "H", head[18:20])[0]
                machines[machine] = machines.get(machine, 0) + 1
                if machine != EM_AARCH64:
                    failures.append("%s: ELF machine %d, not aarch64" % (m.name, machine))
    print("ELF files in the arm64 image (base included), by e_machine: %s" % machines)
    if not machines.get(EM_AARCH64):
        failures.append("no aarch64 ELF file in the arm64 image")
    for f in failures[:20]:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
