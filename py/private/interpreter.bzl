"""The interpreter layer: declared once per Python runtime and byte settings, not once per binary.

`interpreter_layer` (one target, `//py/private:interpreter_layer`) resolves the Python
toolchain itself and declares the `PyImageInterpreter` action, once per set of byte
settings it is asked for; the merge aspect and the `py_image_layer` rule depend on it
through a private attribute, so every binary of a configuration gets the very same layer
artifact when its tier's interpreter settings are among them. The layer's bytes do not
depend on the tier's group name (a descriptor of `pyimage layer` carries none), only on the
runtime and the settings: the tier label, its groups and its other layers' settings do
not matter. Callers use it only when the runtime is the binary's own (`same_runtime`);
otherwise they declare the layer themselves.
"""

load(":layer_action.bzl", "declare_layer", "layer_settings", "manifest_line")
load(":names.bzl", "INTERPRETER_MANIFEST", "hash8")
load(":providers.bzl", "LayerTierInfo", "TierLookupInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

PY_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

InterpreterLayerInfo = provider(
    doc = "The interpreter layers of a Python toolchain, one per set of byte settings (private).",
    fields = {
        "layers": "dict layer_settings().key -> struct(tar, descriptor)",
        "runtime": "the PyRuntimeInfo they pack",
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

def declare_interpreter_layer(actions, who, tool, settings, name, files, prefix):
    """Declares the `PyImageInterpreter` action packing a runtime's files.

    Args:
      actions: ctx.actions of the caller.
      who: the target named in the progress message.
      tool: FilesToRunProvider of `pyimage`.
      settings: layer_settings() of the interpreter layer.
      name: the layer's file name, without extension (e.g. `0_python`).
      files: depset of the runtime's Files (interpreter_files()).
      prefix: output directory prefix in the caller's package.

    Returns:
      struct(tar, descriptor).
    """
    manifest = actions.args()
    manifest.set_param_file_format("multiline")
    manifest.add_all(files, map_each = manifest_line, expand_directories = False)
    return declare_layer(
        actions,
        tool,
        settings,
        tar_path = prefix + name + settings.ext,
        manifest_path = prefix + INTERPRETER_MANIFEST + ".manifest",
        manifest = manifest,
        inputs = files,
        mnemonic = "PyImageInterpreter",
        progress_message = "PyImageInterpreter %s (%s)" % (name, who),
    )

def _runtime_label(runtime):
    if runtime.interpreter:
        return str(runtime.interpreter.owner)
    return runtime.interpreter_path

def _shared_settings(tier, lookup):
    """The byte settings the shared target builds the layer with, each once.

    The flag tier's interpreter settings (when it has an interpreter_group) and its
    default settings (what a pinned tier's interpreter layer has unless the tier sets
    compression, owner or execution requirements for it): declaring one more action than
    a build asks for costs analysis only; Bazel runs the requested ones.
    """
    out = {}
    candidates = [lookup.default_settings]
    if tier.interpreter_group:
        candidates.insert(0, layer_settings(lookup, tier.interpreter_group))
    for settings in candidates:
        out.setdefault(settings.key, settings)
    return out.values()

def _settings_dir(settings):
    # The fingerprint names the bytes; execution requirements change the action only.
    if not settings.execution_requirements:
        return settings.fingerprint
    return settings.fingerprint + "_" + hash8(settings.key)

def _interpreter_layer_impl(ctx):
    tier = ctx.attr._layer_tier[LayerTierInfo]
    lookup = ctx.attr._layer_tier[TierLookupInfo]
    toolchain = ctx.toolchains[PY_TOOLCHAIN]
    runtime = toolchain.py3_runtime if toolchain else None
    files = interpreter_files(runtime)
    if not files:
        return []  # nothing to build: the binary's aspect or the rule reports a missing runtime
    tool = pyimage_tool(ctx)
    layers = {}
    for settings in _shared_settings(tier, lookup):
        layers[settings.key] = declare_interpreter_layer(
            ctx.actions,
            _runtime_label(runtime),
            tool,
            settings,
            "0_interpreter",  # first in every image; no group name: tiers name it differently
            files,
            "%s/%s/" % (ctx.label.name, _settings_dir(settings)),
        )
    return [InterpreterLayerInfo(layers = layers, runtime = runtime)]

interpreter_layer = rule(
    implementation = _interpreter_layer_impl,
    doc = """PRIVATE: the interpreter layer of the Python toolchain resolved in this target's
configuration, with the flag tier's interpreter settings and with its default settings.

One target (`//py/private:interpreter_layer`) is an implicit dependency of the merge
aspect and of `py_image_layer`: every binary of one configuration depends on the same
configured target, so the `PyImageInterpreter` action of one runtime and one set of byte
settings is declared once, whatever the number of binaries and whichever tier each
target is pinned to.""",
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

def shared_interpreter_layer(shared, tier, lookup, runtime):
    """The shared target's interpreter layer for a tier, when it has the tier's bytes.

    Args:
      shared: the `//py/private:interpreter_layer` Target.
      tier: LayerTierInfo (flag's or pinned).
      lookup: TierLookupInfo of the same tier.
      runtime: PyRuntimeInfo of the caller's Python toolchain, or None.

    Returns:
      struct(tar, descriptor), or None: the tier has no interpreter layer, the runtime is
      another, or the tier asks for other bytes (or execution requirements) than the
      shared target builds; the caller then declares the layer itself.
    """
    if not tier.interpreter_group or not runtime or InterpreterLayerInfo not in shared:
        return None
    info = shared[InterpreterLayerInfo]
    if not same_runtime(info.runtime, runtime):
        return None
    return info.layers.get(layer_settings(lookup, tier.interpreter_group).key)
