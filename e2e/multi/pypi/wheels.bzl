"""TEST-ONLY: a multi-platform pip hub shaped like rules_python 1.x's (0.22.1 installs host wheels only).

    wheels = use_extension("//pypi:wheels.bzl", "wheels")
    wheels.hub(
        name = "pypi",
        lock = "//pypi:requirements.txt",
        machines = ["x86_64", "aarch64"],
        native = ["charset-normalizer"],
    )
    use_repo(wheels, "pypi")

As rules_python 1.x does for several platforms, a pure wheel (`*-none-any`) is one
spoke repository `<hub>_<name>` shared by every platform, and a native wheel one spoke
per machine, `<hub>_<name>_<machine>`, chosen by the hub with a `select()` on
`@platforms//cpu`. So a pure package's files have the same paths (and its layer
fragment the same bytes) in the images of every platform.

Each spoke is made by `pip download --platform manylinux2014_<machine> --only-binary=:all:
--python-version 3.11 --implementation cp --require-hashes` of one line of the hashed
lock (pip itself is a pinned wheel from PyPI) and unpacked under `site-packages/` (see
wheel_repo.py); its `deps` are the wheel's `Requires-Dist` entries whose markers hold
on linux with that Python, through the hub (`@<hub>//<name>`), as 1.x spokes do. A
package listed in `native` must have a platform wheel, any other a pure one: a
mismatch fails naming the package. The hub `@<hub>` has one package per distribution,
`@<hub>//<name>` (`charset_normalizer`, ...), and `//:requirements.bzl` with
`requirement(name)`.
"""

_PIP = struct(
    url = "https://files.pythonhosted.org/packages/d4/55/90db48d85f7689ec6f81c0db0622d704306c5284850383c090e6c7195a5c/pip-24.2-py3-none-any.whl",
    sha256 = "2cd581cf58ab7fcfca4ce8efa6dcacd0de5bf8d0a3eb9ec927e07405f4d9e2a2",
)

# `platform_machine` -> the `@platforms//cpu` constraint the hub selects on.
_CPU = {
    "aarch64": "arm64",
    "x86_64": "x86_64",
}

def _module_name(dist):
    return dist.lower().replace("-", "_").replace(".", "_")

def _parse_lock(text, lock):
    """The requirements of a pip lock file (`name==version --hash=sha256:...`).

    Args:
      text: the lock file's content.
      lock: its label (for messages).

    Returns:
      {module name (`charset_normalizer`): the requirement on one line}.
    """
    out = {}
    for entry in text.replace("\\\n", " ").splitlines():
        words = [w for w in entry.split("#", 1)[0].replace("\t", " ").split(" ") if w]
        if not words:
            continue
        if "==" not in words[0] or not [w for w in words[1:] if w.startswith("--hash=sha256:")]:
            fail("%s: %r is not a pinned, hashed requirement (`name==version --hash=sha256:...`)" % (lock, entry.strip()))
        out[_module_name(words[0].split("==")[0])] = " ".join(words)
    return out

def _wheel_impl(rctx):
    rctx.download(url = _PIP.url, sha256 = _PIP.sha256, output = "pip.whl")
    res = rctx.execute([
        rctx.attr.python,
        str(rctx.path(rctx.attr._script)),
        "pip.whl",
        rctx.attr.requirement,
        rctx.attr.python_version,
        rctx.attr.implementation,
        ",".join(rctx.attr.machines),
        rctx.attr.hub,
        "native" if rctx.attr.native else "pure",
    ], timeout = 300)
    if res.return_code != 0:
        fail("%s: %s%s" % (rctx.name, res.stdout, res.stderr))
    rctx.delete("pip.whl")

