"""`_layer_aspect`: finds pip distributions in a py_binary's graph and builds one layer
fragment per distribution, at the distribution's own target."""

load("@rules_python//python:py_info.bzl", "PyInfo")
load(":common.bzl", "assign_group", "package_parts", "runfiles_rel", "settings_of", "split_key")
load(":names.bzl", "parse_dist_info", "parse_repo_name")
load(":providers.bzl", "LayerTierInfo", "PyImagePackageInfo", "PyImagePackagesInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

# Attributes the aspect follows: rules_python (deps, data, srcs of py_* rules),
# alias (actual), aspect_rules_py (deps, data, and `whl_install`'s `src`).
ATTR_ASPECTS = ["deps", "data", "srcs", "actual", "src", "runtime_deps"]

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
    """Returns a package struct when the target is one pip distribution, else None."""
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

def _skip_prefixes(pkg):
    """Runfiles paths the package's fragments ship, for the app layer to leave out.

    `<repo>/site-packages/` (not the whole repo: Bazel's generated `<repo>/__init__.py`
    belongs to the app layer), a tree's own path, and any other file exactly.
    """
    if pkg.tree:
        return [runfiles_rel(pkg.anchor) + "/"]
    site = pkg.repo + "/site-packages/"
    out = [site]
    for f in pkg.files.to_list():  # the package's own files (a flat depset)
        p = runfiles_rel(f)
        if not p.startswith(site):
            out.append(p)
    return out

def _merge_groups(dicts):
    keys = {}
    for d in dicts:
        for k in d:
            keys[k] = True
    return {k: depset(transitive = [d[k] for d in dicts if k in d]) for k in keys}

def _layer_aspect_impl(target, ctx):
    children = []
    for attr_name in ATTR_ASPECTS:
        v = getattr(ctx.rule.attr, attr_name, None)
        if v == None:
            continue
        if type(v) != "list":
            v = [v]
        for dep in v:
            if type(dep) == "Target" and PyImagePackagesInfo in dep:
                children.append(dep)
    infos = [d[PyImagePackagesInfo] for d in children]

    pkg = _detect(target, ctx)
    own_groups = {}
    own_names = {}
    skip = []
    matched = []
    graph = []
    pkgs = []
    providers = []
    if pkg:
        tier = ctx.attr._layer_tier[LayerTierInfo]
        group, patterns = assign_group(tier, pkg.name)
        splits = tier._splits.get(pkg.name, [])
        matched.extend(patterns)
        matched.extend([s[2] for s in splits])
        parts = package_parts(ctx.actions, pyimage_tool(ctx), pkg, settings_of(tier), splits, group)
        pkg = struct(
            name = pkg.name,
            version = pkg.version,
            repo = pkg.repo,
            label = pkg.label,
            files = pkg.files,
            tree = pkg.tree,
            # what the flag's tier built here, reused by pinned tiers with equal settings
            fingerprint = tier.fingerprint,
            split_key = split_key(splits),
            parts = tuple([struct(index = p.index, tar = p.tar, descriptor = p.descriptor) for p in parts]),
        )
        for part in parts:
            own_groups.setdefault(part.group, []).extend([part.tar, part.descriptor])
            own_names.setdefault(part.group, []).append(pkg.name)
        dep_names = sorted({d[PyImagePackageInfo].name: True for d in children if PyImagePackageInfo in d}.keys())
        graph.append("%s\t%s\t%s" % (pkg.name, pkg.version, ",".join(dep_names)))
        skip.extend(_skip_prefixes(pkg))
        pkgs.append(pkg)
        providers.append(PyImagePackageInfo(name = pkg.name, version = pkg.version))

    if not pkg and not infos:
        return providers + [PyImagePackagesInfo(
            groups = {},
            names = {},
            skip_prefixes = depset(),
            matched = depset(),
            graph = depset(),
            pkgs = depset(),
        )]

    groups = _merge_groups([{k: depset(v) for k, v in own_groups.items()}] + [i.groups for i in infos])
    names = _merge_groups([{k: depset(v) for k, v in own_names.items()}] + [i.names for i in infos])
    providers.append(PyImagePackagesInfo(
        groups = groups,
        names = names,
        skip_prefixes = depset(skip, transitive = [i.skip_prefixes for i in infos]),
        matched = depset(matched, transitive = [i.matched for i in infos]),
        graph = depset(graph, transitive = [i.graph for i in infos]),
        pkgs = depset(pkgs, transitive = [i.pkgs for i in infos]),
    ))
    return providers

_layer_aspect = aspect(
    implementation = _layer_aspect_impl,
    doc = "Builds one layer fragment per pip distribution at the distribution's target (settings of the `//py:layer_tier` flag's tier).",
    attr_aspects = ATTR_ASPECTS,
    attrs = {
        "_layer_tier": attr.label(default = Label("//py:layer_tier"), providers = [LayerTierInfo]),
    },
    provides = [PyImagePackagesInfo],
    toolchains = [TOOLCHAIN_TYPE],
)

layer_aspect = _layer_aspect
