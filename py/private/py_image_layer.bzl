"""The `py_image_layer` rule."""

load("@rules_python//python:py_info.bzl", "PyInfo")
load(":aspect.bzl", "layer_aspect")
load(":common.bzl", "add_settings", "assign_group", "manifest_line", "package_parts", "settings_of", "split_key")
load(":compression.bzl", "COMPRESSIONS")
load(":names.bzl", "APP_GROUP", "SQUASHED_GROUP")
load(":providers.bzl", "LayerTierInfo", "PyImageLayersInfo", "PyImagePackagesInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

_PY_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

# ---- map_each callbacks (top level: Bazel calls them lazily at execution) ----

def _symlink_line(entry):
    return "file\t_main/%s\t%s" % (entry.path, entry.target_file.path)

def _root_symlink_line(entry):
    return "file\t%s\t%s" % (entry.path, entry.target_file.path)

def _empty_line(path):
    if path.startswith("../"):
        return "empty\t" + path[3:]
    if path.startswith("external/"):
        # Bazel 7 names generated `__init__.py` files of other repositories (and of the
        # runfiles root) `external/<repo>/...`; they live at `<repo>/...`. The legacy
        # `_main/external/...` copies are never shipped.
        return "empty\t" + path[len("external/"):]
    return "empty\t_main/" + path

def _expected_file(f):
    return manifest_line(f).split("\t")[1]

def _expected_symlink(entry):
    return "_main/" + entry.path

def _expected_root_symlink(entry):
    return entry.path

def _expected_empty(path):
    line = _empty_line(path)
    return line.split("\t")[1] if line else None

def _layer_desc_arg(f):
    if f.path.endswith(".json"):
        return None
    return "%s=%s.json" % (f.path, f.path)

def _fragment_key(f):
    return (f.basename, f.path)

def _graph_json(line):
    name, _version, deps = line.split("\t")
    return json.encode(name) + ":" + json.encode([d for d in deps.split(",") if d])

def _interp_dest(f):
    return manifest_line(f).split("\t")[1]

# ---- helpers ----

def _label_str(label):
    if not label.workspace_name:
        return "//%s:%s" % (label.package, label.name)
    return str(label)

def _layer_struct(kind, group, tar, descriptor, packages):
    return struct(kind = kind, group = group, tar = tar, descriptor = descriptor, packages = packages)

def _fail(who, msg):
    if type(who) != "string":
        who = str(who.label)
    fail("py_image_layer %s: %s" % (who, msg))

def _plan_pinned(ctx, tier, info, tool, prefix):
    """Assigns groups under a pinned tier (not the flag's).

    A package whose fragments the aspect already built with equal settings and splits
    (the common case: a pin that only regroups) reuses them; only packages whose bytes
    differ get new fragments, built in this target's directory.
    """
    settings = settings_of(tier)
    groups = {}
    names = {}
    matched = {}
    for pkg in info.pkgs.to_list():  # one entry per distribution; rule level, once per target
        group, patterns = assign_group(tier, pkg.name)
        splits = tier._splits.get(pkg.name, [])
        for p in patterns + [s[2] for s in splits]:
            matched[p] = True
        if pkg.fingerprint == tier.fingerprint and pkg.split_key == split_key(splits):
            parts = [
                struct(group = splits[p.index][1] if p.index >= 0 else group, tar = p.tar, descriptor = p.descriptor)
                for p in pkg.parts
            ]
        else:
            parts = package_parts(ctx.actions, tool, pkg, settings, splits, group, out_prefix = prefix + "pkgs/")
        for part in parts:
            groups.setdefault(part.group, []).extend([part.tar, part.descriptor])
            names.setdefault(part.group, []).append(pkg.name)
    return (
        {k: depset(v) for k, v in groups.items()},
        {k: depset(v) for k, v in names.items()},
        matched,
    )

def _all_patterns(tier):
    out = []
    for group, patterns in tier.groups.items():
        if group in tier._pip_groups:
            out.extend([(group, p) for p in patterns])
    return out

def build_layers(ctx, who, tool, tier, groups, names, info, binary, prefix):
    """Declares every layer of a binary under a tier, in image order.

    Called by `_merge_aspect` at the binary (the flag's tier: shared by every
    py_image_layer of that binary) and by the rule for a pinned tier.

    Args:
      ctx: rule or aspect context (actions, toolchains).
      who: the target named in messages.
      tool: FilesToRunProvider of `pyimage`.
      tier: LayerTierInfo.
      groups: dict group -> depset of fragments (tars and descriptors); "" = squashed.
      names: dict group -> depset of distribution names.
      info: PyImagePackagesInfo of the binary.
      binary: the binary Target.
      prefix: output directory prefix in the caller's package.

    Returns:
      struct(layers = list of struct(kind, group, tar, descriptor, packages) in image
      order, empty_label_groups = first-party groups whose patterns matched no runfile).
    """
    files_to_run = binary[DefaultInfo].files_to_run
    exe = files_to_run.executable
    settings = settings_of(tier)
    root = tier.root
    ext = COMPRESSIONS[tier.compression].ext

    layers = []  # struct(kind, group, tar, descriptor, packages)

    # ---- 1. interpreter ----
    runtime = None
    interp_files = None
    if tier.interpreter_group:
        tc = ctx.toolchains[_PY_TOOLCHAIN]
        runtime = tc.py3_runtime if tc else None
        if not runtime or not runtime.files:
            _fail(who, "layer_tier %s sets interpreter_group = %r but the Python toolchain of %s has no in-build runtime files (interpreter: %s). Use a toolchain whose py_runtime has `files` (a real interpreter tree), or remove interpreter_group from the tier." % (
                tier.label,
                tier.interpreter_group,
                binary.label,
                (runtime.interpreter.short_path if runtime.interpreter else runtime.interpreter_path) if runtime else None,
            ))
        rt_files = depset(
            [runtime.interpreter] if runtime.interpreter else [],
            transitive = [runtime.files] if runtime.files else [],
        )
        manifest = ctx.actions.declare_file(prefix + "interpreter.manifest")
        m = ctx.actions.args()
        m.set_param_file_format("multiline")
        m.add_all(rt_files, map_each = manifest_line, expand_directories = False)
        ctx.actions.write(manifest, m)
        interp_files = rt_files
        tar = ctx.actions.declare_file(prefix + "0_" + tier.interpreter_group + ext)
        desc = ctx.actions.declare_file(tar.basename + ".json", sibling = tar)
        args = ctx.actions.args()
        args.use_param_file("@%s", use_always = True)
        args.set_param_file_format("multiline")
        args.add("--output", tar)
        args.add("--descriptor", desc)
        add_settings(args, settings)
        args.add("--prefix", root + "/.runfiles/")
        args.add("--manifest", manifest)
        ctx.actions.run(
            executable = tool,
            arguments = ["layer", args],
            inputs = depset([manifest], transitive = [rt_files]),
            outputs = [tar, desc],
            mnemonic = "PyImageInterpreter",
            progress_message = "PyImageInterpreter %s (%s)" % (tier.interpreter_group, who),
        )
        layers.append(struct(kind = "interpreter", group = tier.interpreter_group, tar = tar, descriptor = desc, packages = depset()))

    # ---- 2. pip groups in tier order, 3. squashed ----
    def pip_layer(group, index, kind):
        files = groups[group]

        # Canonical order (fragment file name = <name>-<version>[-s<splits>.<part>], then
        # path): the depset's order follows the shape of this binary's dependency graph,
        # and two binaries whose group holds the same fragments must get the same bytes.
        # One flattening per pip layer, at the binary only (O(packages of the group)).
        frags = sorted([f for f in files.to_list() if not f.path.endswith(".json")], key = _fragment_key)
        packages = names.get(group, depset())
        if len(frags) == 1:
            # One fragment (a one-package group, or one package left to squash): the layer
            # is the package's own fragment, built once at the package and shared by every
            # binary; no merge.
            desc = [f for f in files.to_list() if f.path == frags[0].path + ".json"][0]
            return _layer_struct(kind = kind, group = group or SQUASHED_GROUP, tar = frags[0], descriptor = desc, packages = packages)
        tar = ctx.actions.declare_file("%s%d_%s%s" % (prefix, index, group or SQUASHED_GROUP, ext))
        desc = ctx.actions.declare_file(tar.basename + ".json", sibling = tar)
        args = ctx.actions.args()
        args.use_param_file("@%s", use_always = True)
        args.set_param_file_format("multiline")
        args.add("--output", tar)
        args.add("--descriptor", desc)
        args.add("--name", group or SQUASHED_GROUP)
        args.add_all(frags, map_each = _layer_desc_arg)
        ctx.actions.run(
            executable = tool,
            arguments = ["merge", args],
            inputs = files,
            outputs = [tar, desc],
            mnemonic = "PyImageMerge",
            progress_message = "PyImageMerge %s (%s)" % (group or "squashed pip packages", who),
        )
        return _layer_struct(kind = kind, group = group or SQUASHED_GROUP, tar = tar, descriptor = desc, packages = packages)

    index = len(layers)
    for group in tier._pip_groups:
        if group in groups:
            layers.append(pip_layer(group, index, "pip_group"))
            index += 1
    if "" in groups:
        layers.append(pip_layer("", index, "pip_squashed"))
        index += 1

    # ---- 4. first-party groups and 5. the app layer ----
    # One walk over the binary's runfiles, here at the binary (O(runfiles)), puts every
    # entry into exactly one layer. Each layer action then gets only its own files as
    # inputs: editing a file re-runs only the layer holding it, and the sandbox stages only
    # those files (not every pip file of the binary).
    runfiles = binary[DefaultInfo].default_runfiles
    repo_mapping = getattr(files_to_run, "repo_mapping_manifest", None)
    rf_root = root + "/.runfiles/"
    interp_rel = {_interp_dest(f): True for f in interp_files.to_list()} if interp_files else {}
    pip_dirs = {p: True for p in info.skip_prefixes.to_list()}  # O(packages)

    label_prefixes = []  # (group, runfiles-relative prefix), longest match wins
    for group, prefixes in tier._label_groups:
        for repo, p in prefixes:
            label_prefixes.append((group, (repo or "_main") + "/" + p))
    buckets = {group: ([], []) for group, _ in tier._label_groups}
    app_lines = []
    app_files = []

    entries = []  # (runfiles-relative path, manifest line, input file or None)
    for f in runfiles.files.to_list():
        line = manifest_line(f)
        entries.append((line.split("\t")[1], line, f))
    for e in runfiles.symlinks.to_list():
        entries.append(("_main/" + e.path, _symlink_line(e), e.target_file))
    for e in runfiles.root_symlinks.to_list():
        entries.append((e.path, _root_symlink_line(e), e.target_file))
    for path in runfiles.empty_filenames.to_list():
        line = _empty_line(path)
        entries.append((line.split("\t")[1], line, None))

    for rel, line, f in entries:
        if rel in interp_rel:
            continue  # interpreter layer
        parts = rel.split("/", 2)
        if rel in pip_dirs or (rel + "/") in pip_dirs or (len(parts) > 2 and (parts[0] + "/" + parts[1] + "/") in pip_dirs):
            continue  # a pip package's fragment
        best = None
        for group, p in label_prefixes:
            if rel.startswith(p) and (best == None or len(p) > len(best[1])):
                best = (group, p)
        lines, files = buckets[best[0]] if best else (app_lines, app_files)
        lines.append(line)
        if f:
            files.append(f)

    def layer_from(name, kind, mnemonic, lines, files, index):
        manifest = ctx.actions.declare_file("%s%s.manifest" % (prefix, name))
        ctx.actions.write(manifest, "\n".join(lines) + "\n")
        tar = ctx.actions.declare_file("%s%d_%s%s" % (prefix, index, name, ext))
        desc = ctx.actions.declare_file(tar.basename + ".json", sibling = tar)
        args = ctx.actions.args()
        args.use_param_file("@%s", use_always = True)
        args.set_param_file_format("multiline")
        args.add("--output", tar)
        args.add("--descriptor", desc)
        add_settings(args, settings)
        args.add("--prefix", rf_root)
        args.add("--manifest", manifest)
        ctx.actions.run(
            executable = tool,
            arguments = ["layer", args],
            inputs = depset([manifest] + files),
            outputs = [tar, desc],
            mnemonic = mnemonic,
            progress_message = "%s %s (%s)" % (mnemonic, name, who),
        )
        return _layer_struct(kind = kind, group = name, tar = tar, descriptor = desc, packages = depset(tier.groups.get(name, [])))

    empty_label_groups = []
    for group, _ in tier._label_groups:
        lines, files = buckets[group]
        if not lines:
            empty_label_groups.append(group)  # no runfile under its patterns: no layer
            continue
        layers.append(layer_from(group, "first_party", "PyImageFirstParty", lines, files, index))
        index += 1

    if repo_mapping:
        app_lines.append("data\t_repo_mapping\t" + repo_mapping.path)
        app_files.append(repo_mapping)
    app_lines.append("exec\t%s/%s\t%s" % (root, exe.basename, exe.path))
    app_files.append(exe)
    app_lines.append("symlink\t%s/%s.runfiles\t.runfiles" % (root, exe.basename))
    app = layer_from(APP_GROUP, "app", "PyImageApp", app_lines, app_files, index)
    layers.append(_layer_struct(kind = "app", group = APP_GROUP, tar = app.tar, descriptor = app.descriptor, packages = depset()))

    return struct(layers = layers, empty_label_groups = empty_label_groups)

def _merge_aspect_impl(target, ctx):
    tier = ctx.attr._layer_tier[LayerTierInfo]
    info = target[PyImagePackagesInfo]
    files_to_run = target[DefaultInfo].files_to_run
    if PyInfo not in target or not files_to_run or not files_to_run.executable:
        return []
    if tier.interpreter_group:
        tc = ctx.toolchains[_PY_TOOLCHAIN]
        if not tc or not tc.py3_runtime or not tc.py3_runtime.files:
            return []  # the rule reports it, naming the py_image_layer target
    built = build_layers(
        ctx,
        _label_str(target.label),
        pyimage_tool(ctx),
        tier,
        info.groups,
        info.names,
        info,
        target,
        target.label.name + "_pyimage/",
    )
    return [PyImageLayersInfo(tier = tier.label, layers = built.layers, empty_label_groups = built.empty_label_groups)]

# Runs on the binary (only there: attr_aspects = []), after _layer_aspect, with the
# flag's tier: every merge, the interpreter, first-party and app layers of that binary
# are declared once at the binary, shared by every py_image_layer of it.
_merge_aspect = aspect(
    implementation = _merge_aspect_impl,
    doc = "Declares a binary's layers (flag tier) at the binary: merges of package fragments, interpreter, first-party and app layers.",
    attr_aspects = [],
    requires = [layer_aspect],
    attrs = {
        "_layer_tier": attr.label(default = Label("//py:layer_tier"), providers = [LayerTierInfo]),
    },
    toolchains = [
        TOOLCHAIN_TYPE,
        config_common.toolchain_type(_PY_TOOLCHAIN, mandatory = False),
    ],
)

def _run_plan_command(ctx, tool, command, mnemonic, plan, descriptors, output, flags):
    """Runs `pyimage <command> --plan PLAN --output OUTPUT FLAGS... DESCRIPTORS...`."""
    args = ctx.actions.args()
    args.add(command)
    args.add("--plan", plan)
    args.add("--output", output)
    args.add_all(flags)
    args.add_all(descriptors)
    ctx.actions.run(
        executable = tool,
        arguments = [args],
        inputs = [plan] + descriptors,
        outputs = [output],
        mnemonic = mnemonic,
        progress_message = mnemonic + " %{label}",
    )

def _py_image_layer_impl(ctx):
    binary = ctx.attr.binary
    if PyInfo not in binary:
        _fail(ctx, "binary = %s does not provide PyInfo; point it at a py_binary (or another rule returning PyInfo)" % binary.label)
    files_to_run = binary[DefaultInfo].files_to_run
    exe = files_to_run.executable if files_to_run else None
    if not exe:
        _fail(ctx, "binary = %s is not executable; point it at a py_binary" % binary.label)
    if ctx.attr.base_layers < 0:
        _fail(ctx, "base_layers = %d is negative; give the number of layers of the base image (0 for none)" % ctx.attr.base_layers)

    flag_tier = ctx.attr._flag_tier[LayerTierInfo]
    tier = ctx.attr.layer_tier[LayerTierInfo] if ctx.attr.layer_tier else flag_tier
    tool = pyimage_tool(ctx)
    info = binary[PyImagePackagesInfo]
    root = tier.root
    prefix = ctx.label.name + "_layers/"
    runfiles = binary[DefaultInfo].default_runfiles
    repo_mapping = getattr(files_to_run, "repo_mapping_manifest", None)

    if tier.label == flag_tier.label:
        groups, names = info.groups, info.names
        matched = {p: True for p in info.matched.to_list()}  # at most the tier's patterns
    else:
        groups, names, matched = _plan_pinned(ctx, tier, info, tool, prefix)

    if tier.label == flag_tier.label and PyImageLayersInfo in binary:
        built = binary[PyImageLayersInfo]  # built once at the binary by _merge_aspect
    else:
        built = build_layers(ctx, _label_str(ctx.label), tool, tier, groups, names, info, binary, prefix)
    layers = built.layers

    unmatched = [(g, p) for g, p in _all_patterns(tier) if p not in matched]
    unmatched += [(g, p) for g in built.empty_label_groups for p in tier.groups[g]]
    if unmatched and tier.unmatched == "error":
        _fail(ctx, "layer_tier %s: pattern(s) %s match nothing in %s. Remove them from the tier, fix them, or set unmatched = \"warn\" on the tier." % (
            tier.label,
            ", ".join(["%r (group %r)" % (p, g) for g, p in unmatched]),
            binary.label,
        ))

    # ---- plan, report, validation ----
    plan = ctx.actions.declare_file(prefix + "plan.json")
    pa = ctx.actions.args()
    pa.set_param_file_format("multiline")
    pa.add("{")
    pa.add('"schema":1,"target":%s,"tier":%s,"base_layers":%d,' % (
        json.encode(str(ctx.label)),
        json.encode({"name": tier.label.name, "label": str(tier.label)}),
        ctx.attr.base_layers,
    ))
    pa.add('"thresholds":%s,' % json.encode({
        "warn_layers": tier.warn_layers,
        "max_layers": tier.max_layers,
        "max_squashed_bytes": tier.max_squashed_bytes,
        "max_package_bytes": tier.max_package_bytes,
    }))
    pa.add('"groups":%s,' % json.encode([[g, p] for g, p in tier.groups.items()]))
    pa.add('"unmatched":%s,' % json.encode([{"group": g, "pattern": p} for g, p in unmatched] if tier.unmatched == "warn" else []))
    pa.add('"layers":[')
    for i, layer in enumerate(layers):
        pa.add('{"group":%s,"kind":%s,"descriptor":%d,"packages":[' % (json.encode(layer.group), json.encode(layer.kind), i))
        pa.add_joined(layer.packages, join_with = ",", map_each = json.encode, uniquify = True, omit_if_empty = False)
        pa.add("]}" + ("," if i + 1 < len(layers) else ""))
    pa.add("],")
    pa.add_joined(info.graph, join_with = ",", map_each = _graph_json, format_joined = '"deps":{%s}', omit_if_empty = False)
    pa.add("}")
    ctx.actions.write(plan, pa)

    descriptors = [layer.descriptor for layer in layers]
    report = ctx.actions.declare_file(prefix + "report.txt")
    _run_plan_command(ctx, tool, "report", "PyImageReport", plan, descriptors, report, [])
    validation = ctx.actions.declare_file(prefix + "validation.txt")
    _run_plan_command(
        ctx,
        tool,
        "validate",
        "PyImageValidate",
        plan,
        descriptors,
        validation,
        ["--limit-as-warning"] if tier.limit_as_warning else [],
    )

    # Every runfiles path the image must hold (for invariant tests), one per line.
    expected = ctx.actions.declare_file(prefix + "runfiles.paths")
    ea = ctx.actions.args()
    ea.set_param_file_format("multiline")
    rfroot = root + "/.runfiles/%s"
    ea.add_all(runfiles.files, map_each = _expected_file, expand_directories = False, format_each = rfroot)
    ea.add_all(runfiles.symlinks, map_each = _expected_symlink, format_each = rfroot)
    ea.add_all(runfiles.root_symlinks, map_each = _expected_root_symlink, format_each = rfroot)
    ea.add_all(runfiles.empty_filenames, map_each = _expected_empty, format_each = rfroot)
    if repo_mapping:
        ea.add(root + "/.runfiles/_repo_mapping")
    ea.add("%s/%s" % (root, exe.basename))
    ea.add("%s/%s.runfiles" % (root, exe.basename))
    ctx.actions.write(expected, ea)

    tars = [layer.tar for layer in layers]
    return [
        DefaultInfo(files = depset(tars, order = "preorder")),
        OutputGroupInfo(
            descriptors = depset(descriptors, order = "preorder"),
            report = depset([report]),
            plan = depset([plan]),
            runfiles_paths = depset([expected]),
            _validation = depset([validation]),
        ),
    ]

py_image_layer = rule(
    implementation = _py_image_layer_impl,
    doc = """Splits a Python binary into ordered, byte-deterministic OCI layer tars.

DefaultInfo holds the layers, least-changing first: the interpreter (when the tier has
`interpreter_group`), the tier's pip groups in tier order, one squashed layer of the
pip packages no group names, the tier's first-party groups, then the app layer. Pass
them to `oci_image(tars = [":layers"])`.

Image layout (`root` from the tier, default `/app`):

* `<root>/<binary name>`: the launcher;
* `<root>/.runfiles/...`: the runfiles tree (`_repo_mapping`, `_main/...`, `<repo>/site-packages/...`);
  its paths do not contain the binary name, so a package's layer is byte-identical in every image;
* `<root>/<binary name>.runfiles` -> `.runfiles` (symlink), where the launcher looks.

One `py_image_layer` per `root` per image (two binaries in one image need two roots).

Output groups: `descriptors` (one JSON per layer, in order), `report` (human-readable
table), `plan` (the plan JSON given to the tool), `runfiles_paths` (every image path the
binary's runfiles must occupy, for invariant tests), `_validation` (`pyimage validate`:
warnings, and an error past the layer limit counting `base_layers`).
""",
    attrs = {
        "binary": attr.label(
            mandatory = True,
            aspects = [_merge_aspect],
            doc = "The py_binary to put into layers.",
        ),
        "layer_tier": attr.label(
            providers = [LayerTierInfo],
            doc = "Pin a `layer_tier` for this target. Default: the tier of the `@rules_pyimage//py:layer_tier` flag. Package fragments whose settings equal the flag tier's are shared, not rebuilt.",
        ),
        "base_layers": attr.int(
            default = 0,
            doc = "Layers of the base image below these; counted against the tier's `max_layers` by the validation action.",
        ),
        "_flag_tier": attr.label(
            default = Label("//py:layer_tier"),
            providers = [LayerTierInfo],
        ),
    },
    toolchains = [
        TOOLCHAIN_TYPE,
        config_common.toolchain_type(_PY_TOOLCHAIN, mandatory = False),
    ],
)
