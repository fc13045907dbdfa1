"""Test-only module extension: fake pip repositories shaped like rules_python 0.22.1 wheels
(`py_library` with files under `site-packages/` and `imports = ["site-packages"]`)."""

def _fake_whl_impl(rctx):
    top = rctx.attr.top
    rctx.file("site-packages/%s/__init__.py" % top, "VALUE = %r\n" % rctx.attr.name)
    rctx.file("site-packages/%s/data/blob.pem" % top, "pem\n")
    if rctx.attr.dist_info:
        rctx.file("site-packages/%s.dist-info/METADATA" % rctx.attr.dist_info, "Name: %s\n" % rctx.attr.dist_info)
    rctx.file("BUILD.bazel", """\
load("@rules_python//python:defs.bzl", "py_library")

py_library(
    name = "pkg",
    srcs = glob(["site-packages/**/*.py"]),
    data = glob(["site-packages/**/*"], exclude = ["**/*.py"]),
    imports = ["site-packages"],
    deps = {deps},
    visibility = ["//visibility:public"],
)
""".format(deps = repr(rctx.attr.deps)))

fake_whl = repository_rule(
    implementation = _fake_whl_impl,
    attrs = {
        "deps": attr.string_list(),
        "dist_info": attr.string(),
        "top": attr.string(),
    },
)

def _fake_pypi_impl(_mctx):
    # identity from dist-info (mixed case, underscores, version)
    fake_whl(name = "fakepypi_alpha", top = "alpha", dist_info = "Fake_Alpha-1.0", deps = ["@fakepypi_beta//:pkg"])

    # identity from the repository name only: `..._beta` -> "beta"
    fake_whl(name = "fakepypi_beta", top = "beta", dist_info = "")
    fake_whl(name = "fakepypi_gamma", top = "gamma", dist_info = "gamma-2.0")

fake_pypi = module_extension(implementation = _fake_pypi_impl)
