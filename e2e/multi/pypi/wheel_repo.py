"""TEST-ONLY: lays out one wheel as a spoke repository of a pip hub (wheels.bzl).

Run by the repository rule in wheels.bzl, in the repository's directory:

    wheel_repo.py PIP_WHL REQUIREMENT PYTHON_VERSION IMPLEMENTATION MACHINES HUB KIND

- `pip download --no-deps --only-binary=:all: --require-hashes --platform
  manylinux2014_<first of MACHINES> --python-version PYTHON_VERSION --implementation
  IMPLEMENTATION` of REQUIREMENT (one hashed line of the lock), with the pip of PIP_WHL
  (a pip wheel, run from the zip);
- KIND `pure`: the wheel must be a `*-none-any` one (shared by every machine); `native`:
  a platform wheel. Otherwise it fails, naming the fix;
- the wheel unpacked under `site-packages/` (the shape rules_pyimage recognises: files
  under `<repo>/site-packages/`, a `*.dist-info`);
- `BUILD.bazel`: a `py_library` `pkg` whose deps are the wheel's `Requires-Dist`
  entries whose markers hold on linux with that Python, through the hub
  (`@HUB//<name>`); for a pure wheel they must be the same on every machine of MACHINES.
"""

import os
import subprocess
import sys
import zipfile

BUILD = """\
load("@rules_python//python:defs.bzl", "py_library")

package(default_visibility = ["//visibility:public"])

# {wheel}
py_library(
    name = "pkg",
    srcs = glob(["site-packages/**/*.py"]),
    data = glob(["site-packages/**/*"], exclude = ["**/*.py"]),
    imports = ["site-packages"],
    deps = {deps},
)
"""


def die(msg):
    sys.stderr.write("wheel_repo.py: %s\n" % msg)
    sys.exit(1)


def download(pip_whl, requirement, platform, python_version, implementation):
    """Downloads the one wheel of REQUIREMENT for PLATFORM; returns its path."""
    with open("requirement.txt", "w") as f:
        f.write(requirement + "\n")
    cmd = [
        sys.executable, os.path.join(pip_whl, "pip"), "download", "--quiet",
        "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
        "--require-hashes", "--platform", platform, "--python-version", python_version,
        "--implementation", implementation, "-r", "requirement.txt", "-d", "wheel",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        die("pip download %s for %s failed:\n%s%s" % (requirement, platform, res.stdout, res.stderr))
    wheels = [w for w in os.listdir("wheel") if w.endswith(".whl")]
    if len(wheels) != 1:
        die("expected one wheel for %s, got %s" % (requirement, wheels))
    return os.path.join("wheel", wheels[0])


def target_env(python_version, machine):
    return {
        "implementation_name": "cpython",
        "implementation_version": python_version + ".0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": python_version + ".0",
        "python_version": python_version,
        "sys_platform": "linux",
        "extra": "",
    }


def dependencies(metadata, env):
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

    deps = set()
    for line in metadata.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is None or req.marker.evaluate(env):
            deps.add(canonicalize_name(req.name).replace("-", "_"))
    return sorted(deps)


def check_kind(wheel, kind, requirement):
    pure = os.path.basename(wheel).endswith("-none-any.whl")
    if kind == "pure" and not pure:
        die("%s: %s is a platform wheel: list the package in `native` of wheels.hub" % (requirement, os.path.basename(wheel)))
    if kind == "native" and pure:
        die("%s: %s is a pure wheel: remove the package from `native` of wheels.hub" % (requirement, os.path.basename(wheel)))


def main(argv):
    pip_whl, requirement, python_version, implementation, machines, hub, kind = argv
    machines = machines.split(",")
    sys.path.insert(0, pip_whl)
    wheel = download(pip_whl, requirement, "manylinux2014_" + machines[0], python_version, implementation)
    check_kind(wheel, kind, requirement)
    with zipfile.ZipFile(wheel) as z:
        z.extractall("site-packages")
        infos = [n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(infos) != 1:
            die("%s has %d top-level */.dist-info/METADATA" % (wheel, len(infos)))
        metadata = z.read(infos[0]).decode("utf-8")
    per_machine = {m: dependencies(metadata, target_env(python_version, m)) for m in machines}
    deps = per_machine[machines[0]]
    if any(d != deps for d in per_machine.values()):
        die("%s: the dependencies differ between machines (%s): not supported for a shared pure wheel" % (requirement, per_machine))
    labels = ["@%s//%s" % (hub, d) for d in deps]
    with open("BUILD.bazel", "w") as f:
        f.write(BUILD.format(wheel=os.path.basename(wheel), deps=repr(labels)))
    os.remove("requirement.txt")
    os.remove(wheel)
    print(os.path.basename(wheel))


if __name__ == "__main__":
    main(sys.argv[1:])
