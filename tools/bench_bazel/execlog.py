#!/usr/bin/env python3
"""Reads Bazel execution logs (`--execution_log_json_file`) and answers
"which actions ran, and how often per package".

Bazel 7 writes the JSON log as a stream of SpawnExec objects (not one array);
this reader accepts that stream, a JSON array, or one object per line.
Only spawns that Bazel actually executed or fetched from a remote/disk cache
appear in the log; action-cache hits are absent (that is what makes the log a
proof of "what re-ran").

Usage (also importable from the benchmark and e2e scripts):
  execlog.py summary LOG                      # spawns per mnemonic
  execlog.py owners LOG [--mnemonic M]...     # spawns per (mnemonic, config, owner)
  execlog.py check-once LOG --mnemonic M [--external-only] [--per owner|output] [--expect-owners N]
      exit 1 unless every owner (package), or with --per output every distinct
      set of outputs (fragment), has exactly one spawn of M
  execlog.py check-only LOG [--only REGEX] --allow RULE... [--require RULE]... [--exactly RULE=N]...
      exit 1 if any spawn is not allowed, a required one is missing, or a count
      differs; RULE is MNEMONIC_REGEX[:OWNER_REGEX]; --only restricts every
      check to the spawns whose mnemonic matches REGEX
An "owner" is where the spawn's first output lives: `external/<repo>` for
outputs declared in an external repository (a pip package), else the package
path inside the main repository (`apps`, `//` for the root package).
"""

import argparse
import collections
import json
import re
import sys


def load(path):
    """Returns the list of SpawnExec dicts in an execution log."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    dec = json.JSONDecoder()
    i, n, out = 0, len(text), []
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n:
            break
        obj, i = dec.raw_decode(text, i)
        if isinstance(obj, list):
            out.extend(obj)
        else:
            out.append(obj)
    return out


def outputs(spawn):
    outs = [o.get("path", "") for o in spawn.get("actualOutputs", []) or []]
    outs += [p for p in spawn.get("listedOutputs", []) or [] if isinstance(p, str)]
    return list(dict.fromkeys(p for p in outs if p))  # Bazel lists most outputs twice


_OUT = re.compile(r"^bazel-out/([^/]+)/(?:bin|genfiles)/(.*)$")


def owner(spawn):
    """(config, owner) of a spawn from its first output path."""
    for p in sorted(outputs(spawn)):
        m = _OUT.match(p)
        if not m:
            continue
        config, rest = m.group(1), m.group(2)
        parts = rest.split("/")
        if parts[0] == "external" and len(parts) > 1:
            return config, "external/" + parts[1]
        return config, "/".join(parts[:-1]) or "//"
    label = spawn.get("targetLabel", "")
    return "?", label or "?"


def walltime(spawn):
    """Seconds of a spawn's wall time ("1.5s" in protobuf JSON)."""
    w = spawn.get("walltime") or spawn.get("metrics", {}).get("totalTime")
    if isinstance(w, str) and w.endswith("s"):
        try:
            return float(w[:-1])
        except ValueError:
            return 0.0
    return 0.0


def by_mnemonic(spawns):
    return collections.Counter(s.get("mnemonic", "?") for s in spawns)


def by_owner(spawns, mnemonics=None):
    c = collections.Counter()
    for s in spawns:
        m = s.get("mnemonic", "?")
        if mnemonics and m not in mnemonics:
            continue
        config, own = owner(s)
        c[(m, config, own)] += 1
    return c


def _parse_rule(text):
    """`MNEMONIC_REGEX[:OWNER_REGEX]` (mnemonic must match fully)."""
    m, _, rx = text.partition(":")
    return re.compile(m), re.compile(rx) if rx else None


def _match(rule, spawn):
    m, rx = rule
    if not m.fullmatch(spawn.get("mnemonic", "")):
        return False
    return rx is None or rx.search(owner(spawn)[1]) is not None


