"""The `pyimage` tool toolchain."""

TOOLCHAIN_TYPE = Label("//py/toolchain:type")

PyImageToolInfo = provider(
    doc = "The `pyimage` binary of a `pyimage_toolchain`.",
    fields = {
        "tool": "FilesToRunProvider of the `pyimage` executable.",
        "version": "Version string of the tool (\"source\" when built from this checkout).",
    },
)

def _pyimage_toolchain_impl(ctx):
    tool = ctx.attr.tool[DefaultInfo].files_to_run
    if not tool or not tool.executable:
        fail("pyimage_toolchain %s: tool = %s is not an executable" % (ctx.label, ctx.attr.tool.label))
    info = PyImageToolInfo(tool = tool, version = ctx.attr.version)
    return [platform_common.ToolchainInfo(pyimage = info)]

pyimage_toolchain = rule(
    implementation = _pyimage_toolchain_impl,
    doc = "Declares a `pyimage` binary for `toolchain(toolchain_type = \"@rules_pyimage//py/toolchain:type\")`.",
    attrs = {
        "tool": attr.label(
            mandatory = True,
            executable = True,
            cfg = "exec",
            allow_files = True,
            doc = "The `pyimage` executable.",
        ),
        "version": attr.string(default = "source", doc = "Version of the tool, for messages."),
    },
)

def pyimage_tool(ctx):
    """The `pyimage` tool of the resolved toolchain (rules and aspects).

    Args:
      ctx: rule or aspect context with the toolchain type in its `toolchains`.

    Returns:
      FilesToRunProvider of `pyimage`.
    """
    tc = ctx.toolchains[TOOLCHAIN_TYPE]
    if not tc:
        fail("%s: no pyimage toolchain is registered; rules_pyimage's MODULE.bazel registers @pyimage_toolchains//:all (see e2e/README.md)" % ctx.label)
    return tc.pyimage.tool
