"""TEST-ONLY: a pip hub of another platform's wheels (rules_python 0.22.1 installs host wheels only).

    wheels = use_extension("//arm64:wheels.bzl", "wheels")
    wheels.hub(name = "pypi_arm64", lock = "//arm64:requirements.txt")
    use_repo(wheels, "pypi_arm64")

Every `name==version` of the hashed lock becomes a repository `<hub>_<name>` made by
`pip download --platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.11
--implementation cp --require-hashes` (pip itself is a pinned wheel from PyPI), unpacked
under `site-packages/` with its `Requires-Dist` dependencies for linux/aarch64 (see
wheel_repo.py). The hub `@<hub>` has one package per distribution, `@<hub>//<name>`
(`charset_normalizer`, ...), and `//:requirements.bzl` with `requirement(name)`, like a pip hub.
"""

_PIP = struct(
    url = "https://files.pythonhosted.org/packages/d4/55/90db48d85f7689ec6f81c0db0622d704306c5284850383c090e6c7195a5c/pip-24.2-py3-none-any.whl",
    sha256 = "2cd581cf58ab7fcfca4ce8efa6dcacd0de5bf8d0a3eb9ec927e07405f4d9e2a2",
)

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
        rctx.attr.platform,
        rctx.attr.python_version,
        rctx.attr.implementation,
        rctx.attr.machine,
        rctx.attr.hub,
    ], timeout = 300)
    if res.return_code != 0:
        fail("%s: %s%s" % (rctx.name, res.stdout, res.stderr))
    rctx.delete("pip.whl")

_wheel = repository_rule(
    implementation = _wheel_impl,
    attrs = {
        "hub": attr.string(mandatory = True),
        "implementation": attr.string(mandatory = True),
        "machine": attr.string(mandatory = True),
        "platform": attr.string(mandatory = True),
        "python": attr.string(mandatory = True),
        "python_version": attr.string(mandatory = True),
        "requirement": attr.string(mandatory = True),
        "_script": attr.label(default = "//arm64:wheel_repo.py"),
    },
)

def _hub_impl(rctx):
    for name in rctx.attr.packages:
        rctx.file(name + "/BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

alias(
    name = "{name}",
    actual = "@{hub}_{name}//:pkg",
)
""".format(name = name, hub = rctx.attr.hub))
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
        "packages": attr.string_list(mandatory = True),
    },
)

def _ext_impl(mctx):
    for mod in mctx.modules:
        for h in mod.tags.hub:
            reqs = _parse_lock(mctx.read(h.lock), h.lock)
            for name, req in reqs.items():
                _wheel(
                    name = "%s_%s" % (h.name, name),
                    hub = h.name,
                    requirement = req,
                    platform = h.platform,
                    python_version = h.python_version,
                    implementation = h.implementation,
                    machine = h.machine,
                    python = h.python,
                )
            _hub(name = h.name, hub = h.name, packages = sorted(reqs.keys()))

wheels = module_extension(
    implementation = _ext_impl,
    doc = "TEST-ONLY: pip hubs of wheels for another platform, from a hashed lock.",
    tag_classes = {
        "hub": tag_class(attrs = {
            "implementation": attr.string(default = "cp"),
            "lock": attr.label(mandatory = True),
            "machine": attr.string(default = "aarch64", doc = "`platform_machine` for the wheels' dependency markers"),
            "name": attr.string(mandatory = True),
            "platform": attr.string(default = "manylinux2014_aarch64"),
            "python": attr.string(default = "python3.11", doc = "interpreter that runs pip (on the host)"),
            "python_version": attr.string(default = "3.11"),
        }),
    },
)
