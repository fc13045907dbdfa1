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
