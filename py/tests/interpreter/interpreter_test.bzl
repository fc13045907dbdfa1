"""TEST-ONLY: the interpreter layer of binaries sharing a runtime is one artifact."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//py/private:merge_aspect.bzl", "merge_aspect")
load("//py/private:providers.bzl", "BinaryLayersInfo")

InterpreterLayersInfo = provider(
    doc = "TEST-ONLY: the interpreter layer tar of each binary, in order.",
    fields = {"tars": "list of File or None"},
)

def _interpreter_layers_impl(ctx):
    tars = []
    for b in ctx.attr.binaries:
        layers = b[BinaryLayersInfo].layers if BinaryLayersInfo in b else []
        tars.append(layers[0].tar if layers and layers[0].kind == "interpreter" else None)
    return [InterpreterLayersInfo(tars = tars)]

interpreter_layers = rule(
    implementation = _interpreter_layers_impl,
    doc = "TEST-ONLY: the interpreter layer of each binary, as the merge aspect declares it.",
    attrs = {"binaries": attr.label_list(aspects = [merge_aspect])},
)

def _one_interpreter_action_test_impl(ctx):
    env = analysistest.begin(ctx)
    tars = analysistest.target_under_test(env)[InterpreterLayersInfo].tars
    asserts.equals(env, 2, len(tars), "binaries")
    asserts.false(env, None in tars, "every binary has an interpreter layer: %s" % tars)
    paths = sorted({t.path: True for t in tars if t}.keys())
    asserts.equals(env, 1, len(paths), "one interpreter layer artifact (one PyImageInterpreter action) for both binaries: %s" % paths)
    for t in tars:
        if t:
            asserts.equals(env, Label("//py/private:interpreter_layer"), t.owner, "the layer's owner (the target declaring its action)")
    return analysistest.end(env)

one_interpreter_action_test = analysistest.make(
    _one_interpreter_action_test_impl,
    config_settings = {
        "//command_line_option:extra_toolchains": [str(Label("//py/tests/interpreter:runtime_toolchain"))],
        str(Label("//py:layer_tier")): str(Label("//py/tests/interpreter:with_interpreter")),
    },
)

FirstLayersInfo = provider(
    doc = "TEST-ONLY: the first layer tar of each py_image_layer, in order.",
    fields = {"tars": "list of File"},
)

def _first_layers_impl(ctx):
    return [FirstLayersInfo(tars = [t[DefaultInfo].files.to_list()[0] for t in ctx.attr.images])]

first_layers = rule(
    implementation = _first_layers_impl,
    doc = "TEST-ONLY: the first layer (the interpreter's) of each py_image_layer.",
    attrs = {"images": attr.label_list()},
)

_SHARED = Label("//py/private:interpreter_layer")

def _pinned_tiers_share_interpreter_test_impl(ctx):
    env = analysistest.begin(ctx)
    a, b, zstd = analysistest.target_under_test(env)[FirstLayersInfo].tars
    asserts.equals(env, a.path, b.path, "two tiers with the same interpreter bytes: one interpreter layer artifact (one PyImageInterpreter action)")
    asserts.equals(env, _SHARED, a.owner, "the shared layer's owner (the target declaring its action)")
    asserts.true(env, zstd.basename.endswith(".tar.zst"), "the zstd pin's interpreter layer: %s" % zstd.basename)
    asserts.equals(env, Label("//py/tests/interpreter:pinned_zstd"), zstd.owner, "a tier asking for other interpreter bytes declares its own action")
    return analysistest.end(env)

# Under the default flag tier (no interpreter_group): the shared target has no tier
# naming an interpreter layer, and still serves the pins.
pinned_tiers_share_interpreter_test = analysistest.make(
    _pinned_tiers_share_interpreter_test_impl,
    config_settings = {
        "//command_line_option:extra_toolchains": [str(Label("//py/tests/interpreter:runtime_toolchain"))],
    },
)

def _no_interpreter_action_test_impl(ctx):
    env = analysistest.begin(ctx)
    own = [a for a in analysistest.target_actions(env) if a.mnemonic == "PyImageInterpreter"]
    asserts.equals(env, 0, len(own), "PyImageInterpreter actions of the pinned target itself: %s" % [a.outputs.to_list() for a in own])
    return analysistest.end(env)

no_interpreter_action_test = analysistest.make(
    _no_interpreter_action_test_impl,
    config_settings = {
        "//command_line_option:extra_toolchains": [str(Label("//py/tests/interpreter:runtime_toolchain"))],
    },
)
