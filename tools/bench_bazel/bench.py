#!/usr/bin/env python3
"""Bazel-level benchmarks of rules_pyimage (results: docs/performance.md, "Bazel").

  tools/bench_bazel/bench.py [--runs 5] [--only pkgtar,actions,incremental,image,analysis] [--graph-size 1000,5000] [--dir DIR]

Generates benchmark workspaces under DIR (default $PYIMAGE_BENCH_DIR or
/var/tmp/rules_pyimage-bench; outside the checkout so that the root module's
`//...` never sees them), runs them with tools/bazel (or $BAZEL) and prints
medians and ratios side by side:

  pkgtar    the same runfiles packed by rules_pkg's pkg_tar (one .tar.gz per
            binary, gzip) vs py_image_layer (per-package layers + app layer),
            real pip wheels (numpy, pandas and their dependencies) from
            rules_python pip.parse; clean builds (`bazel clean`, analysis
            primed with --nobuild, no disk cache), alternated, medians; for
            N = 1 and N = 10 binaries sharing the packages.
  actions   actions executed (execution log) in a clean build of the layers of
            N = 1, 5, 10 binaries sharing the same packages: PyImageLayer
            package actions must not grow with N.
  incremental  one binary's layers rebuilt after a one-line edit of its
            main file: wall time of `bazel build`, critical path, which
            PyImage* actions ran and their summed wall time (execution log).
  image     the image assembled from one binary's layers by `crane append`
            (an OCI tool, as users without rules_oci would).
  analysis  analysis time of a synthetic pip DAG (--graph-size, default 1,000;
            a list such as 1000,5000 runs each)
            (fake_pypi.bzl, average ~2.5 deps per package): `bazel build
            --nobuild` after a configuration change (packages stay loaded,
            the analysis cache is discarded), for the bare py_binary and for
            its py_image_layer; from Bazel's JSON profile; and the Java heap
            retained after analysing each (`used-heap-size-after-gc`).
"""

import argparse
import collections
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import execlog  # noqa: E402

BAZEL = os.environ.get("BAZEL") or os.path.join(REPO, "tools", "bazel")
N_MAX = 10

PIP_REQUIREMENTS = """\
# Real, larger wheels for the pkg_tar comparison (cp311 manylinux x86_64).
numpy==2.1.3 \\
    --hash=sha256:bc6f24b3d1ecc1eebfbf5d6051faa49af40b03be1aaa781ebdadcbc090b4539b
pandas==2.2.3 \\
    --hash=sha256:c124333816c3a9b03fbeef3a9f230ba9a737e9e5bb4060aa2107a86cc0a497fc
python-dateutil==4.0.0 \\
    --hash=sha256:a5e246f79eb80475e691bf93862cead98decd8a498cf53ba0516fcdc0f50dc1c
pytz==2026.6 \\
    --hash=sha256:7fed3fee8fd6bd4a2b7b75a8d56021d0624127bf69bd5691f115db929ac570b3
tzdata==2026.6 \\
    --hash=sha256:0a10eec6e13ef16b627fabed9a5f2ba61a62b1c67f327305f4e7e412a70b4aec
"""

RC = """\
common --noenable_workspace
common --lockfile_mode=off
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def gen_pip_ws(d):
    write(os.path.join(d, "MODULE.bazel"), f"""\
module(name = "bench_pip")

bazel_dep(name = "rules_pyimage", version = "0.0.0")
local_path_override(module_name = "rules_pyimage", path = "{REPO}")

bazel_dep(name = "rules_python", version = "0.22.1")
bazel_dep(name = "rules_pkg", version = "0.9.1")

pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
pip.parse(
    name = "pypi",
    python_interpreter = "python3.11",
    requirements_lock = "//:requirements.txt",
)
use_repo(pip, "pypi")
""")
    write(os.path.join(d, ".bazelrc"), RC)
    write(os.path.join(d, "requirements.txt"), PIP_REQUIREMENTS)
    build = [
        'load("@pypi//:requirements.bzl", "requirement")',
        'load("@rules_pkg//pkg:tar.bzl", "pkg_tar")',
        'load("@rules_pyimage//py:defs.bzl", "py_image_layer")',
        'load("@rules_python//python:defs.bzl", "py_binary")',
        "",
        'exports_files(["requirements.txt"])',
        "",
    ]
    for i in range(1, N_MAX + 1):
        app = "app_%02d" % i
        write(os.path.join(d, app + ".py"),
              f'"""Benchmark app {i}."""\n\nimport numpy\nimport pandas\n\n'
              f'print("{app}", numpy.__version__, pandas.__version__)\n')
        build.append(f"""\
