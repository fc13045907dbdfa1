"""The interpreter layer: declared once per Python runtime, not once per binary.

`interpreter_layer` (one target, `//py/private:interpreter_layer`) resolves the Python
toolchain itself and declares the `PyImageInterpreter` action; the merge aspect depends
on it through a private attribute, so every binary of a configuration gets the very same
layer artifact. The aspect uses it only when the runtime is the binary's own
(`same_runtime`); otherwise it declares the layer at the binary as before.
"""

load(":layer_action.bzl", "declare_layer", "layer_settings", "manifest_line")
load(":names.bzl", "INTERPRETER_MANIFEST")
load(":providers.bzl", "LayerTierInfo", "TierLookupInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

PY_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

InterpreterLayerInfo = provider(
    doc = "The interpreter layer of a Python toolchain under the flag's tier (private).",
    fields = {
        "group": "the tier's interpreter_group",
        "tar": "the layer tar File",
        "descriptor": "its JSON descriptor File",
        "runtime": "the PyRuntimeInfo it packs",
    },
)

def interpreter_files(runtime):
    """The files of an in-build Python runtime, or None when it has none.

    Args:
      runtime: PyRuntimeInfo (a toolchain's `py3_runtime`), or None.

    Returns:
      depset of Files (`interpreter` + `files`), or None.
    """
    if not runtime or not runtime.files:
        return None
    return depset(
        [runtime.interpreter] if runtime.interpreter else [],
        transitive = [runtime.files],
    )

def declare_interpreter_layer(actions, who, tool, tier, lookup, files, prefix):
    """Declares the `PyImageInterpreter` action packing a runtime's files.

    Args:
      actions: ctx.actions of the caller.
      who: the target named in the progress message.
      tool: FilesToRunProvider of `pyimage`.
      tier: LayerTierInfo (its interpreter_group is set).
      lookup: TierLookupInfo of the same tier.
      files: depset of the runtime's Files (interpreter_files()).
      prefix: output directory prefix in the caller's package.

    Returns:
      struct(tar, descriptor).
    """
    settings = layer_settings(lookup, tier.interpreter_group)
    manifest = actions.args()
    manifest.set_param_file_format("multiline")
    manifest.add_all(files, map_each = manifest_line, expand_directories = False)
    return declare_layer(
        actions,
        tool,
        settings,
        tar_path = prefix + "0_" + tier.interpreter_group + settings.ext,
        manifest_path = prefix + INTERPRETER_MANIFEST + ".manifest",
        manifest = manifest,
        inputs = files,
        mnemonic = "PyImageInterpreter",
        progress_message = "PyImageInterpreter %s (%s)" % (tier.interpreter_group, who),
    )

def _runtime_label(runtime):
    if runtime.interpreter:
        return str(runtime.interpreter.owner)
    return runtime.interpreter_path

def _interpreter_layer_impl(ctx):
    tier = ctx.attr._layer_tier[LayerTierInfo]
    toolchain = ctx.toolchains[PY_TOOLCHAIN]
    runtime = toolchain.py3_runtime if toolchain else None
    files = interpreter_files(runtime)
    if not tier.interpreter_group or not files:
        return []  # nothing to build: the binary's aspect or the rule reports a missing runtime
    built = declare_interpreter_layer(
        ctx.actions,
        _runtime_label(runtime),
        pyimage_tool(ctx),
        tier,
        ctx.attr._layer_tier[TierLookupInfo],
        files,
        ctx.label.name + "/",
    )
    return [InterpreterLayerInfo(
        group = tier.interpreter_group,
        tar = built.tar,
        descriptor = built.descriptor,
        runtime = runtime,
    )]

interpreter_layer = rule(
    implementation = _interpreter_layer_impl,
    doc = """PRIVATE: the interpreter layer of the Python toolchain resolved in this target's
configuration, under the flag's tier.

One target (`//py/private:interpreter_layer`) is an implicit dependency of the merge
aspect: every binary of one configuration depends on the same configured target, so
the `PyImageInterpreter` action is declared once per configuration, and thus once per
Python runtime, whatever the number of binaries.""",
    attrs = {
        "_layer_tier": attr.label(default = Label("//py:layer_tier"), providers = [LayerTierInfo, TierLookupInfo]),
    },
    toolchains = [
        TOOLCHAIN_TYPE,
        config_common.toolchain_type(PY_TOOLCHAIN, mandatory = False),
    ],
)

def same_runtime(a, b):
    """Whether two PyRuntimeInfo are the same runtime (the same interpreter, the same files).

    Args:
      a: PyRuntimeInfo.
      b: PyRuntimeInfo.

    Returns:
      bool.
    """
    return a.interpreter == b.interpreter and a.interpreter_path == b.interpreter_path and a.files == b.files
