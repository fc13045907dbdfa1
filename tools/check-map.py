#!/usr/bin/env python3
"""Checks the Map section of docs/design.md against the tree.

Every tracked file under py/, rust/pyimage/src/ and tools/ must be named by a Map line,
either itself or through a listed folder (a path ending in `/`); every path a Map line
names must exist. Prints what is missing or stale and exits 1, else prints a summary.
"""

import pathlib
import re
import subprocess
import sys

COVERED_ROOTS = ("py/", "rust/pyimage/src/", "tools/")


def map_paths(design: str) -> list[str]:
    """The paths of the Map's code block (the first column of each line)."""
    section = design.split("\n## Map\n", 1)[1]
    block = section.split("```\n", 2)[1]
    paths = []
    for line in block.splitlines():
        column = re.match(r"((?:\S+, )*\S+)", line)
        if column:
            paths.extend(p.strip() for p in column.group(1).split(","))
    return paths


def main() -> int:
    repo = pathlib.Path(__file__).resolve().parent.parent
    paths = map_paths((repo / "docs/design.md").read_text(encoding="utf-8"))
    tracked = subprocess.run(
        ["git", "-C", str(repo), "ls-files"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    problems = []
    for p in paths:
        if "<" not in p and not (repo / p).exists():
            problems.append(f"docs/design.md Map names {p}, which does not exist")
    folders = tuple(p for p in paths if p.endswith("/"))
    files = set(paths)
    for f in tracked:
        if f.startswith(COVERED_ROOTS) and f not in files and not f.startswith(folders):
            problems.append(f"{f} is not in the Map of docs/design.md (add a line saying what it is)")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"Map of docs/design.md: {len(paths)} lines, every file under {', '.join(COVERED_ROOTS)} named")
    return 0


if __name__ == "__main__":
    sys.exit(main())
