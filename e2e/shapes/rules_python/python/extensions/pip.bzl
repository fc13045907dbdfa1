"""The fake rules_python's `pip` extension (1.x names and layout, wheels from a fake index).

    pip = use_extension("@rules_python//python/extensions:pip.bzl", "pip")
    pip.parse(hub_name = "pypi", python_version = "3.14", requirements_lock = "//:requirements.txt")
    use_repo(pip, "pypi")

As rules_python 1.x does, every `name==version` of the lock becomes a spoke
repository `<hub>_<major><minor>_<name>` (Bazel 7: `rules_python~~pip~pypi_314_six`)
and the hub `@<hub>` has `//<name>:pkg` aliases and `requirements.bzl`. The wheels
come from python/private/pypi/index.bzl instead of PyPI.
"""

load("//python/private/pypi:hub_repository.bzl", "hub_repository")
load("//python/private/pypi:index.bzl", "INDEX")
load("//python/private/pypi:whl_library.bzl", "normalize", "whl_library")

def _parse_lock(text, lock):
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "==" not in line:
            fail("%s: %r is not pinned (`name==version`)" % (lock, line))
        name, version = [w.strip() for w in line.split("==", 1)]
        out[normalize(name)] = version
    return out

def _pip_impl(mctx):
    for mod in mctx.modules:
        for parse in mod.tags.parse:
            pyver = "".join(parse.python_version.split(".")[:2])
            reqs = _parse_lock(mctx.read(parse.requirements_lock), parse.requirements_lock)
            for name, version in reqs.items():
                wheel = INDEX.get(name)
                if not wheel or wheel["version"] != version:
                    fail("%s: the fake index has no %s==%s (it has: %s)" % (
                        parse.requirements_lock,
                        name,
                        version,
                        ", ".join(["%s==%s" % (n, w["version"]) for n, w in INDEX.items()]),
                    ))
                whl_library(
                    name = "%s_%s_%s" % (parse.hub_name, pyver, name.replace("-", "_")),
                    dist = wheel["dist"],
                    version = version,
                    files = wheel["files"],
                    requires = [normalize(r) for r in wheel.get("requires", [])],
                    entry_points = wheel.get("entry_points", ""),
                    hub = parse.hub_name,
                )
            hub_repository(
                name = parse.hub_name,
                hub = parse.hub_name,
                packages = sorted(reqs.keys()),
                repo_prefix = "%s_%s_" % (parse.hub_name, pyver),
            )

pip = module_extension(
    implementation = _pip_impl,
    doc = "FAKE rules_python 1.x `pip` extension (e2e/shapes).",
    tag_classes = {
        "parse": tag_class(attrs = {
            "hub_name": attr.string(mandatory = True),
            "python_version": attr.string(mandatory = True),
            "requirements_lock": attr.label(mandatory = True),
        }),
    },
)