def _check_once(a, spawns):
    """Every key (owner, or the outputs of a spawn) of mnemonic M has exactly one spawn."""
    per_config, per_key = collections.Counter(), collections.Counter()
    for s in spawns:
        if s.get("mnemonic") != a.mnemonic:
            continue
        config, own = owner(s)
        if a.external_only and not own.startswith("external/"):
            continue
        key = own if a.per == "owner" else " ".join(sorted(outputs(s)))
        per_config[(config, key)] += 1
        per_key[key] += 1
    for (config, key), n in sorted(per_config.items()):
        print("%4d  %-16s %-28s %s" % (n, a.mnemonic, config, key))
    bad = {k: v for k, v in per_key.items() if v != 1}
    ok = True
    if not per_key:
        print("FAIL: no %s spawns in %s" % (a.mnemonic, a.log))
        ok = False
    if bad:
        print("FAIL: %s ran more than once for: %s" % (a.mnemonic, ", ".join("%s (%d)" % kv for kv in sorted(bad.items()))))
        ok = False
    if a.expect_owners is not None and len(per_key) != a.expect_owners:
        print("FAIL: expected %d %ss of %s spawns, found %d" % (a.expect_owners, a.per, a.mnemonic, len(per_key)))
        ok = False
    if ok:
        print("PASS: %d %ss, one %s spawn each" % (len(per_key), a.per, a.mnemonic))
    return ok


def _check_only(a, spawns):
    """Every spawn is allowed, every required one ran, every --exactly count holds."""
    if a.only:
        only = re.compile(a.only)
        spawns = [sp for sp in spawns if only.fullmatch(sp.get("mnemonic", ""))]
    allow = [_parse_rule(r) for r in a.allow]
    ok = True
    for sp in spawns:
        config, own = owner(sp)
        tag = "%s %s %s" % (sp.get("mnemonic"), config, own)
        if any(_match(r, sp) for r in allow):
            print("  ran (allowed):     " + tag)
        else:
            print("  ran (NOT allowed): " + tag)
            ok = False
    for text in a.require:
        if not any(_match(_parse_rule(text), sp) for sp in spawns):
            print("  missing required spawn: " + text)
            ok = False
    for text in a.exactly:
        rule, _, n = text.rpartition("=")
        got = sum(1 for sp in spawns if _match(_parse_rule(rule), sp))
        if got != int(n):
            print("  expected %s spawns matching %s, got %d" % (n, rule, got))
            ok = False
    print(("PASS" if ok else "FAIL") + ": %d spawns re-ran" % len(spawns))
    return ok


def _parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summary")
    s.add_argument("log")
    o = sub.add_parser("owners")
    o.add_argument("log")
    o.add_argument("--mnemonic", action="append")
    c = sub.add_parser("check-once")
    c.add_argument("log")
    c.add_argument("--mnemonic", required=True)
    c.add_argument("--external-only", action="store_true")
    c.add_argument("--per", choices=["owner", "output"], default="owner", help="what must have exactly one spawn")
    c.add_argument("--expect-owners", type=int, help="how many distinct owners (or outputs, with --per output)")
    k = sub.add_parser("check-only")
    k.add_argument("log")
    k.add_argument("--only", help="look only at spawns whose mnemonic fully matches this regex")
    k.add_argument("--allow", action="append", default=[])
    k.add_argument("--require", action="append", default=[])
    k.add_argument("--exactly", action="append", default=[], help="RULE=N: exactly N spawns match RULE")
    return ap


def main(argv):
    a = _parser().parse_args(argv)
    spawns = load(a.log)
    if a.cmd == "summary":
        for m, n in sorted(by_mnemonic(spawns).items()):
            print("%6d  %s" % (n, m))
        print("%6d  total spawns" % len(spawns))
        return 0
    if a.cmd == "owners":
        for (m, config, own), n in sorted(by_owner(spawns, a.mnemonic).items()):
            print("%4d  %-16s %-28s %s" % (n, m, config, own))
        return 0
    if a.cmd == "check-once":
        return 0 if _check_once(a, spawns) else 1
    return 0 if _check_only(a, spawns) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
