"""Analysis tests of `py_image_layer(base = ...)`: the validate and report actions read the
base image (flags and inputs); a wrong `base` is an analysis error naming the fix."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

_COMMANDS = ["PyImageValidate", "PyImageReport", "PyImageReportJson", "PyImageReportHtml"]

def _flag(argv, name):
    """The value after `name` in argv, or None."""
    for i in range(len(argv) - 1):
        if argv[i] == name:
            return argv[i + 1]
    return None

def _base_flags_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = [a for a in analysistest.target_actions(env) if a.mnemonic in _COMMANDS]
    asserts.equals(env, len(_COMMANDS), len(actions), "the validate and three report actions")
    for a in actions:
        base = _flag(a.argv, "--base")
        if not base:
            asserts.true(env, False, "%s has no --base: %s" % (a.mnemonic, a.argv))
            continue
        asserts.true(env, base.endswith(ctx.attr.base_suffix), "%s: --base %s must end with %s" % (a.mnemonic, base, ctx.attr.base_suffix))
        inputs = [f.path for f in a.inputs.to_list()]
        under = [p for p in inputs if p == base or p.startswith(base + "/")]
        asserts.true(env, len(under) >= ctx.attr.min_inputs, "%s: the base's files must be inputs (%d under %s): %s" % (a.mnemonic, ctx.attr.min_inputs, base, inputs))
        platform = _flag(a.argv, "--platform") or ""
        parts = platform.split("/")
        asserts.true(env, len(parts) == 2 and parts[0] == "linux" and parts[1] in ("amd64", "arm64"), "%s: --platform of the host's Linux platform, got %r" % (a.mnemonic, platform))
        asserts.false(env, "--base-layers" in a.argv, "no --base-layers with --base")
    return analysistest.end(env)

base_flags_test = analysistest.make(
    _base_flags_test_impl,
    attrs = {
        "base_suffix": attr.string(doc = "how the --base path ends"),
        "min_inputs": attr.int(default = 1, doc = "files of the base (at or under the --base path) among the inputs"),
    },
)

def _no_base_test_impl(ctx):
    env = analysistest.begin(ctx)
    for a in analysistest.target_actions(env):
        if a.mnemonic in _COMMANDS:
            asserts.false(env, "--base" in a.argv, "%s must not read a base image: %s" % (a.mnemonic, a.argv))
    return analysistest.end(env)

no_base_test = analysistest.make(_no_base_test_impl)

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    for want in ctx.attr.expected:
        asserts.expect_failure(env, want)
    return analysistest.end(env)

failure_test = analysistest.make(
    _failure_test_impl,
    expect_failure = True,
    attrs = {"expected": attr.string_list()},
)
