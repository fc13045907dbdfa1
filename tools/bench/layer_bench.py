#!/usr/bin/env python3
"""Layer-writing benchmark of pyimage against GNU tar, bsdtar, gzip, pigz and zstd.

Run it through tools/bench/layer_bench.sh (prepares the trees, builds the release binary).
Every case runs its commands in interleaved rounds (A B C, A B C, ...) after one warm-up round,
so load that comes and goes on a shared machine hits every command alike. For each command it
records wall time and CPU time (user + system of the child processes) and prints medians,
min/max, output sizes and ratios as Markdown.
"""
import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time

GTAR = ("tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax "
        "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime")


def sh(cmd):
    """Runs a shell command; returns (wall seconds, cpu seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_case(name, commands, runs):
    """commands: list of (label, shell command, output file or None)."""
    print(f"[{name}] {len(commands)} commands x {runs} rounds", file=sys.stderr)
    for _, cmd, _ in commands:  # warm-up round: page cache, binaries
        sh(cmd)
    walls = {label: [] for label, _, _ in commands}
    cpus = {label: [] for label, _, _ in commands}
    for _ in range(runs):
        for label, cmd, _ in commands:
            w, c = sh(cmd)
            walls[label].append(w)
            cpus[label].append(c)
    out = {}
    for label, cmd, path in commands:
        out[label] = {
            "command": cmd,
            "wall": walls[label],
            "cpu": cpus[label],
            "median": statistics.median(walls[label]),
            "cpu_median": statistics.median(cpus[label]),
            "size": os.path.getsize(path) if path else None,
        }
    return out


def tree_stats(path):
    files = 0
    total = 0
    for d, _, fs in os.walk(path):
        for f in fs:
            files += 1
            total += os.path.getsize(os.path.join(d, f))
    return files, total


def mib(n):
    return f"{n / 1048576:.1f}" if n is not None else ""


def md(s):
    return s.replace("|", "\\|")


def version(args):
    try:
        out = subprocess.run(args, capture_output=True, text=True, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def packages_for_merge(sp, count):
    """The `count` largest top-level directories of site-packages (not dist-info), each with
    its NAME-*.dist-info directories."""
    dirs = []
    for e in os.listdir(sp):
        p = os.path.join(sp, e)
        if os.path.isdir(p) and not e.endswith(".dist-info") and e not in ("bin", "__pycache__"):
            dirs.append((tree_stats(p)[1], e))
    dirs.sort(key=lambda x: (-x[0], x[1]))
    chosen = [e for _, e in dirs[:count]]
    out = []
    for e in chosen:
        infos = sorted(d for d in os.listdir(sp)
                       if d.endswith(".dist-info") and d.lower().startswith(e.lower() + "-"))
        out.append((e, [e] + infos))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", help="write raw results here")
    ap.add_argument("--report-only", metavar="RESULTS.json",
                    help="print the report of an earlier run's --json file without running")
    args = ap.parse_args()
    if args.report_only:
        with open(args.report_only) as f:
            report(json.load(f))
        return

    cache = args.cache
    work = os.path.join(cache, "work")
    o = os.path.join(work, "out")
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(o)
    b = shlex.quote(args.bin)
    q = shlex.quote
    load_before = os.getloadavg()
    results = {}

    for tree in ("site-packages", "small"):
        src = os.path.join(cache, tree)
        p = f"{b} layer --tree {q(src)}=/app/site-packages"
        results[f"{tree}/none"] = run_case(f"{tree} none", [
            ("pyimage none", f"{p} --compression none --output {o}/p.tar --descriptor {o}/p.json", f"{o}/p.tar"),
            ("GNU tar", f"{GTAR} -cf {o}/t.tar -C {q(src)} .", f"{o}/t.tar"),
            ("GNU tar + sha256 (same work: diff_id)", f"{GTAR} -cf - -C {q(src)} . | tee {o}/ts.tar | sha256sum", f"{o}/ts.tar"),
            # the fastest standard hasher here: OpenSSL's SHA-256 (SHA-NI / AVX2), far cheaper than coreutils
            ("GNU tar + openssl sha256", f"{GTAR} -cf - -C {q(src)} . | tee {o}/to.tar | openssl dgst -sha256", f"{o}/to.tar"),
            ("bsdtar", f"bsdtar --uid 0 --gid 0 -cf {o}/b.tar -C {q(src)} .", f"{o}/b.tar"),
        ], args.runs)
        results[f"{tree}/gzip"] = run_case(f"{tree} gzip", [
            ("pyimage gzip-6", f"{p} --compression gzip --level 6 --output {o}/p.tar.gz --descriptor {o}/pg.json", f"{o}/p.tar.gz"),
            ("pyimage gzip-6 --threads 1", f"{p} --compression gzip --level 6 --threads 1 --output {o}/p1.tar.gz --descriptor {o}/pg1.json", f"{o}/p1.tar.gz"),
            ("tar | gzip -6", f"{GTAR} -cf - -C {q(src)} . | gzip -6 -n > {o}/t.tar.gz", f"{o}/t.tar.gz"),
            ("tar | pigz -6", f"{GTAR} -cf - -C {q(src)} . | pigz -6 -n > {o}/tp.tar.gz", f"{o}/tp.tar.gz"),
            ("bsdtar -z (gzip-6)", f"bsdtar --uid 0 --gid 0 -czf {o}/b.tar.gz --options gzip:compression-level=6 -C {q(src)} .", f"{o}/b.tar.gz"),
        ], args.runs)
        results[f"{tree}/zstd"] = run_case(f"{tree} zstd", [
            ("pyimage zstd-3", f"{p} --compression zstd --level 3 --output {o}/p.tar.zst --descriptor {o}/pz.json", f"{o}/p.tar.zst"),
            ("tar | zstd -3 -T0", f"{GTAR} -cf - -C {q(src)} . | zstd -q -3 -T0 > {o}/t.tar.zst", f"{o}/t.tar.zst"),
        ], args.runs)

    # Merge of 20 per-package gzip layers (built beforehand, not timed) vs re-tarring them.
    sp = os.path.join(cache, "site-packages")
    pkgs = packages_for_merge(sp, 20)
    merge_args = []
    retar_trees = []
    retar_dirs = []
    for name, dirs in pkgs:
        trees = []
        for d in dirs:
            trees += ["--tree", f"{os.path.join(sp, d)}=/app/site-packages/{d}"]
            retar_dirs.append(d)
        lp = os.path.join(work, f"pkg-{name}.tar.gz")
        dp = os.path.join(work, f"pkg-{name}.json")
        subprocess.run([args.bin, "layer", *trees, "--package", name, "--compression", "gzip",
                        "--level", "6", "--output", lp, "--descriptor", dp], check=True)
        merge_args.append(f"{lp}={dp}")
        retar_trees += trees
    m_args = " ".join(q(a) for a in merge_args)
    r_trees = " ".join(q(a) for a in retar_trees)
    r_dirs = " ".join(q(d) for d in retar_dirs)
    results["merge"] = run_case("merge", [
        ("pyimage merge", f"{b} merge --output {o}/m.tar.gz --descriptor {o}/m.json {m_args}", f"{o}/m.tar.gz"),
        ("pyimage layer (re-tar, gzip-6)", f"{b} layer {r_trees} --compression gzip --level 6 --output {o}/r.tar.gz --descriptor {o}/r.json", f"{o}/r.tar.gz"),
        ("tar | gzip -6", f"{GTAR} -cf - -C {q(sp)} {r_dirs} | gzip -6 -n > {o}/rt.tar.gz", f"{o}/rt.tar.gz"),
        ("tar | pigz -6", f"{GTAR} -cf - -C {q(sp)} {r_dirs} | pigz -6 -n > {o}/rp.tar.gz", f"{o}/rp.tar.gz"),
    ], args.runs)
    merged_names = subprocess.run(["tar", "-tzf", f"{o}/m.tar.gz"], capture_output=True, text=True, check=True).stdout
    retar_names = subprocess.run(["tar", "-tzf", f"{o}/r.tar.gz"], capture_output=True, text=True, check=True).stdout
    same_listing = sorted(merged_names.splitlines()) == sorted(retar_names.splitlines())
    load_after = os.getloadavg()

    data = {
        "results": results,
        "load": [load_before, load_after],
        "runs": args.runs,
        "cache": cache,
        "merge_packages": [n for n, _ in pkgs],
        "same_listing": same_listing,
        "tools": [version(v) for v in (
            [args.bin, "--version"], ["tar", "--version"], ["bsdtar", "--version"],
            ["gzip", "--version"], ["pigz", "--version"], ["zstd", "--version"])],
        "trees": {t: tree_stats(os.path.join(cache, t)) for t in ("site-packages", "small")},
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    report(data)


def report(data):
    results = data["results"]
    load_before, load_after = data["load"]
    pkgs = data["merge_packages"]
    same_listing = data["same_listing"]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    print(f"- machine: {os.cpu_count()} cores ({cpu}), {int(mem) // 1048576} GiB RAM, "
          f"{platform.system()} {platform.release()}")
    print(f"- load average (1/5/15 min) before: {' '.join(f'{x:.1f}' for x in load_before)}, "
          f"after: {' '.join(f'{x:.1f}' for x in load_after)}")
    print("- tools: " + "; ".join(data["tools"]))
    print(f"- {data['runs']} interleaved rounds per case after one warm-up round; medians of wall "
          "and CPU (user+sys) time")
    print()
    verdicts = []
    for tree in ("site-packages", "small"):
        files, total = data["trees"][tree]
        print(f"#### {tree}: {files} files, {mib(total)} MiB")
        print()
        print("| case | command | wall median s | wall min–max s | CPU median s | output MiB | pyimage speed-up (wall) |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for case, ref in (("none", "pyimage none"), ("gzip", "pyimage gzip-6"), ("zstd", "pyimage zstd-3")):
            rs = results[f"{tree}/{case}"]
            for label, r in rs.items():
                speed = "" if label == ref else f"{r['median'] / rs[ref]['median']:.2f}x"
                print(f"| {case} | {md(label)} | {r['median']:.3f} | {min(r['wall']):.3f}–{max(r['wall']):.3f} | "
                      f"{r['cpu_median']:.3f} | {mib(r['size'])} | {speed} |")
        print()
        n, g, z = results[f"{tree}/none"], results[f"{tree}/gzip"], results[f"{tree}/zstd"]

        def ratio(rs, a, b_, key="median"):
            return rs[a][key] / rs[b_][key]
        verdicts.append(
            f"{tree}: `none` pyimage / GNU tar = {ratio(n, 'pyimage none', 'GNU tar'):.2f}x wall, "
            f"{ratio(n, 'pyimage none', 'GNU tar', 'cpu_median'):.2f}x CPU; / GNU tar + sha256 = "
            f"{ratio(n, 'pyimage none', 'GNU tar + sha256 (same work: diff_id)'):.2f}x wall, "
            f"{ratio(n, 'pyimage none', 'GNU tar + sha256 (same work: diff_id)', 'cpu_median'):.2f}x CPU; "
            f"/ GNU tar + openssl sha256 = {ratio(n, 'pyimage none', 'GNU tar + openssl sha256'):.2f}x wall, "
            f"{ratio(n, 'pyimage none', 'GNU tar + openssl sha256', 'cpu_median'):.2f}x CPU (target ≤ 1.0x)")
        verdicts.append(
            f"{tree}: gzip-6 speed-up over `tar | gzip -6` = {ratio(g, 'tar | gzip -6', 'pyimage gzip-6'):.2f}x wall, "
            f"{ratio(g, 'tar | gzip -6', 'pyimage gzip-6', 'cpu_median'):.2f}x CPU; over `tar | pigz -6` = "
            f"{ratio(g, 'tar | pigz -6', 'pyimage gzip-6'):.2f}x wall, "
            f"{ratio(g, 'tar | pigz -6', 'pyimage gzip-6', 'cpu_median'):.2f}x CPU; size "
            f"{g['pyimage gzip-6']['size'] / g['tar | gzip -6']['size']:.3f}x of gzip's (target ≥ 3x at ≤ 1.0x size)")
        verdicts.append(
            f"{tree}: zstd-3 pyimage / `tar | zstd -3 -T0` = {ratio(z, 'pyimage zstd-3', 'tar | zstd -3 -T0'):.2f}x wall, "
            f"{ratio(z, 'pyimage zstd-3', 'tar | zstd -3 -T0', 'cpu_median'):.2f}x CPU; size "
            f"{z['pyimage zstd-3']['size'] / z['tar | zstd -3 -T0']['size']:.3f}x (target ≤ 1.0x)")
    m = results["merge"]
    print(f"#### merge: {len(pkgs)} per-package gzip layers of site-packages "
          f"({', '.join(pkgs)})")
    print()
    print("| command | wall median s | wall min–max s | CPU median s | output MiB | merge speed-up (wall) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    base = m["pyimage merge"]["median"]
    for label, r in m.items():
        print(f"| {md(label)} | {r['median']:.3f} | {min(r['wall']):.3f}–{max(r['wall']):.3f} | "
              f"{r['cpu_median']:.3f} | {mib(r['size'])} | {r['median'] / base:.1f}x |")
    print()
    print(f"Merged and re-tarred layers list the same paths in GNU tar: {'yes' if same_listing else 'NO'}.")
    print()
    def sp(label, key="median"):
        return m[label][key] / m["pyimage merge"][key]
    verdicts.append(
        f"merge: speed-up over re-tarring with pyimage = {sp('pyimage layer (re-tar, gzip-6)'):.1f}x wall, "
        f"{sp('pyimage layer (re-tar, gzip-6)', 'cpu_median'):.1f}x CPU; over `tar | gzip -6` = "
        f"{sp('tar | gzip -6'):.1f}x wall, {sp('tar | gzip -6', 'cpu_median'):.1f}x CPU; over `tar | pigz -6` = "
        f"{sp('tar | pigz -6'):.1f}x wall, {sp('tar | pigz -6', 'cpu_median'):.1f}x CPU (target ≥ 5x)")
    print("#### Against the targets")
    print()
    for v in verdicts:
        print(f"- {v}")


if __name__ == "__main__":
    main()
