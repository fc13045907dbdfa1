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

# ---- settings per layer: the tier's provider, the flag, execution requirements ----

def _group_settings_test_impl(ctx):
    env = analysistest.begin(ctx)
    tier = analysistest.target_under_test(env)[LayerTierInfo]
    lookup = analysistest.target_under_test(env)[TierLookupInfo]
    got = {g: "%s:%d" % c for g, c in tier.group_compression.items()}
    asserts.equals(env, ctx.attr.compression, got)
    for group, owner in ctx.attr.owner.items():
        asserts.equals(env, owner, lookup.settings.get(group, lookup.default_settings).owner, "owner of " + group)
    for group, tags in ctx.attr.requirements.items():
        asserts.equals(env, {t: "" for t in tags}, lookup.settings.get(group, lookup.default_settings).execution_requirements, "execution requirements of " + group)
    fingerprints = {g: lookup.settings.get(g, lookup.default_settings).fingerprint for g in ctx.attr.same_fingerprint + ctx.attr.other_fingerprint}
    for g in ctx.attr.same_fingerprint:
        asserts.equals(env, tier.fingerprint, fingerprints[g], "fingerprint of %s (the tier's settings)" % g)
    for g in ctx.attr.other_fingerprint:
        asserts.true(env, fingerprints[g] != tier.fingerprint, "fingerprint of %s must differ from the tier's" % g)
    return analysistest.end(env)

_GROUP_SETTINGS_ATTRS = {
    "compression": attr.string_dict(doc = "layer -> \"compression:level\" expected in group_compression"),
    "other_fingerprint": attr.string_list(doc = "layers whose bytes differ from the tier's default"),
    "owner": attr.string_dict(),
    "requirements": attr.string_list_dict(),
    "same_fingerprint": attr.string_list(doc = "layers with the tier's byte settings"),
}

group_settings_test = analysistest.make(_group_settings_test_impl, attrs = _GROUP_SETTINGS_ATTRS)

# the same under `--@rules_pyimage//py:compression=none`
group_settings_flag_none_test = analysistest.make(
    _group_settings_test_impl,
    attrs = _GROUP_SETTINGS_ATTRS,
    config_settings = {str(Label("//py:compression")): "none"},
)

layers_flag_none_test = analysistest.make(
    _layers_test_impl,
    attrs = {
        "layers": attr.string_list(),
        "mnemonics": attr.string_dict(),
    },
    config_settings = {str(Label("//py:compression")): "none"},
)

# ---- layer paths (fragments built at the distribution under the flag's tier) ----

def _layer_paths_test_impl(ctx):
    env = analysistest.begin(ctx)
    paths = [f.path for f in analysistest.target_under_test(env)[DefaultInfo].files.to_list()]
    asserts.equals(env, len(ctx.attr.contains), len(paths), "layers: %s" % paths)
    for i, want in enumerate(ctx.attr.contains):
        for part in want.split("*"):
            asserts.true(env, part in paths[i], "layer %d: %r lacks %r" % (i, paths[i], part))
    for label in ctx.attr.same_as:
        other = [f.path for f in label[DefaultInfo].files.to_list()]
        for i_str in ctx.attr.same_as[label].split(","):
            i, j = [int(x) for x in i_str.split("=")]
            asserts.equals(env, other[j], paths[i], "layer %d must be layer %d of %s (the very same artifact)" % (i, j, label.label))
    return analysistest.end(env)

_LAYER_PATHS_ATTRS = {
    "contains": attr.string_list(doc = "per layer: `*`-separated substrings its path contains"),
    "same_as": attr.label_keyed_string_dict(doc = "other py_image_layer -> \"i=j,...\": layer i here is its layer j"),
}

layer_paths_test = analysistest.make(_layer_paths_test_impl, attrs = _LAYER_PATHS_ATTRS)

layer_paths_flag_tier_test = analysistest.make(
    _layer_paths_test_impl,
    attrs = _LAYER_PATHS_ATTRS,
    config_settings = {str(Label("//py:layer_tier")): str(Label("//py/tests:per_group_flag"))},
)

layers_flag_tier_test = analysistest.make(
    _layers_test_impl,
    attrs = {
        "layers": attr.string_list(),
        "mnemonics": attr.string_dict(),
    },
    config_settings = {str(Label("//py:layer_tier")): str(Label("//py/tests:per_group_flag"))},
)

