#!/usr/bin/env python3
"""Peak memory (RSS) of `pyimage layer` against the number of files in a layer.

  tools/bench/rss_bench.py PYIMAGE [--counts 10000,50000,200000] [--dir DIR]

Generates synthetic trees of N small files (100 files per directory, 64-byte
contents, so the file count, not the bytes, drives the memory), writes one layer
of each with `--compression none` and `gzip`, and reads the child's peak RSS
from wait4()'s rusage (ru_maxrss: KiB on Linux). Prints the peak per count, the
slope between consecutive counts (KiB per additional file) and the fixed part,
as Markdown. The trees stay under DIR (default /var/tmp/rules_pyimage-rss) for
reruns.
"""
import argparse
import os
import subprocess
import sys
import time

FILES_PER_DIR = 100


def make_tree(root, count):
    stamp = os.path.join(root, ".complete")
    if os.path.exists(stamp):
        return
    for i in range(count):
        d = os.path.join(root, "pkg%04d" % (i // FILES_PER_DIR))
        if i % FILES_PER_DIR == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "mod%03d.py" % (i % FILES_PER_DIR)), "w") as f:
            f.write("# file %09d\nVALUE = %d\n" % (i, i) + "#" * 32 + "\n")
    open(stamp, "w").close()


def peak_rss_kib(cmd):
    """Runs cmd; returns (peak RSS in KiB, wall seconds) of that child alone."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("failed: %s" % " ".join(cmd))
    return usage.ru_maxrss, wall


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pyimage")
    ap.add_argument("--counts", default="10000,50000,200000")
    ap.add_argument("--dir", default="/var/tmp/rules_pyimage-rss")
    ap.add_argument("--runs", type=int, default=3, help="runs per case; the median peak is reported")
    a = ap.parse_args(argv)
    counts = [int(c) for c in a.counts.split(",")]
    print("# pyimage layer peak RSS: %s, %d CPUs, load average %.1f %.1f %.1f" % (
        (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count()) + os.getloadavg()))
    print("# command: tools/bench/rss_bench.py " + " ".join(argv))
    rows = {}
    for n in counts:
        tree = os.path.join(a.dir, "tree-%d" % n)
        make_tree(tree, n)
        for comp in ("none", "gzip"):
            out = os.path.join(a.dir, "out-%d-%s.tar" % (n, comp))
            cmd = [a.pyimage, "layer", "--tree", "%s=/app" % tree, "--exclude", ".complete",
                   "--compression", comp, "--output", out, "--descriptor", out + ".json"]
            peaks = sorted(peak_rss_kib(cmd) for _ in range(a.runs))
            rows[(n, comp)] = peaks[len(peaks) // 2]
            print("  %7d files %-4s peak %8d KiB  wall %.2f s" % ((n, comp) + rows[(n, comp)]), flush=True)
    print()
    print("| files | compression | peak RSS | KiB per file above the previous count |")
    print("| ---: | --- | ---: | ---: |")
    for comp in ("none", "gzip"):
        prev = None
        for n in counts:
            kib = rows[(n, comp)][0]
            slope = "" if prev is None else "%.3f" % ((kib - prev[1]) / (n - prev[0]))
            print("| %d | %s | %.1f MiB | %s |" % (n, comp, kib / 1024, slope))
            prev = (n, kib)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
