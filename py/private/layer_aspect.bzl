"""`_layer_aspect`: one layer fragment per pip distribution, built at the distribution's own target.

The aspect walks a binary's dependency graph, recognises pip distributions and
declares their fragments there (settings of the `//py:layer_tier` flag's tier), so every
binary of a configuration shares them. `regroup_fragments` reuses them under a pinned tier.
"""

load("@rules_python//python:py_info.bzl", "PyInfo")
load(":layer_action.bzl", "declare_layer", "layer_settings", "manifest_line", "runfiles_rel")
load(":names.bzl", "SQUASHED_GROUP", "glob_match", "hash8", "parse_dist_info", "parse_repo_name")
load(":providers.bzl", "DistributionInfo", "FragmentsInfo", "LayerTierInfo", "TierLookupInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

# Attributes the aspect follows: rules_python (deps, data, srcs of py_* rules),
# alias (actual), aspect_rules_py (deps, data, and `whl_install`'s `src`).
ATTR_ASPECTS = ["deps", "data", "srcs", "actual", "src", "runtime_deps"]

def fragment(name, version, group, part, tar, descriptor, key):
    """A fragment: the tar of one pip distribution, or of one subpath split of it.

    Args:
      name: normalised distribution name.
      version: version or "".
      group: the tier group whose layer holds it (`SQUASHED_GROUP` when no group names it).
      part: index of the tier's split of the distribution, -1 for the whole or the rest.
      tar: the fragment's tar File.
      descriptor: its JSON descriptor File.
      key: the `key` of the settings it was built with (byte settings + execution requirements).

    Returns:
      struct(name, version, group, part, tar, descriptor, key).
    """
    return struct(name = name, version = version, group = group, part = part, tar = tar, descriptor = descriptor, key = key)

# ---- which group a distribution belongs to ----

def assign_group(tier, lookup, name):
    """The tier group of a whole pip distribution.

    Args:
      tier: LayerTierInfo (for messages).
      lookup: TierLookupInfo of the same tier.
      name: normalised distribution name.

    Returns:
      (group, [matched patterns]); `SQUASHED_GROUP` when no group names it.
    """
    hits = []
    exact = lookup.pip_exact.get(name)
    if exact:
        hits.append(exact)
    for glob, group, pattern in lookup.pip_globs:
        if glob_match(glob, name):
            hits.append((group, pattern))
    if not hits:
        return SQUASHED_GROUP, []
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

def split_key(splits):
    """Identifies the subpath globs a distribution is cut by ("" = not split)."""
    return repr([s[0] for s in splits]) if splits else ""

# ---- fragment actions ----

def _site_rel(f):
    p = runfiles_rel(f)
    i = p.find("/site-packages/")
    return p[i + len("/site-packages/"):] if i >= 0 else p.split("/", 1)[-1]

def _split_parts(dist, splits, group_of_rest):
    """(group, part index, file suffix, depset of files) of each fragment of a distribution."""
    if not splits:
        return [(group_of_rest, -1, "", dist.files)]
    if dist.tree:
        fail("package %s (%s) is a directory tree: subpath splits (%s) are not supported for it" % (dist.name, dist.label, splits[0][2]))
    buckets = [[] for _ in splits]
    rest = []
    for f in dist.files.to_list():  # this distribution's own files only (not transitive)
        rel = _site_rel(f)
        taken = False
        for i, s in enumerate(splits):
            if glob_match(s[0], rel):  # exclusive: the first split that matches takes it
                buckets[i].append(f)
                taken = True
                break
        if not taken:
            rest.append(f)
    parts = [(splits[i][1], i, "." + str(i), depset(buckets[i])) for i in range(len(splits))]
    parts.append((group_of_rest, -1, ".rest", depset(rest)))
    return parts

def declare_fragments(actions, tool, dist, lookup, splits, group_of_rest, out_prefix = ""):
    """Declares the fragment actions of one pip distribution.

    The aspect calls it at the distribution's own target (outputs under
    `<repo>/_pyimage/<fingerprint>/`), so every binary of a configuration shares them.
    A rule with a pinned tier whose settings differ calls it with `out_prefix` (the
    rule's own directory). Each fragment is built with the settings of its group (a
    split part's group, or the distribution's), so the fingerprint in its path is that
    group's.

    Args:
      actions: ctx.actions of the caller (aspect or rule).
      tool: FilesToRunProvider of `pyimage`.
      dist: distribution struct (see `_detect`).
      lookup: TierLookupInfo of the tier.
      splits: list of (subpath glob, group, pattern) for this distribution, tier order.
      group_of_rest: group of the files no split takes.
      out_prefix: "" in the aspect, else a directory prefix inside the caller's package.

    Returns:
      list of fragments.
    """
    stem = dist.name + ("-" + dist.version if dist.version else "")
    if splits:
        stem += "-s" + hash8(split_key(splits))
    package = dist.name + ("==" + dist.version if dist.version else "")
    out = []
    for group, part, suffix, files in _split_parts(dist, splits, group_of_rest):
        settings = layer_settings(lookup, group)
        base = "_pyimage/%s/%s" % (settings.fingerprint, stem)
        if out_prefix:
            base = out_prefix + dist.repo + "/" + base
        manifest = actions.args()
        manifest.set_param_file_format("multiline")
        manifest.add_all(files, map_each = manifest_line, expand_directories = False)
        layer = declare_layer(
            actions,
            tool,
            settings,
            tar_path = base + suffix + settings.ext,
            manifest_path = base + suffix + ".manifest",
            manifest = manifest,
            inputs = files,
            mnemonic = "PyImageLayer",
            progress_message = "PyImageLayer %s%s%s [%s]" % (dist.name, (" " + dist.version) if dist.version else "", (" part " + suffix[1:]) if suffix else "", settings.fingerprint),
            package = package,
        )
        out.append(fragment(dist.name, dist.version, group, part, layer.tar, layer.descriptor, settings.key))
    return out

def _reusable(dist, lookup, splits, group):
    """Whether the fragments the aspect built for a distribution serve a pinned tier as they are."""
    if dist.split_key != split_key(splits):
        return False
    for f in dist.fragments:
        new_group = splits[f.part][1] if f.part >= 0 else group
        if layer_settings(lookup, new_group).key != f.key:
            return False
    return True

def regroup_fragments(actions, tool, tier, lookup, distributions, out_prefix):
    """The fragments of a binary's distributions under a pinned tier (not the flag's).

    A distribution whose fragments the aspect already built with equal settings and
    splits for their groups under the pinned tier (the common case: a pin that only
    regroups) reuses them with the pinned tier's groups; only distributions whose bytes
    (or actions' execution requirements) differ get new fragments, built in the caller's
    directory.

    Args:
      actions: ctx.actions of the rule.
      tool: FilesToRunProvider of `pyimage`.
      tier: LayerTierInfo of the pinned tier.
      lookup: TierLookupInfo of the pinned tier.
      distributions: depset of distribution structs (FragmentsInfo.distributions).
      out_prefix: directory prefix inside the rule's package for new fragments.

    Returns:
      (dict group -> depset of fragments, dict of matched patterns -> True).
    """
    groups = {}
    matched = {}
    seen = {}
    for dist in distributions.to_list():  # one entry per distribution; rule level, once per target
        if dist.label in seen:
            continue  # the same distribution reached through two binaries
        seen[dist.label] = True
        group, patterns = assign_group(tier, lookup, dist.name)
        splits = lookup.splits.get(dist.name, [])
        for p in patterns + [s[2] for s in splits]:
            matched[p] = True
        if _reusable(dist, lookup, splits, group):
            frags = [
                fragment(f.name, f.version, splits[f.part][1] if f.part >= 0 else group, f.part, f.tar, f.descriptor, f.key)
                for f in dist.fragments
            ]
        else:
            frags = declare_fragments(actions, tool, dist, lookup, splits, group, out_prefix = out_prefix)
        for f in frags:
            groups.setdefault(f.group, []).append(f)
    return {k: depset(v) for k, v in groups.items()}, matched

# ---- recognising a pip distribution ----

def _own_files(ctx, repo):
    """The target's own files inside its repository, as a list, and whether one sits under site-packages."""
    files = []
    site = False
    prefix = repo + "/site-packages/"
    for attr_name in ["srcs", "data"]:
        for f in getattr(ctx.rule.files, attr_name, []):
            if f.owner == None or f.owner.workspace_name != repo:
                continue
            files.append(f)
            if not site and runfiles_rel(f).startswith(prefix):
                site = True
    return files, site

def _identity(files, repo):
    for f in files:
        if ".dist-info/" in f.short_path:
            info = parse_dist_info(f.short_path)
            if info:
                return info
    return parse_repo_name(repo)

def _detect(target, ctx):
    """A distribution struct when the target is one pip distribution, else None."""
    repo = target.label.workspace_name
    if not repo:
        return None

    # aspect_rules_py / uv: `whl_install` with an `install_dir` tree.
    if OutputGroupInfo in target and hasattr(target[OutputGroupInfo], "install_dir"):
        tree = target[OutputGroupInfo].install_dir
        tl = tree.to_list()  # one tree artifact
        if tl:
            info = parse_repo_name(repo)
            return struct(name = info.name, version = info.version, repo = repo, label = str(target.label), anchor = tl[0], files = tree, tree = True)

    if PyInfo not in target:
        return None
    files, site = _own_files(ctx, repo)
    if not site:
        return None
    info = _identity(files, repo)
    if not info.name:
        return None
    return struct(
        name = info.name,
        version = info.version,
        repo = repo,
        label = str(target.label),
        anchor = files[0],
        files = depset(files),
        tree = False,
    )

def _skip_prefixes(dist):
    """Runfiles paths the distribution's fragments ship, for the runfiles layers to leave out.

    `<repo>/site-packages/` (not the whole repo: Bazel's generated `<repo>/__init__.py`
    belongs to the app layer), a tree's own path, and any other file exactly.
    """
    if dist.tree:
        return [runfiles_rel(dist.anchor) + "/"]
    site = dist.repo + "/site-packages/"
    out = [site]
    for f in dist.files.to_list():  # the distribution's own files (a flat depset)
        p = runfiles_rel(f)
        if not p.startswith(site):
            out.append(p)
    return out

# ---- the aspect ----

def _merge_groups(dicts):
    keys = {}
    for d in dicts:
        for k in d:
            keys[k] = True
    return {k: depset(transitive = [d[k] for d in dicts if k in d]) for k in keys}

def _children(ctx):
    """The visited dependencies of the target (those the aspect returned FragmentsInfo for)."""
    out = []
    for attr_name in ATTR_ASPECTS:
        v = getattr(ctx.rule.attr, attr_name, None)
        if v == None:
            continue
        if type(v) != "list":
            v = [v]
        for dep in v:
            if type(dep) == "Target" and FragmentsInfo in dep:
                out.append(dep)
    return out

def _layer_aspect_impl(target, ctx):
    children = _children(ctx)
    infos = [d[FragmentsInfo] for d in children]
    dist = _detect(target, ctx)
    if not dist:
        return [FragmentsInfo(
            groups = _merge_groups([i.groups for i in infos]),
            skip_prefixes = depset(transitive = [i.skip_prefixes for i in infos]),
            matched = depset(transitive = [i.matched for i in infos]),
            graph = depset(transitive = [i.graph for i in infos]),
            distributions = depset(transitive = [i.distributions for i in infos]),
        )]

    tier = ctx.attr._layer_tier[LayerTierInfo]
    lookup = ctx.attr._layer_tier[TierLookupInfo]
    group, patterns = assign_group(tier, lookup, dist.name)
    splits = lookup.splits.get(dist.name, [])
    frags = declare_fragments(ctx.actions, pyimage_tool(ctx), dist, lookup, splits, group)
    own_groups = {}
    for f in frags:
        own_groups.setdefault(f.group, []).append(f)
    dep_names = sorted({d[DistributionInfo].name: True for d in children if DistributionInfo in d}.keys())
    recorded = struct(
        name = dist.name,
        version = dist.version,
        repo = dist.repo,
        label = dist.label,
        files = dist.files,
        tree = dist.tree,
        # what the flag's tier built here (each fragment with its settings' key),
        # reused by pinned tiers with equal settings
        split_key = split_key(splits),
        fragments = tuple(frags),
    )
    return [
        DistributionInfo(name = dist.name, version = dist.version),
        FragmentsInfo(
            groups = _merge_groups([{k: depset(v) for k, v in own_groups.items()}] + [i.groups for i in infos]),
            skip_prefixes = depset(_skip_prefixes(dist), transitive = [i.skip_prefixes for i in infos]),
            matched = depset(patterns + [s[2] for s in splits], transitive = [i.matched for i in infos]),
            graph = depset(["%s\t%s\t%s" % (dist.name, dist.version, ",".join(dep_names))], transitive = [i.graph for i in infos]),
            distributions = depset([recorded], transitive = [i.distributions for i in infos]),
        ),
    ]

_layer_aspect = aspect(
    implementation = _layer_aspect_impl,
    doc = "Builds the fragments of every pip distribution in a binary's graph, at the distribution's target, with the settings of the `//py:layer_tier` flag's tier.",
    attr_aspects = ATTR_ASPECTS,
    attrs = {
        "_layer_tier": attr.label(default = Label("//py:layer_tier"), providers = [LayerTierInfo, TierLookupInfo]),
    },
    provides = [FragmentsInfo],
    toolchains = [TOOLCHAIN_TYPE],
)

layer_aspect = _layer_aspect