layer_paths_flag_budget_test = analysistest.make(
    _layer_paths_test_impl,
    attrs = _LAYER_PATHS_ATTRS,
    config_settings = {str(Label("//py:layer_tier")): str(Label("//py/tests:budget_10"))},
)

# ---- several binaries over one runfiles tree ----

def _manifest_test_impl(ctx):
    env = analysistest.begin(ctx)
    writes = {
        a.outputs.to_list()[0].basename: a.content
        for a in analysistest.target_actions(env)
        if a.mnemonic == "FileWrite"
    }
    content = writes.get(ctx.attr.manifest)
    asserts.true(env, content != None, "no manifest %s among %s" % (ctx.attr.manifest, sorted(writes)))
    lines = (content or "").splitlines()
    for want in ctx.attr.lines:
        hits = [line for line in lines if line.startswith(want)]
        asserts.equals(env, 1, len(hits), "lines starting with %r in %s:\n%s" % (want, ctx.attr.manifest, content))
    paths = [line.split("\t")[1] for line in lines if "\t" in line]
    asserts.equals(env, sorted({p: True for p in paths}.keys()), sorted(paths), "a path twice in " + ctx.attr.manifest)
    return analysistest.end(env)

manifest_test = analysistest.make(
    _manifest_test_impl,
    attrs = {
        "lines": attr.string_list(doc = "prefixes of lines the manifest has exactly once"),
        "manifest": attr.string(doc = "basename of the manifest written by the target"),
    },
)

def _runfiles_symlink_impl(ctx):
    return [DefaultInfo(runfiles = ctx.runfiles(symlinks = {ctx.attr.path: ctx.file.src}))]

runfiles_symlink = rule(
    implementation = _runfiles_symlink_impl,
    doc = "TEST-ONLY: runfiles with one file at `path` (under the main repository).",
    attrs = {
        "path": attr.string(),
        "src": attr.label(allow_single_file = True),
    },
)

def _runfiles_links_impl(ctx):
    link = ctx.actions.declare_symlink(ctx.label.name + "_venv/bin/python3")
    ctx.actions.symlink(output = link, target_path = "python3.11")
    return [DefaultInfo(runfiles = ctx.runfiles(
        files = [link, ctx.file.src],
        symlinks = {ctx.label.package + "/linked.py": ctx.file.src, ctx.label.package + "/copied.txt": ctx.file.other},
        root_symlinks = {"top.py": ctx.file.src},
    ))]

runfiles_links = rule(
    implementation = _runfiles_links_impl,
    doc = "TEST-ONLY: runfiles with a symlink artifact, a `symlinks` entry to a runfile and to a non-runfile, and a `root_symlinks` entry.",
    attrs = {
        "other": attr.label(allow_single_file = True),
        "src": attr.label(allow_single_file = True),
    },
)

# ---- platform: the binary in the target platform's configuration, the tool on the exec platform ----

def _platform_test_impl(ctx):
    env = analysistest.begin(ctx)
    app = [a for a in analysistest.target_actions(env) if a.mnemonic == "PyImageApp"]
    asserts.equals(env, 1, len(app), "PyImageApp actions")
    inputs = app[0].inputs.to_list() if app else []
    names = [f.basename for f in inputs]
    for want in ctx.attr.inputs:
        asserts.true(env, want in names, "%s must be an input of the app layer (the binary configured for the platform): %s" % (want, names))
    for unwanted in ctx.attr.not_inputs:
        asserts.false(env, unwanted in names, "%s must not be an input of the app layer" % unwanted)
    tool = [f for f in inputs if f.basename == ctx.attr.tool_name]
    asserts.equals(env, 1, len(tool), "the tool among the inputs")
    if tool:
        asserts.true(env, "-exec" in tool[0].root.path, "the tool must be built for the exec platform: " + tool[0].path)
    return analysistest.end(env)

platform_test = analysistest.make(
    _platform_test_impl,
    attrs = {
        "inputs": attr.string_list(doc = "basenames the app layer action must have as inputs"),
        "not_inputs": attr.string_list(doc = "basenames it must not have"),
        "tool_name": attr.string(doc = "basename of the generated pyimage tool"),
    },
    # a pyimage toolchain whose tool is a generated file, so its configuration shows in its path
    config_settings = {"//command_line_option:extra_toolchains": [str(Label("//py/tests:generated_pyimage_toolchain"))]},
)