_wheel = repository_rule(
    implementation = _wheel_impl,
    attrs = {
        "hub": attr.string(mandatory = True),
        "implementation": attr.string(mandatory = True),
        "machines": attr.string_list(mandatory = True, doc = "the wheel is downloaded for the first; dependency markers are evaluated for each"),
        "native": attr.bool(doc = "a platform wheel (else a pure `*-none-any` one)"),
        "python": attr.string(mandatory = True),
        "python_version": attr.string(mandatory = True),
        "requirement": attr.string(mandatory = True),
        "_script": attr.label(default = "//pypi:wheel_repo.py"),
    },
)

_PURE_BUILD = """\
package(default_visibility = ["//visibility:public"])

# pure wheel: one repository for every platform
alias(
    name = "{name}",
    actual = "@{hub}_{name}//:pkg",
)
"""

_NATIVE_BUILD = """\
package(default_visibility = ["//visibility:public"])

# native wheel: one repository per machine
alias(
    name = "{name}",
    actual = select({arms}),
)
"""

def _hub_impl(rctx):
    native = {n: True for n in rctx.attr.native}
    for name in rctx.attr.packages:
        if name in native:
            arms = {"@platforms//cpu:" + _CPU[m]: "@%s_%s_%s//:pkg" % (rctx.attr.hub, name, m) for m in rctx.attr.machines}
            rctx.file(name + "/BUILD.bazel", _NATIVE_BUILD.format(name = name, arms = repr(arms)))
        else:
            rctx.file(name + "/BUILD.bazel", _PURE_BUILD.format(name = name, hub = rctx.attr.hub))
    rctx.file("requirements.bzl", """\
\"\"\"requirement() of the {hub} hub.\"\"\"

def requirement(name):
    return Label("//%s" % name.lower().replace("-", "_").replace(".", "_"))
""".format(hub = rctx.attr.hub))
    rctx.file("BUILD.bazel", "exports_files([\"requirements.bzl\"])\n")

_hub = repository_rule(
    implementation = _hub_impl,
    attrs = {
        "hub": attr.string(mandatory = True),
        "machines": attr.string_list(mandatory = True),
        "native": attr.string_list(),
        "packages": attr.string_list(mandatory = True),
    },
)

def _ext_impl(mctx):
    for mod in mctx.modules:
        for h in mod.tags.hub:
            for m in h.machines:
                if m not in _CPU:
                    fail("wheels.hub(name = %r): machine %r is not one of %s" % (h.name, m, sorted(_CPU)))
            reqs = _parse_lock(mctx.read(h.lock), h.lock)
            native = [_module_name(n) for n in h.native]
            for n in native:
                if n not in reqs:
                    fail("wheels.hub(name = %r): native package %r is not in %s" % (h.name, n, h.lock))
            for name, req in reqs.items():
                common = dict(
                    hub = h.name,
                    requirement = req,
                    python_version = h.python_version,
                    implementation = h.implementation,
                    python = h.python,
                )
                if name in native:
                    for m in h.machines:
                        _wheel(name = "%s_%s_%s" % (h.name, name, m), machines = [m], native = True, **common)
                else:
                    _wheel(name = "%s_%s" % (h.name, name), machines = h.machines, **common)
            _hub(name = h.name, hub = h.name, packages = sorted(reqs.keys()), native = native, machines = h.machines)

wheels = module_extension(
    implementation = _ext_impl,
    doc = "TEST-ONLY: a multi-platform pip hub from a hashed lock: pure wheels shared, native wheels per machine.",
    tag_classes = {
        "hub": tag_class(attrs = {
            "implementation": attr.string(default = "cp"),
            "lock": attr.label(mandatory = True),
            "machines": attr.string_list(mandatory = True, doc = "`platform_machine` values (`x86_64`, `aarch64`): wheels `manylinux2014_<machine>`"),
            "name": attr.string(mandatory = True),
            "native": attr.string_list(doc = "packages with platform wheels: one repository per machine"),
            "python": attr.string(default = "python3.11", doc = "interpreter that runs pip (on the host)"),
            "python_version": attr.string(default = "3.11"),
        }),
    },
)
