"""A binary's layers: declared once at the binary, in image order.

`layers_aspect` runs on the binary only, after `fragment_aspect`, with the flag's tier:
the interpreter layer, the merged pip layers, the first-party layers and the app layer
are declared once at the binary and shared by every `py_image_layer` of it.
`build_layers` is the same work, also called by the rule for a pinned tier.
"""

load("@rules_python//python:py_info.bzl", "PyInfo")
load(":fragment_aspect.bzl", "fragment_aspect")
load(":layer_action.bzl", "declare_layer", "declare_merge", "layer_settings", "manifest_line")
load(":names.bzl", "APP_GROUP", "INTERPRETER_MANIFEST", "SQUASHED_GROUP")
load(":partition.bzl", "partition_runfiles", "runfiles_entries")
load(":providers.bzl", "BinaryLayersInfo", "FragmentsInfo", "LayerTierInfo", "TierLookupInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

PY_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def layer(kind, group, tar, descriptor, fragments = None, patterns = []):
    """One layer of the image.

    Args:
      kind: "interpreter", "pip_group", "pip_squashed", "first_party" or "app" (the plan's kinds).
      group: the layer's name.
      tar: its tar File.
      descriptor: its JSON descriptor File.
      fragments: depset of the fragments it holds (pip layers), else None.
      patterns: the tier's patterns of a first-party group.

    Returns:
      struct(kind, group, tar, descriptor, fragments, patterns).
    """
    return struct(kind = kind, group = group, tar = tar, descriptor = descriptor, fragments = fragments or depset(), patterns = patterns)

def _fail(who, msg):
    fail("py_image_layer %s: %s" % (who, msg))

# ---- 1. the interpreter ----

def _interpreter_files(ctx, who, tier, binary):
    """The Python runtime's files of the binary's toolchain, or None without interpreter_group."""
    if not tier.interpreter_group:
        return None
    tc = ctx.toolchains[PY_TOOLCHAIN]
    runtime = tc.py3_runtime if tc else None
    if not runtime or not runtime.files:
        _fail(who, "layer_tier %s sets interpreter_group = %r but the Python toolchain of %s has no in-build runtime files (interpreter: %s). Use a toolchain whose py_runtime has `files` (a real interpreter tree), or remove interpreter_group from the tier." % (
            tier.label,
            tier.interpreter_group,
            binary.label,
            (runtime.interpreter.short_path if runtime.interpreter else runtime.interpreter_path) if runtime else None,
        ))
    return depset(
        [runtime.interpreter] if runtime.interpreter else [],
        transitive = [runtime.files] if runtime.files else [],
    )

def _interpreter_layer(ctx, who, tool, tier, settings, files, prefix):
    manifest = ctx.actions.args()
    manifest.set_param_file_format("multiline")
    manifest.add_all(files, map_each = manifest_line, expand_directories = False)
    built = declare_layer(
        ctx.actions,
        tool,
        settings,
        tar_path = prefix + "0_" + tier.interpreter_group + settings.ext,
        manifest_path = prefix + INTERPRETER_MANIFEST + ".manifest",
        manifest = manifest,
        inputs = files,
        mnemonic = "PyImageInterpreter",
        progress_message = "PyImageInterpreter %s (%s)" % (tier.interpreter_group, who),
    )
    return layer("interpreter", tier.interpreter_group, built.tar, built.descriptor)

# ---- 2. pip groups in tier order, 3. the squashed layer ----

def _fragment_order(f):
    return (f.tar.basename, f.tar.path)

def _pip_layer(ctx, who, tool, group, fragments, index, kind, prefix, ext):
    # Canonical order (fragment file name = <name>-<version>[-s<splits>.<part>], then
    # path): the depset's order follows the shape of this binary's dependency graph,
    # and two binaries whose group holds the same fragments must get the same bytes.
    # One flattening per pip layer, at the binary only (O(packages of the group)).
    frags = sorted(fragments.to_list(), key = _fragment_order)
    if len(frags) == 1:
        # One fragment (a one-package group, or one package left to squash): the layer
        # is the package's own fragment, built once at the package and shared by every
        # binary; no merge.
        return layer(kind, group, frags[0].tar, frags[0].descriptor, fragments = fragments)
    built = declare_merge(
        ctx.actions,
        tool,
        tar_path = "%s%d_%s%s" % (prefix, index, group, ext),
        name = group,
        fragments = frags,
        progress_message = "PyImageMerge %s (%s)" % ("squashed pip packages" if group == SQUASHED_GROUP else group, who),
    )
    return layer(kind, group, built.tar, built.descriptor, fragments = fragments)

def _pip_layers(ctx, who, tool, lookup, groups, first_index, prefix, ext):
    out = []
    for group in lookup.pip_groups + [SQUASHED_GROUP]:
        if group in groups:
            kind = "pip_squashed" if group == SQUASHED_GROUP else "pip_group"
            out.append(_pip_layer(ctx, who, tool, group, groups[group], first_index + len(out), kind, prefix, ext))
    return out

# ---- 4. first-party groups, 5. the app layer ----

def _label_prefixes(lookup):
    """(group, runfiles path prefix) of every first-party pattern, in tier order."""
    out = []
    for group, prefixes in lookup.label_groups:
        for repo, p in prefixes:
            out.append((group, (repo or "_main") + "/" + p))
    return out

def _runfiles_layer(ctx, who, tool, settings, name, kind, mnemonic, lines, files, index, prefix, patterns = []):
    built = declare_layer(
        ctx.actions,
        tool,
        settings,
        tar_path = "%s%d_%s%s" % (prefix, index, name, settings.ext),
        manifest_path = "%s%s.manifest" % (prefix, name),
        manifest = "\n".join(lines) + "\n",
        inputs = depset(files),
        mnemonic = mnemonic,
        progress_message = "%s %s (%s)" % (mnemonic, name, who),
    )
    return layer(kind, name, built.tar, built.descriptor, patterns = patterns)

def _runfiles_layers(ctx, who, tool, tier, lookup, settings, binary, interpreter_files, skip_prefixes, first_index, prefix):
    """The first-party layers and the app layer, from one walk over the binary's runfiles.

    Each layer action gets only its own files as inputs: editing a file re-runs only the
    layer holding it, and the sandbox stages only those files (not every pip file).
    """
    files_to_run = binary[DefaultInfo].files_to_run
    parts = partition_runfiles(
        runfiles_entries(binary[DefaultInfo].default_runfiles),  # O(runfiles), at the binary only
        interpreter_paths = {manifest_line(f).split("\t")[1]: True for f in interpreter_files.to_list()} if interpreter_files else {},
        pip_prefixes = {p: True for p in skip_prefixes.to_list()},  # O(packages)
        label_prefixes = _label_prefixes(lookup),
    )
    layers = []
    empty_label_groups = []
    for group, entries in parts.groups.items():
        if not entries:
            empty_label_groups.append(group)  # no runfile under its patterns: no layer
            continue
        layers.append(_runfiles_layer(
            ctx,
            who,
            tool,
            settings,
            group,
            "first_party",
            "PyImageFirstParty",
            [e.line for e in entries],
            [e.file for e in entries if e.file],
            first_index + len(layers),
            prefix,
            patterns = tier.groups[group],
        ))

    lines = [e.line for e in parts.app]
    files = [e.file for e in parts.app if e.file]
    repo_mapping = getattr(files_to_run, "repo_mapping_manifest", None)
    if repo_mapping:
        lines.append("data\t_repo_mapping\t" + repo_mapping.path)
        files.append(repo_mapping)
    exe = files_to_run.executable
    lines.append("exec\t%s/%s\t%s" % (settings.root, exe.basename, exe.path))
    files.append(exe)
    lines.append("symlink\t%s/%s.runfiles\t.runfiles" % (settings.root, exe.basename))
    layers.append(_runfiles_layer(ctx, who, tool, settings, APP_GROUP, "app", "PyImageApp", lines, files, first_index + len(layers), prefix))
    return layers, empty_label_groups

def build_layers(ctx, who, tool, tier, lookup, groups, skip_prefixes, binary, prefix):
    """Declares every layer of a binary under a tier, in image order.

    Args:
      ctx: rule or aspect context (actions, toolchains).
      who: the target named in messages.
      tool: FilesToRunProvider of `pyimage`.
      tier: LayerTierInfo.
      lookup: TierLookupInfo of the same tier.
      groups: dict group -> depset of fragments, under this tier.
      skip_prefixes: depset of the runfiles paths the fragments ship.
      binary: the binary Target.
      prefix: output directory prefix in the caller's package.

    Returns:
      struct(layers = list of layer() in image order, empty_label_groups = first-party
      groups whose patterns matched no runfile).
    """
    settings = layer_settings(tier)
    layers = []
    interpreter_files = _interpreter_files(ctx, who, tier, binary)
    if interpreter_files:
        layers.append(_interpreter_layer(ctx, who, tool, tier, settings, interpreter_files, prefix))
    layers.extend(_pip_layers(ctx, who, tool, lookup, groups, len(layers), prefix, settings.ext))
    runfiles_layers, empty_label_groups = _runfiles_layers(
        ctx,
        who,
        tool,
        tier,
        lookup,
        settings,
        binary,
        interpreter_files,
        skip_prefixes,
        len(layers),
        prefix,
    )
    return struct(layers = layers + runfiles_layers, empty_label_groups = empty_label_groups)

def label_str(label):
    """A label as users write it (`//pkg:name` in the main repository)."""
    if not label.workspace_name:
        return "//%s:%s" % (label.package, label.name)
    return str(label)

def _layers_aspect_impl(target, ctx):
    files_to_run = target[DefaultInfo].files_to_run
    if PyInfo not in target or not files_to_run or not files_to_run.executable:
        return []  # the rule reports it, naming the py_image_layer target
    tier = ctx.attr._layer_tier[LayerTierInfo]
    if tier.interpreter_group:
        tc = ctx.toolchains[PY_TOOLCHAIN]
        if not tc or not tc.py3_runtime or not tc.py3_runtime.files:
            return []  # the rule reports it, naming the py_image_layer target
    fragments = target[FragmentsInfo]
    built = build_layers(
        ctx,
        label_str(target.label),
        pyimage_tool(ctx),
        tier,
        ctx.attr._layer_tier[TierLookupInfo],
        fragments.groups,
        fragments.skip_prefixes,
        target,
        target.label.name + "_pyimage/",
    )
    return [BinaryLayersInfo(tier = tier.label, layers = built.layers, empty_label_groups = built.empty_label_groups)]

layers_aspect = aspect(
    implementation = _layers_aspect_impl,
    doc = "Declares a binary's layers under the flag's tier, at the binary (attr_aspects = []: it does not propagate): merges of fragments, the interpreter, first-party and app layers.",
    attr_aspects = [],
    requires = [fragment_aspect],
    attrs = {
        "_layer_tier": attr.label(default = Label("//py:layer_tier"), providers = [LayerTierInfo, TierLookupInfo]),
    },
    toolchains = [
        TOOLCHAIN_TYPE,
        config_common.toolchain_type(PY_TOOLCHAIN, mandatory = False),
    ],
)
