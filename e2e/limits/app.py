"""Imports every generated package of e2e/limits and prints how many it saw."""

import importlib

COUNT = 130


def main():
    names = [importlib.import_module("lim_pkg_%03d" % i).NAME for i in range(COUNT)]
    print("imported %d packages: %s .. %s" % (len(names), names[0], names[-1]))


if __name__ == "__main__":
    main()
