"""A binary's layers: declared once at the binary, in image order.

`_merge_aspect` runs on the binary only, after `_layer_aspect`, with the flag's tier:
the merged pip layers, the first-party layers and the app layer are declared once at
the binary and shared by every `py_image_layer` of it; the interpreter layer is the one
`//py/private:interpreter_layer` declares once per Python runtime and byte settings
(interpreter.bzl).
`build_layers` is the same work, also called by the rule for a pinned tier.
"""

load("@rules_python//python:py_info.bzl", "PyInfo")
load(":interpreter.bzl", "declare_interpreter_layer", "interpreter_files", "shared_interpreter_layer", _PY_TOOLCHAIN = "PY_TOOLCHAIN")
load(":layer_action.bzl", "declare_autolayer", "declare_layer", "declare_merge", "layer_settings", "manifest_line")
load(":layer_aspect.bzl", "layer_aspect")
load(":names.bzl", "APP_GROUP", "SQUASHED_GROUP")
load(":partition.bzl", "partition_runfiles", "runfiles_entries", "union_runfiles")
load(":providers.bzl", "BinaryLayersInfo", "FragmentsInfo", "LayerTierInfo", "TierLookupInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

PY_TOOLCHAIN = _PY_TOOLCHAIN

def layer(kind, group, tar, descriptor, fragments = None, patterns = [], assignment = None):
    """One layer of the image.

    Args:
      kind: "interpreter", "pip_group", "pip_squashed", "pip_auto", "first_party" or "app" (the plan's kinds).
      group: the layer's name.
      tar: its tar File.
      descriptor: its JSON descriptor File.
      fragments: depset of the fragments it holds (pip layers whose members are known at
        analysis), else None.
      patterns: the tier's patterns of a first-party group.
      assignment: the auto layers' assignment JSON File (pip_auto layers), else None.

    Returns:
      struct(kind, group, tar, descriptor, fragments, patterns, assignment).
    """
    return struct(kind = kind, group = group, tar = tar, descriptor = descriptor, fragments = fragments or depset(), patterns = patterns, assignment = assignment)

def _fail(who, msg):
    fail("py_image_layer %s: %s" % (who, msg))

# ---- 1. the interpreter ----

def _interpreter_files(ctx, who, tier, binary):
    """The Python runtime's files of the binary's toolchain, or None without interpreter_group."""
    if not tier.interpreter_group:
        return None
    tc = ctx.toolchains[PY_TOOLCHAIN]
    runtime = tc.py3_runtime if tc else None
    files = interpreter_files(runtime)
    if not files:
        _fail(who, "layer_tier %s sets interpreter_group = %r but the Python toolchain of %s has no in-build runtime files (interpreter: %s). Use a toolchain whose py_runtime has `files` (a real interpreter tree), or remove interpreter_group from the tier." % (
            tier.label,
            tier.interpreter_group,
            binary.label,
            (runtime.interpreter.short_path if runtime.interpreter else runtime.interpreter_path) if runtime else None,
        ))
    return files

def _interpreter_layer(ctx, who, tool, tier, lookup, files, prefix):
    # Only when the shared target (interpreter.bzl) has not the tier's bytes or not the
    # binary's runtime.
    settings = layer_settings(lookup, tier.interpreter_group)
    built = declare_interpreter_layer(ctx.actions, who, tool, settings, "0_" + tier.interpreter_group, files, prefix)
    return layer("interpreter", tier.interpreter_group, built.tar, built.descriptor)

def shared_interpreter(shared, tier, lookup, ctx):
    """The shared interpreter layer (interpreter.bzl) for a tier, as a `reuse` list of build_layers.

    Args:
      shared: the `//py/private:interpreter_layer` Target.
      tier: LayerTierInfo.
      lookup: TierLookupInfo of the same tier.
      ctx: the rule or aspect context (its Python toolchain).

    Returns:
      [layer()] or [].
    """
    tc = ctx.toolchains[PY_TOOLCHAIN]
    built = shared_interpreter_layer(shared, tier, lookup, tc.py3_runtime if tc else None)
    return [layer("interpreter", tier.interpreter_group, built.tar, built.descriptor)] if built else []

# ---- 2. pip groups in tier order, 3. the squashed layer ----

def _fragment_order(f):
    return (f.tar.basename, f.tar.path)

def _same_fragments(layer, frags):
    return [f.tar.path for f in sorted(layer.fragments.to_list(), key = _fragment_order)] == [f.tar.path for f in frags]

def _pip_layer(ctx, who, tool, lookup, group, fragments, index, kind, prefix, reuse):
    # Canonical order (fragment file name = <name>-<version>[-s<splits>.<part>], then
    # path): the depset's order follows the shape of this binary's dependency graph,
    # and two binaries whose group holds the same fragments must get the same bytes.
    # One flattening per pip layer, at the binary only (O(packages of the group)).
    frags = {f.tar.path: f for f in fragments.to_list()}.values()  # once, even when two binaries reach it
    frags = sorted(frags, key = _fragment_order)
    if len(frags) == 1:
        # One fragment (a one-package group, or one package left to squash): the layer
        # is the package's own fragment, built once at the package and shared by every
        # binary; no merge.
        return layer(kind, group, frags[0].tar, frags[0].descriptor, fragments = fragments)
    for other in reuse:
        if other.group == group and other.kind == kind and _same_fragments(other, frags):
            return other  # a binary's own merge of the very same fragments: built once
    settings = layer_settings(lookup, group)
    built = declare_merge(
        ctx.actions,
        tool,
        settings,
        tar_path = "%s%d_%s%s" % (prefix, index, group, settings.ext),
        name = group,
        fragments = frags,
        progress_message = "PyImageMerge %s (%s)" % ("squashed pip packages" if group == SQUASHED_GROUP else group, who),
    )
    return layer(kind, group, built.tar, built.descriptor, fragments = fragments)

def _pip_layers(ctx, who, tool, lookup, groups, first_index, prefix, reuse, squash):
    out = []
    for group in lookup.pip_groups + ([SQUASHED_GROUP] if squash else []):
        if group in groups:
            kind = "pip_squashed" if group == SQUASHED_GROUP else "pip_group"
            out.append(_pip_layer(ctx, who, tool, lookup, group, groups[group], first_index + len(out), kind, prefix, reuse))
    return out

def _auto_layers(ctx, who, tool, tier, lookup, fragments, fixed, first_index, prefix):
    """The auto layers of a tier's budget: the ungrouped packages over K layers.

    K = min(budget - the other layers of the image, packages): fixed here, at analysis;
    which package goes where is the action's (pyimage autolayer, from the names alone).
    """
    frags = sorted({f.tar.path: f for f in fragments.to_list()}.values(), key = _fragment_order)  # O(packages), at the binary
    names = {f.name: True for f in frags}
    if not names:
        return []
    available = tier.budget - fixed
    if available < 1:
        # the tier checks budget > its interpreter, groups and app layer; this image has no more
        _fail(who, "layer_tier %s: budget = %d leaves no layer for the %d pip package(s) no group names (%d other layers); raise budget to at least %d" % (tier.label, tier.budget, len(names), fixed, fixed + 1))
    count = min(available, len(names))
    settings = layer_settings(lookup, SQUASHED_GROUP)
    built = declare_autolayer(
        ctx.actions,
        tool,
        settings,
        tar_paths = ["%s%d_auto-%d%s" % (prefix, first_index + i, i + 1, settings.ext) for i in range(count)],
        assignment_path = prefix + "auto_layers.json",
        fragments = frags,
        progress_message = "PyImageAutoLayer %d pip packages into %d layers (%s)" % (len(names), count, who),
    )
    return [
        layer("pip_auto", "auto-%d" % (i + 1), built.tars[i], built.descriptors[i], assignment = built.assignment)
        for i in range(count)
    ]

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

def _union_entries(who, binaries):
    """The runfiles entries of the binaries, each path once.

    Fails naming both binaries when two of them put different files at one path.
    """
    if len(binaries) == 1:
        return runfiles_entries(binaries[0][DefaultInfo].default_runfiles)  # O(runfiles)
    union = union_runfiles([
        (label_str(b.label), runfiles_entries(b[DefaultInfo].default_runfiles))
        for b in binaries
    ])
    if union.conflict:
        _fail(who, union.conflict)
    return union.entries

def _repo_mapping(ctx, binaries, prefix):
    """The `_repo_mapping` file of the image: the binary's, or the union of the binaries'.

    Bazel writes one per binary, listing the repositories that contribute to its runfiles,
    so two binaries with different dependencies have different files. Their union (lines
    sorted as Bazel sorts them, duplicates once) serves every binary: a repository's
    mapping is the same whichever binary lists it.
    """
    manifests = [
        b[DefaultInfo].files_to_run.repo_mapping_manifest
        for b in binaries
        if getattr(b[DefaultInfo].files_to_run, "repo_mapping_manifest", None)
    ]
    if len(manifests) <= 1:
        return manifests[0] if manifests else None
    out = ctx.actions.declare_file(prefix + "_repo_mapping")
    ctx.actions.run_shell(
        outputs = [out],
        inputs = manifests,
        command = 'out="$1"; shift; LC_ALL=C sort -u "$@" > "$out"',
        arguments = [out.path] + [m.path for m in manifests],
        mnemonic = "PyImageRepoMapping",
        progress_message = "PyImageRepoMapping %{output}",
    )
    return out

def _partition(who, lookup, binaries, interpreter_files, skip_prefixes):
    """The binaries' runfiles, partitioned into first-party groups and the app layer (one walk)."""
    return partition_runfiles(
        _union_entries(who, binaries),  # O(runfiles), at the binary (or the rule) only
        interpreter_paths = {manifest_line(f).split("\t")[1]: True for f in interpreter_files.to_list()} if interpreter_files else {},
        pip_prefixes = {p: True for p in skip_prefixes.to_list()},  # O(packages)
        label_prefixes = _label_prefixes(lookup),
    )

def _runfiles_layers(ctx, who, tool, tier, lookup, binaries, parts, first_index, prefix):
    """The first-party layers and the app layer, from the partition of the binaries' runfiles.

    Each layer action gets only its own files as inputs: editing a file re-runs only the
    layer holding it, and the sandbox stages only those files (not every pip file).
    """
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
            layer_settings(lookup, group),
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
    repo_mapping = _repo_mapping(ctx, binaries, prefix)
    if repo_mapping:
        lines.append("data\t_repo_mapping\t" + repo_mapping.path)
        files.append(repo_mapping)
    for b in binaries:  # one launcher per binary, each looking at the shared tree
        exe = b[DefaultInfo].files_to_run.executable
        lines.append("exec\t%s/%s\t%s" % (tier.root, exe.basename, exe.path))
        files.append(exe)
        lines.append("symlink\t%s/%s.runfiles\t.runfiles" % (tier.root, exe.basename))
    layers.append(_runfiles_layer(ctx, who, tool, layer_settings(lookup, APP_GROUP), APP_GROUP, "app", "PyImageApp", lines, files, first_index + len(layers), prefix))
    return layers, empty_label_groups

def build_layers(ctx, who, tool, tier, lookup, groups, skip_prefixes, binaries, prefix, reuse = []):
    """Declares every layer of one or more binaries under a tier, in image order.

    Several binaries share one runfiles tree: the union of their runfiles, one
    launcher each.

    Args:
      ctx: rule or aspect context (actions, toolchains).
      who: the target named in messages.
      tool: FilesToRunProvider of `pyimage`.
      tier: LayerTierInfo.
      lookup: TierLookupInfo of the same tier.
      groups: dict group -> depset of fragments, under this tier.
      skip_prefixes: depset of the runfiles paths the fragments ship.
      binaries: list of binary Targets (one configuration).
      prefix: output directory prefix in the caller's package.
      reuse: layers already declared under this tier (the binaries' own, by the
        layers aspect): the interpreter layer and any pip layer of the very same
        fragments are taken from there instead of being declared again.

    Returns:
      struct(layers = list of layer() in image order, empty_label_groups = first-party
      groups whose patterns matched no runfile).
    """
    layers = []
    interpreter_files = _interpreter_files(ctx, who, tier, binaries[0])
    if interpreter_files:
        reused = [r for r in reuse if r.kind == "interpreter"]
        layers.append(reused[0] if reused else _interpreter_layer(ctx, who, tool, tier, lookup, interpreter_files, prefix))
    layers.extend(_pip_layers(ctx, who, tool, lookup, groups, len(layers), prefix, reuse, squash = not tier.budget))
    parts = _partition(who, lookup, binaries, interpreter_files, skip_prefixes)
    if tier.budget and SQUASHED_GROUP in groups:
        runfiles_count = len([g for g, entries in parts.groups.items() if entries]) + 1  # + app
        layers.extend(_auto_layers(ctx, who, tool, tier, lookup, groups[SQUASHED_GROUP], len(layers) + runfiles_count, len(layers), prefix))
    runfiles_layers, empty_label_groups = _runfiles_layers(ctx, who, tool, tier, lookup, binaries, parts, len(layers), prefix)
    return struct(layers = layers + runfiles_layers, empty_label_groups = empty_label_groups)

def label_str(label):
    """A label as users write it (`//pkg:name` in the main repository)."""
    if not label.workspace_name:
        return "//%s:%s" % (label.package, label.name)
    return str(label)

def _merge_aspect_impl(target, ctx):
    files_to_run = target[DefaultInfo].files_to_run
    if PyInfo not in target or not files_to_run or not files_to_run.executable:
        return []  # the rule reports it, naming the py_image_layer target
    tier = ctx.attr._layer_tier[LayerTierInfo]
    if tier.interpreter_group:
        tc = ctx.toolchains[PY_TOOLCHAIN]
        if not tc or not tc.py3_runtime or not tc.py3_runtime.files:
            return []  # the rule reports it, naming the py_image_layer target
    fragments = target[FragmentsInfo]
    lookup = ctx.attr._layer_tier[TierLookupInfo]
    reuse = shared_interpreter(ctx.attr._interpreter_layer, tier, lookup, ctx)  # once per runtime, not per binary
    built = build_layers(
        ctx,
        label_str(target.label),
        pyimage_tool(ctx),
        tier,
        lookup,
        fragments.groups,
        fragments.skip_prefixes,
        [target],
        target.label.name + "_pyimage/",
        reuse = reuse,
    )
    return [BinaryLayersInfo(tier = tier.label, layers = built.layers, empty_label_groups = built.empty_label_groups)]

_merge_aspect = aspect(
    implementation = _merge_aspect_impl,
    doc = "Declares a binary's layers under the flag's tier, at the binary (attr_aspects = []: it does not propagate): merges of fragments, the interpreter, first-party and app layers.",
    attr_aspects = [],
    requires = [layer_aspect],
    attrs = {
        "_interpreter_layer": attr.label(default = Label("//py/private:interpreter_layer")),
        "_layer_tier": attr.label(default = Label("//py:layer_tier"), providers = [LayerTierInfo, TierLookupInfo]),
    },
    toolchains = [
        TOOLCHAIN_TYPE,
        config_common.toolchain_type(PY_TOOLCHAIN, mandatory = False),
    ],
)

merge_aspect = _merge_aspect
