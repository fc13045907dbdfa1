"""Runs the three e2e/sharing binaries and checks what they print."""

import subprocess
import sys


def main(argv):
    failures = 0
    for binary in argv:
        out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
        name = binary.rsplit("/", 1)[-1]
        ok = name in out and "from bücher.example" in out
        print("%s %s: %r" % ("ok  " if ok else "FAIL", name, out.strip()))
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
