"""Analysis tests of layer_tier and py_image_layer: bad configurations, provider
contents, layer order, package identity (skylib analysistest)."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//py:defs.bzl", "LayerTierInfo", "layer_tier")
load("//py/private:compression.bzl", "COMPRESSIONS")
load("//py/private:providers.bzl", "TierLookupInfo")

# ---- expected failures ----

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

# ---- provider contents ----

def _tier_info_test_impl(ctx):
    env = analysistest.begin(ctx)
    tier = analysistest.target_under_test(env)[LayerTierInfo]
    lookup = analysistest.target_under_test(env)[TierLookupInfo]
    asserts.equals(env, ["web", "ml", "split", "mylibs"], tier.groups.keys())
    asserts.equals(env, "zstd", tier.compression)
    asserts.equals(env, 5, tier.compression_level)
    asserts.equals(env, "/srv", tier.root)
    asserts.equals(env, "65532:65532", tier.owner)
    asserts.equals(env, "python", tier.interpreter_group)
    asserts.equals(env, ["web", "ml", "split"], lookup.pip_groups)
    asserts.equals(env, ("web", "charset_normalizer"), lookup.pip_exact["charset-normalizer"])
    asserts.equals(env, [("nvidia-*", "ml", "nvidia-*")], lookup.pip_globs)
    asserts.equals(env, [("torch/lib/**", "split", "torch:torch/lib/**")], lookup.splits["torch"])
    asserts.equals(env, [("mylibs", [("", "libs/")])], lookup.label_groups)
    asserts.true(env, tier.fingerprint.startswith("zst5_"), tier.fingerprint)
    asserts.equals(env, [], [f for f in dir(tier) if f.startswith("_")], "private fields in the public LayerTierInfo")
    return analysistest.end(env)

tier_info_test = analysistest.make(_tier_info_test_impl)

def _fingerprint_test_impl(ctx):
    env = analysistest.begin(ctx)
    a = analysistest.target_under_test(env)[LayerTierInfo]
    b = ctx.attr.same[LayerTierInfo]
    c = ctx.attr.different[LayerTierInfo]
    asserts.equals(env, a.fingerprint, b.fingerprint, "groups must not change the fingerprint")
    asserts.true(env, a.fingerprint != c.fingerprint, "root must change the fingerprint")
    return analysistest.end(env)

fingerprint_test = analysistest.make(
    _fingerprint_test_impl,
    attrs = {
        "different": attr.label(providers = [LayerTierInfo]),
        "same": attr.label(providers = [LayerTierInfo]),
    },
)

# ---- layer order and actions of py_image_layer ----

def _layers_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    names = [f.basename for f in target[DefaultInfo].files.to_list()]
    asserts.equals(env, ctx.attr.layers, names)
    descs = [f.basename for f in target[OutputGroupInfo].descriptors.to_list()]
    asserts.equals(env, [n + ".json" for n in ctx.attr.layers], descs)
    mnemonics = {}
    for a in analysistest.target_actions(env):
        mnemonics[a.mnemonic] = mnemonics.get(a.mnemonic, 0) + 1
    for m, n in ctx.attr.mnemonics.items():
        asserts.equals(env, int(n), mnemonics.get(m, 0), "actions with mnemonic " + m)
    return analysistest.end(env)

layers_test = analysistest.make(
    _layers_test_impl,
    attrs = {
        "layers": attr.string_list(),
        "mnemonics": attr.string_dict(doc = "mnemonic -> count of actions owned by the target under test"),
    },
)

# ---- packages found by the aspect ----

def _packages_test_impl(ctx):
    env = analysistest.begin(ctx)
    plan = [a for a in analysistest.target_actions(env) if a.mnemonic == "FileWrite" and a.outputs.to_list()[0].basename == "plan.json"]
    asserts.equals(env, 1, len(plan))
    content = plan[0].content
    for want in ctx.attr.contains:
        asserts.true(env, want in content, "plan.json lacks %r:\n%s" % (want, content))
    return analysistest.end(env)

packages_test = analysistest.make(
    _packages_test_impl,
    attrs = {"contains": attr.string_list()},
)

# ---- two py_image_layer targets of one binary share its layers ----

def _same_layers_test_impl(ctx):
    env = analysistest.begin(ctx)
    a = [f.path for f in analysistest.target_under_test(env)[DefaultInfo].files.to_list()]
    b = [f.path for f in ctx.attr.other[DefaultInfo].files.to_list()]
    asserts.equals(env, b, a, "layers of two py_image_layer targets on one binary (flag tier)")
    asserts.true(env, "/app_pyimage/" in a[-1], a[-1])
    return analysistest.end(env)

same_layers_test = analysistest.make(
    _same_layers_test_impl,
    attrs = {"other": attr.label()},
)

# ---- label patterns resolve apparent repository names ----

def _label_groups_test_impl(ctx):
    env = analysistest.begin(ctx)
    lookup = analysistest.target_under_test(env)[TierLookupInfo]
    got = {g: [(repo.split("~")[-1].split("+")[-1], p) for repo, p in prefixes] for g, prefixes in lookup.label_groups}
    asserts.equals(env, {"ext": [("fakepypi_beta", "")], "everything": [("", "")]}, got)
    return analysistest.end(env)

label_groups_test = analysistest.make(_label_groups_test_impl)

# ---- compression levels: the bounds of py/private/compression.bzl ----

def _level_test_impl(ctx):
    env = analysistest.begin(ctx)
    tier = analysistest.target_under_test(env)[LayerTierInfo]
    asserts.equals(env, ctx.attr.compression, tier.compression)
    asserts.equals(env, ctx.attr.level, tier.compression_level)
    return analysistest.end(env)

level_test = analysistest.make(
    _level_test_impl,
    attrs = {
        "compression": attr.string(),
        "level": attr.int(),
    },
)

def compression_bounds_tests(name):
    """For each compression: its lowest and highest level are accepted, one below and one above are refused.

    -1 means "the default", so below a lowest level of 0 the refused level is -2.

    Args:
      name: name of the test_suite over all of them.
    """
    tests = []
    for comp, spec in COMPRESSIONS.items():
        below = spec.min - 1 if spec.min - 1 != -1 else -2
        for what, level in [("min", spec.min), ("max", spec.max)]:
            tier = "%s_%s_%s" % (name, comp, what)
            layer_tier(name = tier, compression = comp, compression_level = level, tags = ["manual"])
            level_test(name = tier + "_test", target_under_test = ":" + tier, compression = comp, level = level)
            tests.append(tier + "_test")
        for what, level in [("below", below), ("above", spec.max + 1)]:
            tier = "%s_%s_%s" % (name, comp, what)
            layer_tier(name = tier, compression = comp, compression_level = level, tags = ["manual"])
            failure_test(
                name = tier + "_test",
                target_under_test = ":" + tier,
                expected = [
                    tier,
                    "compression_level = %d is out of range for %s (%d..%d)" % (level, comp, spec.min, spec.max),
                ],
            )
            tests.append(tier + "_test")
    native.test_suite(name = name, tests = tests)
