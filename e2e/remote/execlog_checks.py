#!/usr/bin/env python3
"""Checks of e2e/remote on Bazel execution logs (`--execution_log_json_file`).

Spawns are keyed by their declared outputs (a local spawn carries no action digest
when no remote is configured), and only `PyImage*` spawns (the rules' own actions:
layers, descriptors, plans, reports, validation) are considered.

  execlog_checks.py compare LOCAL REMOTE    same outputs, same digests; every spawn of
                                            REMOTE ran on the remote executor
  execlog_checks.py same LOG_A LOG_B        every output in both logs has the same digest
  execlog_checks.py all-hits LOG            every spawn was a remote cache hit
  execlog_checks.py none LOG                no spawn ran at all (nothing re-executed)
  execlog_checks.py platform LOG K=V...     every spawn asked for exactly these
                                            platform properties
  execlog_checks.py counts LOG              JSON: executed / remote_hits / total
  execlog_checks.py layers DESCRIPTOR...    TSV: name, digest, size of each layer
Each check prints what it saw and exits 1 when it does not hold.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "bench_bazel"))
import execlog  # noqa: E402

OURS = re.compile(r"^PyImage")


def ours(path):
    return [s for s in execlog.load(path) if OURS.match(s.get("mnemonic", ""))]


def output_digests(spawns):
    """{output path: sha256} over the spawns' actual outputs."""
    out = {}
    for s in spawns:
        for o in s.get("actualOutputs", []) or []:
            d = o.get("digest") or {}
            if o.get("path"):
                out[o["path"]] = d.get("hash", "")
    return out


def cache_hit(s):
    """Bazel 7 marks a remote cache hit with runner "remote cache hit" (and remoteCacheHit)."""
    return bool(s.get("remoteCacheHit", False)) or s.get("runner", "") == "remote cache hit"


def executed_remotely(s):
    return s.get("runner", "") == "remote" and not cache_hit(s)


def cmd_compare(local_log, remote_log):
    local, remote = ours(local_log), ours(remote_log)
    a, b = output_digests(local), output_digests(remote)
    ok = bool(a)
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            print("  DIFFERENT  %s\n    local  %s\n    remote %s" % (path, a.get(path), b.get(path)))
            ok = False
    not_remote = [s for s in remote if not executed_remotely(s)]
    for s in not_remote:
        print("  NOT REMOTE %s (runner %r, cache hit %s)" % (s.get("mnemonic"), s.get("runner"), s.get("remoteCacheHit")))
    ok = ok and not not_remote and len(local) == len(remote)
    print("%s: %d local and %d remote PyImage* spawns, %d outputs compared, %d differ, %d not run remotely"
          % ("PASS" if ok else "FAIL", len(local), len(remote), len(a), sum(a.get(p) != b.get(p) for p in set(a) | set(b)), len(not_remote)))
    return ok


def cmd_same(log_a, log_b):
    a, b = output_digests(ours(log_a)), output_digests(ours(log_b))
    common = sorted(set(a) & set(b))
    bad = [p for p in common if a[p] != b[p]]
    for p in bad:
        print("  DIFFERENT  %s\n    %s\n    %s" % (p, a[p], b[p]))
    ok = bool(common) and not bad and set(a) == set(b)
    print("%s: %d outputs in common (%d and %d in all), %d differ" % ("PASS" if ok else "FAIL", len(common), len(a), len(b), len(bad)))
    return ok


def cmd_layers(plan, *descriptors):
    """Name, digest and size of each layer. A layer is named by its file (`<index>_<group>`,
    or a package fragment's `<name>-<version>`), except the interpreter layer: its file is
    shared by every tier with its settings and names no group, so the plan names it."""
    with open(plan, encoding="utf-8") as f:
        kinds = {l["descriptor"]: (l["kind"], l["group"]) for l in json.load(f)["layers"]}
    for i, path in enumerate(descriptors):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        name = os.path.basename(path)[: -len(".json")] if path.endswith(".json") else os.path.basename(path)
        kind, group = kinds[i]
        if kind == "interpreter":
            name = "%d_%s%s" % (i, group, name[name.index(".tar"):])
        print("%s\t%s\t%d" % (name, d["digest"], d["size"]))
    return True


def cmd_all_hits(log):
    spawns = ours(log)
    hits = [s for s in spawns if cache_hit(s)]
    for s in spawns:
        if not cache_hit(s):
            print("  EXECUTED %s %s (runner %r)" % (s.get("mnemonic"), execlog.owner(s)[1], s.get("runner")))
    ok = bool(spawns) and len(hits) == len(spawns)
    print("%s: %d of %d PyImage* spawns were remote cache hits, %d executed"
          % ("PASS" if ok else "FAIL", len(hits), len(spawns), len(spawns) - len(hits)))
    return ok


def cmd_none(log):
    spawns = ours(log)
    for s in spawns:
        print("  RAN %s %s" % (s.get("mnemonic"), execlog.owner(s)[1]))
    print("%s: %d PyImage* spawns ran" % ("PASS" if not spawns else "FAIL", len(spawns)))
    return not spawns


def platform_of(s):
    props = (s.get("platform") or {}).get("properties") or []
    return {p.get("name"): p.get("value") for p in props}


def cmd_platform(log, *pairs):
    want = dict(p.split("=", 1) for p in pairs)
    spawns = ours(log)
    seen = {}
    for s in spawns:
        key = json.dumps(platform_of(s), sort_keys=True)
        seen[key] = seen.get(key, 0) + 1
    for key, n in sorted(seen.items()):
        print("  %3d spawns asked for %s" % (n, key))
    ok = bool(spawns) and all(platform_of(s) == want for s in spawns)
    print("%s: every PyImage* spawn asked for %s" % ("PASS" if ok else "FAIL", json.dumps(want, sort_keys=True)))
    return ok


def counts(log):
    spawns = execlog.load(log)
    hits = sum(1 for s in spawns if cache_hit(s))
    mine = [s for s in spawns if OURS.match(s.get("mnemonic", ""))]
    return {
        "total": len(spawns),
        "executed": len(spawns) - hits,
        "remote_hits": hits,
        "pyimage_executed": sum(1 for s in mine if not cache_hit(s)),
        "pyimage_hits": sum(1 for s in mine if cache_hit(s)),
        "executed_mnemonics": sorted({s.get("mnemonic", "?") for s in spawns if not cache_hit(s)}),
        "interpreter_executed": sum(1 for s in mine if s.get("mnemonic") == "PyImageInterpreter" and not cache_hit(s)),
    }


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "compare":
        return 0 if cmd_compare(*args) else 1
    if cmd == "same":
        return 0 if cmd_same(*args) else 1
    if cmd == "layers":
        return 0 if cmd_layers(*args) else 1
    if cmd == "all-hits":
        return 0 if cmd_all_hits(*args) else 1
    if cmd == "none":
        return 0 if cmd_none(*args) else 1
    if cmd == "platform":
        return 0 if cmd_platform(*args) else 1
    if cmd == "counts":
        print(json.dumps(counts(args[0])))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
