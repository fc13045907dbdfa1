"""Smoke app: prints a greeting and a table of the pip packages it imports."""

import sys

import colorama
import packaging
import tabulate
from packaging.version import Version

from lib.greeting import greeting, version_rows


def main():
    print(greeting("rules_pyimage smoke"))
    rows = version_rows([colorama, packaging, tabulate])
    print(tabulate.tabulate(rows, headers=["package", "version"], tablefmt="github"))
    newest = max(Version(version) for _, version in rows)
    print("newest version: %s" % newest)
    print("python: %d.%d" % sys.version_info[:2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
