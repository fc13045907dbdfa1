"""The actions that make layer tars: `pyimage layer` packs files listed in a manifest
(every kind: fragment, interpreter, first-party, app), `pyimage merge` concatenates
fragments without recompressing them, `pyimage autolayer` spreads fragments over a tier
budget's auto layers (merging the same way)."""

def layer_settings(lookup, group):
    """The settings of one layer of a tier.

    What changes its bytes, its file extension and its actions' execution requirements.

    Args:
      lookup: TierLookupInfo of the tier.
      group: the layer's name (a tier group, `pip`, `app` or the interpreter group).

    Returns:
      struct(compression, level, root, owner, keep_pyc, fingerprint, ext, execution_requirements, key).
    """
    return lookup.settings.get(group, lookup.default_settings)

# ---- manifest lines (map_each callbacks: Bazel calls them lazily at execution) ----

def runfiles_rel(f):
    """The path of a File inside the runfiles tree.

    Args:
      f: a File of the binary's runfiles.

    Returns:
      `_main/x.py` for the main repository, `<repo>/site-packages/y.py` for others.
    """
    p = f.short_path
    if p.startswith("../"):
        return p[3:]
    return "_main/" + p

def manifest_line(f):
    """The `pyimage layer` manifest line of a runfiles File.

    A tree artifact is a `tree` entry. The output of an action is a `generated` entry: the
    tool keeps a symlink artifact (`ctx.actions.declare_symlink`, e.g. a venv's
    `bin/python3`) as that link, which Bazel 7's File cannot tell from a file. A source file
    is a `file` entry: whether it is a symlink on disk depends on how Bazel stages it (a
    link locally, a copy under remote execution), so its content is stored.

    Args:
      f: a File of the binary's runfiles.

    Returns:
      `<kind>\t<runfiles path>\t<exec path>`.
    """
    if f.is_directory:
        return "tree\t%s\t%s" % (runfiles_rel(f), f.path)
    if not f.is_source:
        return "generated\t%s\t%s" % (runfiles_rel(f), f.path)
    return "file\t%s\t%s" % (runfiles_rel(f), f.path)

def _merge_member(fragment):
    return "%s=%s" % (fragment.tar.path, fragment.descriptor.path)

# ---- the actions ----

def declare_layer(actions, tool, settings, tar_path, manifest_path, manifest, inputs, mnemonic, progress_message, package = ""):
    """Writes a manifest and declares the `pyimage layer` action packing it.

    Args:
      actions: ctx.actions of the caller (rule or aspect).
      tool: FilesToRunProvider of `pyimage`.
      settings: layer_settings(lookup, group) of the layer.
      tar_path: path of the layer tar, relative to the caller's package; the descriptor is
        `<tar_path>.json`.
      manifest_path: path of the manifest file, relative to the caller's package.
      manifest: the manifest's content: a string, or an Args in `multiline` format.
      inputs: depset of the Files the manifest names.
      mnemonic: mnemonic of the action.
      progress_message: progress message of the action.
      package: `name==version` of the one pip distribution packed (fragments only).

    Returns:
      struct(tar, descriptor).
    """
    manifest_file = actions.declare_file(manifest_path)
    actions.write(manifest_file, manifest)
    tar = actions.declare_file(tar_path)
    descriptor = actions.declare_file(tar_path + ".json")
    args = actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("--output", tar)
    args.add("--descriptor", descriptor)
    if package:
        args.add("--package", package)
    args.add("--compression", settings.compression)
    if settings.level != -1 and settings.compression != "none":
        args.add("--level", str(settings.level))
    args.add("--owner", settings.owner)
    if settings.keep_pyc:
        args.add("--keep-pyc")
    args.add("--external-symlinks", "materialize")
    args.add("--prefix", settings.root + "/.runfiles/")
    args.add("--manifest", manifest_file)
    actions.run(
        executable = tool,
        arguments = ["layer", args],
        inputs = depset([manifest_file], transitive = [inputs]),
        outputs = [tar, descriptor],
        mnemonic = mnemonic,
        progress_message = progress_message,
        execution_requirements = settings.execution_requirements,
    )
    return struct(tar = tar, descriptor = descriptor)

def declare_merge(actions, tool, settings, tar_path, name, fragments, progress_message):
    """Declares the `pyimage merge` action concatenating fragments into one layer.

    Args:
      actions: ctx.actions of the caller.
      tool: FilesToRunProvider of `pyimage`.
      settings: layer_settings(lookup, group) of the merged layer (its fragments were built with them).
      tar_path: path of the merged tar, relative to the caller's package; the descriptor is
        `<tar_path>.json`.
      name: the layer's name (recorded in its descriptor).
      fragments: list of fragments, in the order their members are written.
      progress_message: progress message of the action.

    Returns:
      struct(tar, descriptor).
    """
    tar = actions.declare_file(tar_path)
    descriptor = actions.declare_file(tar_path + ".json")
    args = actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("--output", tar)
    args.add("--descriptor", descriptor)
    args.add("--name", name)
    args.add_all(fragments, map_each = _merge_member)
    actions.run(
        executable = tool,
        arguments = ["merge", args],
        inputs = [f.tar for f in fragments] + [f.descriptor for f in fragments],
        outputs = [tar, descriptor],
        mnemonic = "PyImageMerge",
        progress_message = progress_message,
        execution_requirements = settings.execution_requirements,
    )
    return struct(tar = tar, descriptor = descriptor)

def _autolayer_member(fragment):
    return "%s=%s=%s" % (fragment.name, fragment.tar.path, fragment.descriptor.path)

def declare_autolayer(actions, tool, settings, tar_paths, assignment_path, fragments, progress_message):
    """Declares the `pyimage autolayer` action: the fragments spread over len(tar_paths) layers.

    Args:
      actions: ctx.actions of the caller.
      tool: FilesToRunProvider of `pyimage`.
      settings: layer_settings(lookup, "pip"): the fragments were built with them.
      tar_paths: paths of the auto layers, in image order, relative to the caller's
        package; each descriptor is `<tar_path>.json`.
      assignment_path: path of the JSON naming each layer's packages.
      fragments: list of fragments (struct with name, tar, descriptor).
      progress_message: progress message of the action.

    Returns:
      struct(tars, descriptors, assignment).
    """
    tars = [actions.declare_file(p) for p in tar_paths]
    descriptors = [actions.declare_file(p + ".json") for p in tar_paths]
    assignment = actions.declare_file(assignment_path)
    args = actions.args()
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    args.add("--assignment", assignment)
    for tar, descriptor in zip(tars, descriptors):
        args.add("--output", "%s=%s" % (tar.path, descriptor.path))
    args.add_all(fragments, map_each = _autolayer_member)
    actions.run(
        executable = tool,
        arguments = ["autolayer", args],
        inputs = [f.tar for f in fragments] + [f.descriptor for f in fragments],
        outputs = tars + descriptors + [assignment],
        mnemonic = "PyImageAutoLayer",
        progress_message = progress_message,
        execution_requirements = settings.execution_requirements,
    )
    return struct(tars = tars, descriptors = descriptors, assignment = assignment)
