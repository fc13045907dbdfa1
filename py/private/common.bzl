"""Shared helpers of the aspect and the rule: per-package layer actions, group assignment."""

load(":compression.bzl", "COMPRESSIONS")
load(":names.bzl", "glob_match", "hash8")

def settings_of(tier):
    """The settings of a tier that change package tar bytes.

    Args:
      tier: LayerTierInfo.

    Returns:
      struct(compression, level, root, owner, keep_pyc, fingerprint).
    """
    return struct(
        compression = tier.compression,
        level = tier.compression_level,
        root = tier.root,
        owner = tier.owner,
        keep_pyc = tier.keep_pyc,
        fingerprint = tier.fingerprint,
    )

def assign_group(tier, name):
    """The tier group of a whole pip distribution.

    Args:
      tier: LayerTierInfo.
      name: normalised distribution name.

    Returns:
      (group, [matched patterns]); group "" means the squashed layer.
    """
    hits = []
    exact = tier._pip_exact.get(name)
    if exact:
        hits.append(exact)
    for glob, group, pattern in tier._pip_globs:
        if glob_match(glob, name):
            hits.append((group, pattern))
    if not hits:
        return "", []
    groups = {}
    for group, pattern in hits:
        groups.setdefault(group, []).append(pattern)
    if len(groups) > 1:
        fail("layer_tier %s: pip package %r is matched by more than one group: %s. A package belongs to exactly one layer: make the patterns disjoint (e.g. remove %r from all but one group)." % (
            tier.label,
            name,
            ", ".join(["%r (%s)" % (g, ", ".join(p)) for g, p in groups.items()]),
            name,
        ))
    return hits[0][0], [p for _, p in hits]

# ---- lazily expanded command-line / manifest fragments (map_each callbacks) ----

def runfiles_rel(f):
    p = f.short_path
    if p.startswith("../"):
        return p[3:]
    return "_main/" + p

def manifest_line(f):
    if f.is_directory:
        return "tree\t%s\t%s" % (runfiles_rel(f), f.path)
    return "file\t%s\t%s" % (runfiles_rel(f), f.path)

def _package_base(pkg, settings, splits):
    stem = pkg.name + ("-" + pkg.version if pkg.version else "")
    if splits:
        stem += "-s" + hash8(repr([s[0] for s in splits]))
    return "_pyimage/%s/%s" % (settings.fingerprint, stem)

def _site_rel(f):
    p = runfiles_rel(f)
    i = p.find("/site-packages/")
    return p[i + len("/site-packages/"):] if i >= 0 else p.split("/", 1)[-1]

def split_key(splits):
    """Identifies the subpath globs a package is cut by ("" = not split)."""
    return repr([s[0] for s in splits]) if splits else ""

def package_parts(actions, tool, pkg, settings, splits, group_of_rest, out_prefix = ""):
    """Declares the layer actions of one pip distribution.

    The aspect calls it at the distribution's own target (outputs under
    `<repo>/_pyimage/<fingerprint>/`), so every binary of a configuration shares them.
    A rule with a pinned tier whose settings differ calls it with `out_prefix` (the
    rule's own directory).

    Args:
      actions: ctx.actions of the caller (aspect or rule).
      tool: FilesToRunProvider of `pyimage`.
      pkg: package struct (see aspect.bzl).
      settings: settings_of(tier).
      splits: list of (subpath glob, group, pattern) for this package, tier order.
      group_of_rest: group of the files no split takes.
      out_prefix: "" in the aspect, else a directory prefix inside the caller's package.

    Returns:
      list of struct(group, index, tar, descriptor); index is the split index or -1 for the rest.
    """
    base = _package_base(pkg, settings, splits)
    ext = COMPRESSIONS[settings.compression].ext
    if splits:
        if pkg.tree:
            fail("package %s (%s) is a directory tree: subpath splits (%s) are not supported for it" % (pkg.name, pkg.label, splits[0][2]))
        buckets = [[] for _ in splits]
        rest = []
        for f in pkg.files.to_list():  # this package's own files only (not transitive)
            rel = _site_rel(f)
            taken = False
            for i, s in enumerate(splits):
                if glob_match(s[0], rel):
                    buckets[i].append(f)
                    taken = True
                    break
            if not taken:
                rest.append(f)
        parts = [(splits[i][1], i, "." + str(i), depset(buckets[i])) for i in range(len(splits))]
        parts.append((group_of_rest, -1, ".rest", depset(rest)))
    else:
        parts = [(group_of_rest, -1, "", pkg.files)]
    if out_prefix:
        base = out_prefix + pkg.repo + "/" + base

    out = []
    for group, index, suffix, files in parts:
        manifest = actions.declare_file(base + suffix + ".manifest")
        content = actions.args()
        content.set_param_file_format("multiline")
        content.add_all(files, map_each = manifest_line, expand_directories = False)
        actions.write(manifest, content)
        tar = actions.declare_file(base + suffix + ext)
        desc = actions.declare_file(base + suffix + ext + ".json")
        args = actions.args()
        args.use_param_file("@%s", use_always = True)
        args.set_param_file_format("multiline")
        args.add("--output", tar)
        args.add("--descriptor", desc)
        args.add("--package", pkg.name + ("==" + pkg.version if pkg.version else ""))
        add_settings(args, settings)
        args.add("--prefix", settings.root + "/.runfiles/")
        args.add("--manifest", manifest)
        actions.run(
            executable = tool,
            arguments = ["layer", args],
            inputs = depset([manifest], transitive = [files]),
            outputs = [tar, desc],
            mnemonic = "PyImageLayer",
            progress_message = "PyImageLayer %s%s%s [%s]" % (pkg.name, (" " + pkg.version) if pkg.version else "", (" part " + suffix[1:]) if suffix else "", settings.fingerprint),
        )
        out.append(struct(group = group, index = index, tar = tar, descriptor = desc))
    return out

def add_settings(args, settings):
    """Adds the byte-relevant flags of `pyimage layer` (compression, level, owner, pyc).

    Args:
      args: the Args of a `pyimage layer` action.
      settings: settings_of(tier).
    """
    args.add("--compression", settings.compression)
    if settings.level != -1 and settings.compression != "none":
        args.add("--level", str(settings.level))
    args.add("--owner", settings.owner)
    if settings.keep_pyc:
        args.add("--keep-pyc")
    args.add("--external-symlinks", "materialize")
