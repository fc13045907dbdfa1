#!/usr/bin/env python3
"""Renders (and checks) the cache economics table from economics.sh's measurements.

  economics_table.py --dir DIR [--check] NAME=LABEL...
      DIR holds baseline.tsv and, per scenario NAME, NAME.tsv (layer name, digest,
      compressed size) and NAME.json (the build's execution log). Prints a Markdown
      table; with --check, exits 1 unless the promises of docs/cache.md hold.
  economics_table.py --write-doc DOC --table TABLE_MD
      replaces the text between the economics markers of DOC with TABLE_MD.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import execlog_checks  # noqa: E402

BEGIN, END = "<!-- economics:begin -->", "<!-- economics:end -->"
# Scenario -> the only layers (by group name suffix) allowed to get a new digest.
PROMISES = {"app": {"app"}, "lib": {"lib"}, "bump": {"pip"}, "interpreter": {"python"}, "clean": set()}


def read_layers(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, digest, size = line.rstrip("\n").split("\t")
            rows.append((name, digest, int(size)))
    return rows


def group_of(name):
    """`3_lib.tar.gz` -> `lib`, `1_six-1.17.0.tar.gz` -> `six-1.17.0` (descriptor files are
    named <index>_<group or package>.<extension>.json)."""
    base = re.sub(r"\.tar(\.gz|\.zst)?$", "", name)
    return base.split("_", 1)[1] if re.match(r"^\d+_", base) else base


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


def render(d, scenarios, check):
    base = read_layers(os.path.join(d, "baseline.tsv"))
    known = {digest for _, digest, _ in base}
    lines = [
        "| change | actions executed (PyImage*) | remote cache hits (PyImage*) | layers with a new digest | compressed bytes to push |",
        "| --- | --- | --- | --- | --- |",
    ]
    ok = True
    for name, label in scenarios:
        c = execlog_checks.counts(os.path.join(d, name + ".json"))
        layers = read_layers(os.path.join(d, name + ".tsv"))
        new = [(n, dg, sz) for n, dg, sz in layers if dg not in known]
        groups = ", ".join(group_of(n) for n, _, _ in new) or "none"
        push = sum(sz for _, _, sz in new)
        lines.append("| %s | %d (%d) | %d (%d) | %d of %d: %s | %s (%d) |" % (
            label, c["executed"], c["pyimage_executed"], c["remote_hits"], c["pyimage_hits"],
            len(new), len(layers), groups, human(push), push))
        if check and name in PROMISES:
            allowed = PROMISES[name]
            got = {group_of(n) for n, _, _ in new}
            good = got == allowed if allowed else not new
            if name == "clean":
                good = good and c["pyimage_executed"] == 0 and c["pyimage_hits"] > 0
            if name == "interpreter" and c["interpreter_executed"] != 1:
                print("FAIL interpreter: %d PyImageInterpreter actions executed, expected 1" % c["interpreter_executed"], file=sys.stderr)
                good = False
            if not good:
                print("FAIL %s: new digests in %s, expected exactly %s" % (name, sorted(got), sorted(allowed)), file=sys.stderr)
                ok = False
    return "\n".join(lines) + "\n", ok


def write_doc(doc, table_md):
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    with open(table_md, encoding="utf-8") as f:
        table = f.read()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        print("%s has no %s ... %s markers" % (doc, BEGIN, END), file=sys.stderr)
        return False
    text = text[: i + len(BEGIN)] + "\n" + table + text[j:]
    with open(doc, "w", encoding="utf-8") as f:
        f.write(text)
    return True


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--write-doc")
    ap.add_argument("--table")
    ap.add_argument("scenarios", nargs="*")
    a = ap.parse_args(argv)
    if a.write_doc:
        return 0 if write_doc(a.write_doc, a.table) else 1
    scenarios = [s.split("=", 1) for s in a.scenarios]
    table, ok = render(a.dir, scenarios, a.check)
    sys.stdout.write(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
