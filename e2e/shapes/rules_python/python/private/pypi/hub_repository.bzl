"""The hub repository of the fake `pip` extension, shaped like rules_python 1.x's.

    //<name>:pkg, :whl, :data, :dist_info   aliases to the spoke `@<hub>_<pyver>_<name>`
    //<name>                                 alias of :pkg
    //:requirements.bzl                      requirement(name) -> "@<hub>//<name>:pkg", all_requirements
"""

_PKG_BUILD = """\
package(default_visibility = ["//visibility:public"])

alias(
    name = "{name}",
    actual = ":pkg",
)

[
    alias(
        name = target,
        actual = "@{spoke}//:" + target,
    )
    for target in [
        "pkg",
        "data",
        "dist_info",
        "extracted_whl_files",
    ]
]
"""

_REQUIREMENTS = """\
\"\"\"requirement() of the {hub} hub (fake rules_python 1.x).\"\"\"

all_requirements = {all}

def requirement(name):
    return "@{hub}//%s:pkg" % name.lower().replace("-", "_").replace(".", "_")
"""

def _hub_impl(rctx):
    for name in rctx.attr.packages:
        d = name.replace("-", "_")
        rctx.file(d + "/BUILD.bazel", _PKG_BUILD.format(name = d, spoke = rctx.attr.repo_prefix + d))
    rctx.file("requirements.bzl", _REQUIREMENTS.format(
        hub = rctx.attr.hub,
        all = repr(["@%s//%s:pkg" % (rctx.attr.hub, n.replace("-", "_")) for n in rctx.attr.packages]),
    ))
    rctx.file("BUILD.bazel", "exports_files([\"requirements.bzl\"])\n")

hub_repository = repository_rule(
    implementation = _hub_impl,
    attrs = {
        "hub": attr.string(mandatory = True),
        "packages": attr.string_list(mandatory = True),
        "repo_prefix": attr.string(mandatory = True),
    },
)
