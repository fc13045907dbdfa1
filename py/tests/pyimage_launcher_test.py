"""//py:pyimage runs the toolchain's `pyimage`: as a test's data dependency, and like
`bazel run` does (BUILD_WORKING_DIRECTORY set: relative arguments are relative to it).

usage: pyimage_launcher_test.py LAUNCHER
"""

import json
import os
import subprocess
import sys
import tempfile

PACKAGES = {
    "packages": [
        {"name": "numpy", "bytes": 40000000, "deps": []},
        {"name": "pandas", "bytes": 60000000, "deps": ["numpy", "six"]},
        {"name": "six", "bytes": 10000, "deps": []},
    ]
}


def run(launcher, args, cwd=None, env=None):
    p = subprocess.run([launcher, *args], capture_output=True, text=True, cwd=cwd, env=env)
    if p.returncode != 0:
        sys.exit("FAIL: %s %s exited %d:\n%s%s" % (launcher, args, p.returncode, p.stdout, p.stderr))
    return p.stdout


def main(argv):
    launcher = os.path.abspath(argv[0])
    errors = []
    if "autogroup" not in run(launcher, ["--help"]):
        errors.append("--help does not list autogroup")
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "packages.json"), "w") as f:
            json.dump(PACKAGES, f)
        # `bazel run` starts the launcher in its runfiles directory and names the caller's
        # directory in BUILD_WORKING_DIRECTORY.
        env = dict(os.environ, BUILD_WORKING_DIRECTORY=work)
        out = run(launcher, ["autogroup", "--packages", "packages.json", "--budget", "2"], cwd=os.getcwd(), env=env)
        for want in ["layer_tier(", '"pandas"', "budget 2"]:
            if want not in out:
                errors.append("autogroup output lacks %r:\n%s" % (want, out))
    for e in errors:
        print("FAIL:", e)
    print("OK" if not errors else "%d failure(s)" % len(errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