py_binary(
    name = "{app}",
    srcs = ["{app}.py"],
    main = "{app}.py",
    deps = [requirement("numpy"), requirement("pandas")],
)

py_image_layer(
    name = "{app}_layers",
    binary = ":{app}",
)

pkg_tar(
    name = "{app}_pkg_tar",
    srcs = [":{app}"],
    extension = "tar.gz",
    include_runfiles = True,
    package_dir = "/app",
    strip_prefix = ".",
)
""")
    write(os.path.join(d, "BUILD.bazel"), "\n".join(build))


def gen_graph_ws(d, count):
    write(os.path.join(d, "MODULE.bazel"), f"""\
module(name = "bench_graph")

bazel_dep(name = "rules_pyimage", version = "0.0.0")
local_path_override(module_name = "rules_pyimage", path = "{REPO}")

bazel_dep(name = "rules_python", version = "0.22.1")

fake = use_extension("//:fake_pypi.bzl", "fake_pypi")
fake.graph(name = "fake_pypi", count = {count}, edges = "dag", prefix = "bench-pkg")
use_repo(fake, "fake_pypi")
""")
    write(os.path.join(d, ".bazelrc"), RC)
    with open(os.path.join(REPO, "e2e", "limits", "fake_pypi.bzl"), encoding="utf-8") as f:
        write(os.path.join(d, "fake_pypi.bzl"), f.read())
    write(os.path.join(d, "app.py"), '"""Benchmark app."""\n\nprint("graph")\n')
    write(os.path.join(d, "BUILD.bazel"), """\
load("@fake_pypi//:defs.bzl", "ROOTS")
load("@rules_pyimage//py:defs.bzl", "py_image_layer")
load("@rules_python//python:defs.bzl", "py_binary")

exports_files(["fake_pypi.bzl"])

py_binary(
    name = "app",
    srcs = ["app.py"],
    main = "app.py",
    deps = ROOTS,
)

