"""Shared by the three binaries: one line naming the binary and its modules."""

import sys


def report(who, modules):
    names = ",".join(sorted(m.__name__ for m in modules))
    return "%s: python %d.%d, modules %s" % (who, sys.version_info[0], sys.version_info[1], names)
