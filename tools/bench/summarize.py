#!/usr/bin/env python3
"""Prints the medians, sizes and ratios of tools/bench/layer_bench.sh as Markdown tables."""
import json
import os
import platform
import subprocess
import sys


def load(jdir, name):
    with open(os.path.join(jdir, name + ".json")) as f:
        data = json.load(f)
    return {r["command"]: r for r in data["results"]}


def sizes(jdir):
    out = {}
    with open(os.path.join(jdir, "sizes.txt")) as f:
        for line in f:
            tree, case, tool, size = line.split()
            out[(tree, case, tool)] = int(size)
    return out


def md(s):
    return s.replace("|", "\\|")


def mib(n):
    return f"{n / 1048576:.1f}"


def cmd(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def main():
    jdir, cache = sys.argv[1], sys.argv[2]
    sz = sizes(jdir)
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    print(f"machine: {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}")
    print("tools: " + "; ".join([
        cmd(["tar", "--version"]).splitlines()[0],
        cmd(["bsdtar", "--version"]),
        cmd(["gzip", "--version"]).splitlines()[0],
        cmd(["pigz", "--version"]) or "pigz",
        cmd(["zstd", "--version"]),
        cmd(["hyperfine", "--version"]),
    ]))
    print()
    verdicts = []
    for tree in ("site-packages", "small"):
        files = sum(len(fs) for _, _, fs in os.walk(os.path.join(cache, tree)))
        total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(cache, tree)) for f in fs)
        print(f"### {tree}: {files} files, {mib(total)} MiB")
        print()
        print("| case | tool | median s | min s | max s | output MiB | time ratio pyimage / tool |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        rows = [
            ("none", "pyimage none", None, ("none", "pyimage")),
            ("none", "GNU tar", "pyimage none", ("none", "tar")),
            ("none", "bsdtar", "pyimage none", ("none", "bsdtar")),
            ("gzip", "pyimage gzip-6", None, ("gzip", "pyimage")),
            ("gzip", "pyimage gzip-6 1 thread", "pyimage gzip-6", ("gzip", "pyimage-1t")),
            ("gzip", "tar | gzip -6", "pyimage gzip-6", ("gzip", "gzip")),
            ("gzip", "tar | pigz -6", "pyimage gzip-6", ("gzip", "pigz")),
            ("zstd", "pyimage zstd-3", None, ("zstd", "pyimage")),
            ("zstd", "tar | zstd -3 -T0", "pyimage zstd-3", ("zstd", "zstd")),
        ]
        data = {c: load(jdir, f"{tree}-{c}") for c in ("none", "gzip", "zstd")}
        for case, tool, ref, size_key in rows:
            r = data[case][tool]
            ratio = ""
            if ref:
                ratio = f"{data[case][ref]['median'] / r['median']:.2f}"
            size = sz.get((tree, *size_key))
            print(f"| {case} | {md(tool)} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | "
                  f"{mib(size) if size else ''} | {ratio} |")
        print()
        p_none, t_none = data["none"]["pyimage none"]["median"], data["none"]["GNU tar"]["median"]
        p_gz, t_gz = data["gzip"]["pyimage gzip-6"]["median"], data["gzip"]["tar | gzip -6"]["median"]
        p_zs, t_zs = data["zstd"]["pyimage zstd-3"]["median"], data["zstd"]["tar | zstd -3 -T0"]["median"]
        gz_size = sz[(tree, "gzip", "pyimage")] / sz[(tree, "gzip", "gzip")]
        verdicts += [
            f"{tree}: uncompressed pyimage/GNU tar time = {p_none / t_none:.2f}x (target <= 1.0x)",
            f"{tree}: gzip-6 speed-up over tar|gzip -6 = {t_gz / p_gz:.2f}x (target >= 3x), size ratio {gz_size:.3f} (target <= 1.0)",
            f"{tree}: zstd-3 pyimage/(tar|zstd -3 -T0) time = {p_zs / t_zs:.2f}x (target <= 1.0x)",
        ]
    m = load(jdir, "merge")
    print("### merge: 20 per-package gzip layers of site-packages")
    print()
    print("| tool | median s | min s | max s | output MiB | speed-up of merge |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    merge_t = m["pyimage merge 20"]["median"]
    for tool, size_key in (("pyimage merge 20", ("merge", "merge", "pyimage")),
                           ("pyimage re-tar 20 (gzip-6)", ("merge", "retar", "pyimage")),
                           ("tar | gzip -6 of the 20", None),
                           ("tar | pigz -6 of the 20", None)):
        r = m[tool]
        size = sz.get(size_key) if size_key else None
        print(f"| {md(tool)} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | "
              f"{mib(size) if size else ''} | {r['median'] / merge_t:.1f}x |")
    print()
    verdicts.append(
        f"merge: speed-up over pyimage re-tar = {m['pyimage re-tar 20 (gzip-6)']['median'] / merge_t:.1f}x, "
        f"over tar|gzip -6 = {m['tar | gzip -6 of the 20']['median'] / merge_t:.1f}x, "
        f"over tar|pigz -6 = {m['tar | pigz -6 of the 20']['median'] / merge_t:.1f}x (target >= 5x)")
    print("### verdicts")
    print()
    for v in verdicts:
        print(f"- {v}")


if __name__ == "__main__":
    main()