py_image_layer(
    name = "layers",
    binary = ":app",
)
""")


def bazel(ws, *args, check=True, quiet=True):
    cmd = [BAZEL] + list(args)
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.monotonic() - t0
    if check and p.returncode != 0:
        sys.stderr.write(p.stdout[-6000:])
        raise SystemExit("bazel %s failed in %s (exit %d)" % (" ".join(args), ws, p.returncode))
    if not quiet:
        sys.stdout.write(p.stdout)
    return dt, p.stdout


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(xs):
    return "%.2f s (runs: %s)" % (med(xs), ", ".join("%.2f" % x for x in xs))


# --------------------------------------------------------------------------- pkgtar
def bench_pkgtar(ws, runs, ns):
    # No disk cache, so that "clean" really rebuilds every layer.
    flags = ["--disk_cache=", "--color=no", "--curses=no"]
    sets = {}
    for n in ns:
        apps = ["//:app_%02d" % i for i in range(1, n + 1)]
        sets[("ours", n)] = [a + "_layers" for a in apps]
        sets[("pkg_tar", n)] = [a + "_pkg_tar" for a in apps]
    print("# fetch + first build (not timed)")
    bazel(ws, "build", *flags, *[t for ts in sets.values() for t in ts])
    times = {k: [] for k in sets}
    crit = {k: [] for k in sets}
    order = list(sets)
    for r in range(runs):
        seq = order if r % 2 == 0 else list(reversed(order))
        for key in seq:
            bazel(ws, "clean")
            bazel(ws, "build", "--nobuild", *flags, *sets[key])
            dt, text = bazel(ws, "build", *flags, *sets[key])
            times[key].append(dt)
            m = re.search(r"Critical Path: ([0-9.]+)s", text)
            crit[key].append(float(m.group(1)) if m else float("nan"))
            print("  run %d  %-8s N=%-2d  %.2f s (critical path %.2f s)" % (
                r + 1, key[0], key[1], dt, crit[key][-1]), flush=True)
    sizes = output_sizes(ws, sets, flags)
    print()
    print("## pkg_tar vs py_image_layer, clean builds (`bazel clean`, analysis primed, no disk cache), median of %d" % runs)
    print("| binaries | pkg_tar wall | py_image_layer wall | ratio | pkg_tar critical path | ours critical path | ratio | bytes pkg_tar | bytes ours |")
    print("|---|---|---|---|---|---|---|---|---|")
    result = {}
    for n in ns:
        a, b = med(times[("pkg_tar", n)]), med(times[("ours", n)])
        ca, cb = med(crit[("pkg_tar", n)]), med(crit[("ours", n)])
        result[n] = (a, b, ca, cb)
        print("| %d | %.2f s | %.2f s | %.1f× | %.2f s | %.2f s | %.1f× | %s | %s |" % (
            n, a, b, a / b if b else float("nan"), ca, cb, ca / cb if cb else float("nan"),
            sizes.get(("pkg_tar", n), "?"), sizes.get(("ours", n), "?")))
    for key in order:
        print("  %-8s N=%-2d %s" % (key[0], key[1], fmt(times[key])))
    return result


def output_sizes(ws, sets, flags):
    out = {}
    for key, targets in sets.items():
        bazel(ws, "build", *flags, *targets)
        _, text = bazel(ws, "cquery", "--output=files", *flags, " + ".join(targets), check=False)
        total = 0
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("bazel-out/") and line.endswith((".tar.gz", ".tgz", ".tar", ".tar.zst")):
                p = os.path.join(ws, line)
                if os.path.exists(p):
                    total += os.path.getsize(p)
        out[key] = "%.1f MB" % (total / 1e6)
    return out


# --------------------------------------------------------------------------- actions
def bench_actions(ws, ns, logdir):
    flags = ["--disk_cache=", "--color=no", "--curses=no"]
    rows = []
    for n in ns:
        targets = ["//:app_%02d_layers" % i for i in range(1, n + 1)]
        log = os.path.join(logdir, "actions_n%d.json" % n)
        bazel(ws, "clean")
        bazel(ws, "build", *flags, "--execution_log_json_file=" + log, *targets)
        spawns = execlog.load(log)
        owners = execlog.by_owner(spawns)
        pkg = sum(c for (m, _, o), c in owners.items() if m == "PyImageLayer" and o.startswith("external/"))
        pkg_owners = len({o for (m, _, o) in owners if m == "PyImageLayer" and o.startswith("external/")})
        app = sum(c for (m, _, o), c in owners.items()
                  if m in ("PyImageLayer", "PyImageApp") and not o.startswith("external/"))
        mn = execlog.by_mnemonic(spawns)
        rows.append((n, pkg, pkg_owners, app, mn.get("PyImageMerge", 0), mn.get("PyImageValidate", 0),
                     sum(v for k, v in mn.items() if k.startswith("PyImage")), len(spawns)))
    print()
    print("## Actions executed in a clean build of N binaries' layers (execution log)")
    print("| N | PyImageLayer (packages) | distinct packages | app layers (PyImageApp) | PyImageMerge | PyImageValidate | all PyImage* | all spawns |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %d | %d | %d | %d | %d | %d | %d |" % r)
    return rows


# --------------------------------------------------------------------------- incremental
def bench_incremental(ws, runs, logdir):
    """What a developer waits for after editing app code: one binary's layers
    rebuilt after a one-line edit of its main file (no disk cache)."""
    flags = ["--disk_cache=", "--color=no", "--curses=no"]
    target, src = "//:app_01_layers", os.path.join(ws, "app_01.py")
    with open(src, encoding="utf-8") as f:
        original = f.read()
    bazel(ws, "build", *flags, target)
    walls, crits, spawn_secs, counts = [], [], [], []
    try:
        for r in range(runs):
            with open(src, "w", encoding="utf-8") as f:
                f.write(original + "# edit %d %d\n" % (r, time.time_ns()))
            log = os.path.join(logdir, "incremental_%d.json" % r)
            dt, text = bazel(ws, "build", *flags, "--execution_log_json_file=" + log, target)
            m = re.search(r"Critical Path: ([0-9.]+)s", text)
            spawns = [s for s in execlog.load(log) if s.get("mnemonic", "").startswith("PyImage")]
            walls.append(dt)
            crits.append(float(m.group(1)) if m else float("nan"))
            spawn_secs.append(sum(execlog.walltime(s) for s in spawns))
            counts.append(dict(collections.Counter(s["mnemonic"] for s in spawns)))
            print("  run %d  wall %.2f s  critical path %.2f s  PyImage* actions %s (%.2f s)" % (
                r + 1, dt, crits[-1], counts[-1], spawn_secs[-1]), flush=True)
    finally:
        with open(src, "w", encoding="utf-8") as f:
            f.write(original)
    print()
    print("## Incremental rebuild after a one-line app edit (`//:app_01_layers`, numpy + pandas), median of %d" % runs)
    print("| wall of `bazel build` | critical path | PyImage* actions run | their summed wall time |")
    print("|---|---|---|---|")
    print("| %.2f s | %.2f s | %s | %.2f s |" % (med(walls), med(crits), counts[-1], med(spawn_secs)))
    return med(walls), med(crits), med(spawn_secs), counts[-1]


# --------------------------------------------------------------------------- image
def layer_files(ws, target, flags):
    _, text = bazel(ws, "cquery", "--output=files", *flags, target)
    return [os.path.join(ws, line.strip()) for line in text.splitlines()
            if line.strip().startswith("bazel-out/") and line.strip().endswith((".tar", ".tar.gz", ".tar.zst"))]


def bench_image(ws, runs, logdir):
    """The image assembled from our layers by an OCI tool (`crane append`, as a
    user without rules_oci would; rules_oci's oci_image does the same work)."""
    crane = shutil.which("crane") or "/var/cache/rules_pyimage/tools/bin/crane"
    if not os.path.exists(crane):
        raise SystemExit("bench image: crane not found (tools/setup.d/60-oci-tools installs it)")
    flags = ["--color=no", "--curses=no"]
    bazel(ws, "build", *flags, "//:app_01_layers")
    layers = layer_files(ws, "//:app_01_layers", flags)
    out = os.path.join(logdir, "image.tar")
    cmd = [crane, "append", "--oci-empty-base", "-t", "bench/app:latest", "-o", out]
    for path in layers:
        cmd += ["-f", path]
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - t0)
    size = sum(os.path.getsize(p) for p in layers)
    print()
    print("## Image assembled by `crane append` from the %d layers of `//:app_01_layers` (%.1f MB), median of %d" % (
        len(layers), size / 1e6, runs))
    print("| crane append -o image.tar | %s |" % fmt(times))
    return med(times), len(layers), size


