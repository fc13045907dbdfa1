"""e2e/shapes app: imports every fake package through the 1.x venv and reports where from."""

import os
import sys

import certifi
import jaraco.functools
import jaraco.text
import six
import tabulate
import typing_extensions

from lib.report import rows

MODULES = [certifi, jaraco.functools, jaraco.text, six, tabulate, typing_extensions]


def main():
    print("python: %d.%d" % sys.version_info[:2])
    print("prefix: %s" % sys.prefix)
    print("venv: %s" % (sys.prefix != sys.base_prefix))
    print("executable: %s" % sys.executable)
    print("real executable: %s" % os.path.realpath(sys.executable))
    print(tabulate.tabulate(rows(MODULES)))
    for m in MODULES:
        print("from %s: %s" % (m.__name__, os.path.relpath(m.__file__, os.environ["RUNFILES_DIR"])))
    print("jaraco namespace: %s" % len(list(jaraco.__path__)))
    print("shout: %s" % jaraco.text.shout("  layers "))
    print("certifi bundle: %s" % certifi.contents().splitlines()[0])


if __name__ == "__main__":
    main()
