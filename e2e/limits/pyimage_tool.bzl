"""Test-only: the resolved `pyimage` layer tool as a file a test can run."""

def _pyimage_tool_impl(ctx):
    tool = ctx.toolchains["@rules_pyimage//py/toolchain:type"].pyimage.tool
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = tool.executable, is_executable = True)
    return [DefaultInfo(files = depset([out]), executable = out)]

pyimage_tool = rule(
    implementation = _pyimage_tool_impl,
    doc = "The `pyimage` binary of the registered toolchain (for tests that call the tool directly).",
    executable = True,
    toolchains = ["@rules_pyimage//py/toolchain:type"],
)