# --------------------------------------------------------------------------- analysis
def profile_phases(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    marks = sorted((e["ts"], e["name"]) for e in events
                   if e.get("cat") == "build phase marker" and "ts" in e)
    end = max((e.get("ts", 0) + e.get("dur", 0)) for e in events if isinstance(e.get("ts"), (int, float)))
    phases = {}
    for i, (ts, name) in enumerate(marks):
        nxt = marks[i + 1][0] if i + 1 < len(marks) else end
        phases[name] = (nxt - ts) / 1e6
    return phases


def analysis_seconds(phases):
    return sum(v for k, v in phases.items() if "analy" in k.lower())


def inputs_stamp(output_base):
    """mtimes of what a concurrent edit could change under our feet: the
    layer tool built by the @pyimage_source repository rule (rebuilt by cargo
    inside Bazel's loading/analysis phase when rust/ changes) and the rules'
    .bzl files. A run during which they changed measured a fetch, not
    analysis, and is repeated."""
    paths = glob.glob(os.path.join(output_base, "external", "*pyimage_source*", "pyimage"))
    paths += glob.glob(os.path.join(REPO, "py", "**", "*.bzl"), recursive=True)
    out = []
    for p in sorted(paths):
        try:
            out.append((p, os.stat(p).st_mtime_ns))
        except OSError:
            pass
    return tuple(out)


def bench_analysis(ws, count, runs, logdir, warmup):
    flags = ["--color=no", "--curses=no"]
    print("# fetch + load the %d-package graph (not timed)" % count)
    bazel(ws, "build", "--nobuild", *flags, "//:app", "//:layers")
    _, ob = bazel(ws, "info", "output_base")
    output_base = ob.strip().splitlines()[-1]
    res = {"app": [], "layers": []}
    wall = {"app": [], "layers": []}
    nonce = int(time.time())
    # The first analyses after a server start run in a cold JVM (2-4x slower):
    # `warmup` untimed rounds first.
    for r in range(-warmup, runs):
        for key, target in (("app", "//:app"), ("layers", "//:layers")):
            for attempt in range(4):
                # Settle: re-run the previous configuration (a no-op unless
                # the tool or the rules changed since, then it refetches).
                bazel(ws, "build", "--nobuild", *flags, "--define=bench_nonce=%d" % nonce, target)
                before = inputs_stamp(output_base)
                nonce += 1
                prof = os.path.join(logdir, "analysis_%s.json" % key)
                # A new --define discards the analysis cache but keeps loaded packages.
                dt, _ = bazel(ws, "build", "--nobuild", *flags, "--define=bench_nonce=%d" % nonce,
                              "--profile=" + prof, target)
                if inputs_stamp(output_base) == before:
                    break
                print("  (discarded: the layer tool or the rules changed during the run; again)", flush=True)
            ph = profile_phases(prof)
            if r < 0:
                print("  warm-up %-6s analysis %.2f s" % (key, analysis_seconds(ph)), flush=True)
                continue
            res[key].append(analysis_seconds(ph))
            wall[key].append(dt)
            print("  run %d  %-6s analysis %.2f s  wall %.2f s" % (r + 1, key, res[key][-1], dt), flush=True)
    # Cold: a fresh Bazel server (JVM not warmed up, packages not loaded;
    # repositories stay fetched on disk): what a first command costs.
    cold = {"app": [], "layers": []}
    for r in range(max(1, min(3, runs))):
        for key, target in (("app", "//:app"), ("layers", "//:layers")):
            bazel(ws, "shutdown")
            nonce += 1
            prof = os.path.join(logdir, "analysis_cold_%s.json" % key)
            bazel(ws, "build", "--nobuild", *flags, "--define=bench_nonce=%d" % nonce, "--profile=" + prof, target)
            cold[key].append(analysis_seconds(profile_phases(prof)))
            print("  cold %d %-6s loading+analysis %.2f s" % (r + 1, key, cold[key][-1]), flush=True)
    heap = analysis_heap(ws, flags, nonce + 1)
    print()
    print("## Analysis of a %s-package pip DAG (`bazel build --nobuild` after a configuration change), median of %d" % (
        "{:,}".format(count), runs))
    print("| target | analysis phase | wall time of the command |")
    print("|---|---|---|")
    print("| py_binary alone | %.2f s | %.2f s |" % (med(res["app"]), med(wall["app"])))
    print("| py_image_layer of it (aspects) | %.2f s | %.2f s |" % (med(res["layers"]), med(wall["layers"])))
    print("| difference (our aspects) | %.2f s | %.2f s |" % (med(res["layers"]) - med(res["app"]), med(wall["layers"]) - med(wall["app"])))
    print()
    print("Cold server (after `bazel shutdown`: loading of the %s repositories' packages + analysis in a cold JVM), median of %d:" % (
        "{:,}".format(count), len(cold["app"])))
    print("| target | loading + analysis phase |")
    print("|---|---|")
    print("| py_binary alone | %.2f s |" % med(cold["app"]))
    print("| py_image_layer of it | %.2f s |" % med(cold["layers"]))
    print()
    print("Retained Java heap after analysis (`bazel info used-heap-size-after-gc`, median of %d):" % len(heap["app"]))
    print("| target | heap after GC |")
    print("|---|---|")
    print("| py_binary alone | %d MB |" % med(heap["app"]))
    print("| py_image_layer of it | %d MB |" % med(heap["layers"]))
    print("| difference (our aspects and actions) | %d MB |" % (med(heap["layers"]) - med(heap["app"])))
    res["cold_app"], res["cold_layers"] = cold["app"], cold["layers"]
    res["heap_app"], res["heap_layers"] = heap["app"], heap["layers"]
    return res, wall


def analysis_heap(ws, flags, nonce, rounds=3):
    """Java heap retained after analysing each target alone: a new --define
    drops the previous configuration's analysis, then `bazel info` runs a full
    GC and reports what is still reachable (loaded packages + this analysis)."""
    heap = {"app": [], "layers": []}
    for _ in range(rounds):
        for key, target in (("app", "//:app"), ("layers", "//:layers")):
            nonce += 1
            bazel(ws, "build", "--nobuild", *flags, "--define=bench_nonce=%d" % nonce, target)
            _, text = bazel(ws, "info", "used-heap-size-after-gc")
            m = re.search(r"^(\d+)MB\s*$", text, re.M)
            heap[key].append(int(m.group(1)) if m else float("nan"))
            print("  heap %-6s %s MB" % (key, heap[key][-1]), flush=True)
    return heap


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="pkgtar,actions,incremental,image,analysis")
    ap.add_argument("--dir", default=os.environ.get("PYIMAGE_BENCH_DIR", "/var/tmp/rules_pyimage-bench"))
    ap.add_argument("--graph-size", default="1000", help="comma-separated package counts, e.g. 1000,5000")
    ap.add_argument("--warmup", type=int, default=3, help="untimed analysis rounds after a server start")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--shutdown", action="store_true", help="stop the benchmark workspaces' Bazel servers at the end")
    a = ap.parse_args(argv)
    only = set(a.only.split(","))
    pip_ws = os.path.join(a.dir, "pip_ws")
    sizes = [int(n) for n in a.graph_size.split(",")]
    # One workspace per size (the first keeps the historical name).
    graph_wss = {n: os.path.join(a.dir, "graph_ws" if i == 0 else "graph_ws_%d" % n) for i, n in enumerate(sizes)}
    gen_pip_ws(pip_ws)
    for n, ws in graph_wss.items():
        gen_graph_ws(ws, n)
    # Logs and profiles inside each workspace: tools/bazel mounts the
    # workspace at the same path in its root, so Bazel can write them there.
    logs = {}
    for ws in [pip_ws] + list(graph_wss.values()):
        logs[ws] = os.path.join(ws, ".bench-logs")
        os.makedirs(logs[ws], exist_ok=True)
    if a.generate_only:
        print(pip_ws)
        print("\n".join(graph_wss.values()))
        return 0
    print("# rules_pyimage Bazel benchmarks: %s, %d CPUs, commit %s" % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(),
        subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()))
    print("# command: tools/bench_bazel/bench.py " + " ".join(argv))
    print("# load average at start: %.1f %.1f %.1f (other work on the machine skews wall times)" % os.getloadavg())
    summary = []
    try:
        if "pkgtar" in only:
            r = bench_pkgtar(pip_ws, a.runs, [1, N_MAX])
            for n, (pt, ours, cpt, cours) in sorted(r.items()):
                summary.append("pkg_tar vs ours, N=%d: wall %.2f s vs %.2f s = %.1f×; critical path %.2f s vs %.2f s = %.1f×" % (
                    n, pt, ours, pt / ours if ours else float("nan"), cpt, cours, cpt / cours if cours else float("nan")))
        if "actions" in only:
            rows = bench_actions(pip_ws, [1, 5, 10], logs[pip_ws])
            summary.append("package PyImageLayer actions for N=1,5,10: %s" % ", ".join(str(r[1]) for r in rows))
        if "incremental" in only:
            w, c, s, counts = bench_incremental(pip_ws, a.runs, logs[pip_ws])
            summary.append("app edit: bazel build %.2f s wall, critical path %.2f s, PyImage* actions %s (%.2f s)" % (w, c, counts, s))
        if "image" in only:
            t, n, size = bench_image(pip_ws, a.runs, logs[pip_ws])
            summary.append("crane append of %d layers (%.1f MB) into an image tarball: %.2f s" % (n, size / 1e6, t))
        if "analysis" in only:
            for n, ws in graph_wss.items():
                res, wall = bench_analysis(ws, n, a.runs, logs[ws], a.warmup)
                summary.append("analysis of %d-package DAG: %.2f s with layers (%.2f s bare py_binary); cold server %.2f s (%.2f s); "
                               "heap after GC %d MB (%d MB bare); goal < 5 s" % (
                                   n, med(res["layers"]), med(res["app"]), med(res["cold_layers"]), med(res["cold_app"]),
                                   med(res["heap_layers"]), med(res["heap_app"])))
                if a.shutdown:
                    bazel(ws, "shutdown", check=False)
    finally:
        if a.shutdown:
            for ws in [pip_ws] + list(graph_wss.values()):
                bazel(ws, "shutdown", check=False)
    print()
    print("# load average at end: %.1f %.1f %.1f" % os.getloadavg())
    print("## Summary")
    for s in summary:
        print("- " + s)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
