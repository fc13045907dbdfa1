"""A spoke repository laid out as rules_python 1.x's `whl_library` lays out an installed wheel.

    site-packages/<files of the wheel>
    site-packages/<dist>-<version>.dist-info/{METADATA,WHEEL,RECORD,INSTALLER,top_level.txt[,entry_points.txt]}
    BUILD.bazel: filegroups `dist_info`, `data`, `extracted_whl_files`, and the `pkg`
      py_library (srcs `site-packages/**/*.py` + generated `__init__.py` files of
      namespace packages, data the rest minus RECORD, imports `site-packages`,
      deps through the hub: `@<hub>//<name>:pkg`, tags `pypi_name=`/`pypi_version=`).
"""

def normalize(name):
    """PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`.

    Args:
      name: a distribution name.

    Returns:
      The normalised name (the hub's directories use `_` for `-`).
    """
    out = []
    sep = False
    for c in name.elems():
        if c in "-_.":
            sep = True
            continue
        if sep and out:
            out.append("-")
        sep = False
        out.append(c.lower())
    return "".join(out)

_BUILD = """\
load("@rules_python//python:defs.bzl", "py_library")
load("@rules_python//python/private/pypi:namespace_pkgs.bzl", "namespace_inits")

package(default_visibility = ["//visibility:public"])

filegroup(
    name = "dist_info",
    srcs = glob(["site-packages/*.dist-info/**"], allow_empty = True),
)

filegroup(
    name = "data",
    srcs = glob(["data/**"], allow_empty = True),
)

filegroup(
    name = "extracted_whl_files",
    srcs = glob(["**"], exclude = ["BUILD.bazel", "WORKSPACE"]),
)

{namespace}py_library(
    name = "pkg",
    srcs = glob(["site-packages/**/*.py"], allow_empty = True){namespace_srcs},
    data = glob(
        ["site-packages/**/*"],
        exclude = [
            "**/*.py",
            "**/*.pyc",
            "**/*.pyc.*",
            "**/*.dist-info/RECORD",
        ],
    ),
    imports = ["site-packages"],
    tags = {tags},
    deps = {deps},
)
"""

_NAMESPACE = """\
# `__init__.py` of the namespace packages (directories of Python files without one),
# generated as rules_python 1.x does without `enable_implicit_namespace_pkgs`.
namespace_inits(
    name = "_namespace_inits",
    dirs = {dirs},
)

"""

def _namespace_dirs(files):
    """Directories under site-packages holding Python files (at any depth) but no `__init__.py`."""
    dirs = {}
    inits = {}
    for path in files:
        parts = path.split("/")
        if parts[-1] == "__init__.py":
            inits["/".join(parts[:-1])] = True
        if not path.endswith(".py") or ".dist-info/" in path:
            continue
        for i in range(1, len(parts)):
            dirs["/".join(parts[:i])] = True
    return sorted([d for d in dirs if d not in inits])

def _whl_library_impl(rctx):
    dist_info = "site-packages/%s-%s.dist-info/" % (rctx.attr.dist.replace("-", "_"), rctx.attr.version)
    record = []
    for path, content in rctx.attr.files.items():
        rctx.file("site-packages/" + path, content, executable = False)
        record.append("%s,," % path)
    meta = {
        "METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (
            rctx.attr.dist,
            rctx.attr.version,
            "".join(["Requires-Dist: %s\n" % r for r in rctx.attr.requires]),
        ),
        "WHEEL": "Wheel-Version: 1.0\nGenerator: fake-index\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "INSTALLER": "https://github.com/bazel-contrib/rules_python\n",
        "top_level.txt": "".join(sorted({p.split("/")[0].removesuffix(".py") + "\n": True for p in rctx.attr.files}.keys())),
    }
    if rctx.attr.entry_points:
        meta["entry_points.txt"] = rctx.attr.entry_points
    for name, content in meta.items():
        rctx.file(dist_info + name, content)
        record.append("%s%s,," % (dist_info.removeprefix("site-packages/"), name))
    rctx.file(dist_info + "RECORD", "\n".join(sorted(record)) + "\n")
    namespace_dirs = ["site-packages/" + d for d in _namespace_dirs(rctx.attr.files.keys())]
    rctx.file("BUILD.bazel", _BUILD.format(
        namespace = _NAMESPACE.format(dirs = repr(namespace_dirs)) if namespace_dirs else "",
        namespace_srcs = " + [\":_namespace_inits\"]" if namespace_dirs else "",
        tags = repr(["pypi_name=%s" % rctx.attr.dist, "pypi_version=%s" % rctx.attr.version]),
        deps = repr(["@%s//%s:pkg" % (rctx.attr.hub, r.replace("-", "_")) for r in rctx.attr.requires]),
    ))

whl_library = repository_rule(
    implementation = _whl_library_impl,
    doc = "FAKE rules_python 1.x whl_library: an installed wheel from the fake index.",
    attrs = {
        "dist": attr.string(mandatory = True),
        "entry_points": attr.string(),
        "files": attr.string_dict(mandatory = True),
        "hub": attr.string(mandatory = True),
        "requires": attr.string_list(),
        "version": attr.string(mandatory = True),
    },
)
