"""The `layer_tier` rule: checks a tier at analysis time and precomputes its lookup tables."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load(":compression.bzl", "COMPRESSIONS")
load(":names.bzl", "APP_GROUP", "INTERPRETER_MANIFEST", "RESERVED_GROUPS", "SQUASHED_GROUP", "hash8", "is_glob", "parse_pattern")
load(":providers.bzl", "LayerTierInfo", "TierLookupInfo")

def _levels_doc():
    return ", ".join([
        "%s %d-%d (default %d)" % (name, c.min, c.max, c.default) if c.min != c.max else "%s %d" % (name, c.min)
        for name, c in COMPRESSIONS.items()
    ])

def _fingerprint_tag(compression):
    # the file extension after `.tar.` (`gz`, `zst`), `raw` for uncompressed tars
    return COMPRESSIONS[compression].ext[len(".tar."):] or "raw"

_RESERVED_DOC = """Group names are layer names: `%s` (the app layer), `%s` (the squashed layer), `%s` and the
tier's `interpreter_group` are reserved for the built-in layers.""" % (APP_GROUP, SQUASHED_GROUP, INTERPRETER_MANIFEST)

def _fail(ctx, msg):
    fail("layer_tier %s: %s" % (ctx.label, msg))

def _check_path(ctx, root):
    if not root.startswith("/") or root == "/" or root.endswith("/"):
        _fail(ctx, "root = %r must be an absolute directory without a trailing `/`, e.g. root = \"/app\"" % root)
    for part in root[1:].split("/"):
        if part in ("", ".", "..") or part.startswith(".wh."):
            _fail(ctx, "root = %r has an empty, `.`, `..` or `.wh.` component; use a plain path such as \"/app\"" % root)

def _check_compression(ctx, what, comp, level):
    if comp not in COMPRESSIONS:
        _fail(ctx, "unknown compression %r; use one of %s (e.g. compression = \"gzip\")" % (comp, ", ".join(sorted(COMPRESSIONS))))
    spec = COMPRESSIONS[comp]
    if level != -1 and (level < spec.min or level > spec.max):
        _fail(ctx, "%s = %d is out of range for %s (%d..%d); use a level in that range, or -1 for the default (%d)" % (what, level, comp, spec.min, spec.max, spec.default))

def _check_owner(ctx, what, owner):
    parts = owner.split(":")
    if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
        _fail(ctx, "%s must be numeric \"UID:GID\", e.g. \"65532:65532\"" % what)

def _check_settings(ctx):
    _check_compression(ctx, "compression_level", ctx.attr.compression, ctx.attr.compression_level)
    for attr_name in ["warn_layers", "max_layers", "max_squashed_bytes", "max_package_bytes"]:
        v = getattr(ctx.attr, attr_name)
        if v < 0:
            _fail(ctx, "%s = %d is negative; use a value >= 0 (0 disables the byte checks)" % (attr_name, v))
    if ctx.attr.max_layers == 0:
        _fail(ctx, "max_layers = 0; use a positive limit such as 125 (Docker's)")
    if ctx.attr.warn_layers > ctx.attr.max_layers:
        _fail(ctx, "warn_layers = %d is larger than max_layers = %d; lower warn_layers" % (ctx.attr.warn_layers, ctx.attr.max_layers))
    _check_path(ctx, ctx.attr.root)
    _check_owner(ctx, "owner = %r" % ctx.attr.owner, ctx.attr.owner)
    if ctx.attr.unmatched not in ("warn", "error", "ignore"):
        _fail(ctx, "unmatched = %r; use \"warn\", \"error\" or \"ignore\"" % ctx.attr.unmatched)
    interp = ctx.attr.interpreter_group
    if interp in (APP_GROUP, SQUASHED_GROUP) or "/" in interp or interp.startswith("."):
        _fail(ctx, "interpreter_group = %r names another built-in layer or is not a plain name; use a name such as \"python\"" % interp)

def _check_group_name(ctx, group, patterns):
    if not group or "/" in group or group.startswith("."):
        _fail(ctx, "group name %r must be non-empty, without `/` and not start with `.`" % group)
    if group in RESERVED_GROUPS or group == ctx.attr.interpreter_group:
        _fail(ctx, "group %r is reserved for a built-in layer (reserved: %s, and this tier's interpreter_group); rename the group" % (
            group,
            ", ".join(["%r" % g for g in RESERVED_GROUPS]),
        ))
    if not patterns:
        _fail(ctx, "group %r is empty; give it at least one pip name, `name:glob` split or `//pkg/...` pattern, or delete it" % group)

def _check_budget(ctx, lookup):
    """`budget` must leave at least one layer for the ungrouped pip packages."""
    budget = ctx.attr.budget
    if budget == 0:
        return
    if budget < 0:
        _fail(ctx, "budget = %d is negative; give the most layers the image's own layers may use (e.g. budget = 90), or 0 for no budget" % budget)
    if budget > ctx.attr.max_layers:
        _fail(ctx, "budget = %d is more than max_layers = %d; lower budget to at most max_layers minus the base image's layers" % (budget, ctx.attr.max_layers))
    fixed = len(lookup.pip_groups) + len(lookup.label_groups) + 1
    parts = ["%d group(s)" % (len(lookup.pip_groups) + len(lookup.label_groups)), "the app layer"]
    if ctx.attr.interpreter_group:
        fixed += 1
        parts.insert(0, "the interpreter layer %r" % ctx.attr.interpreter_group)
    if budget <= fixed:
        _fail(ctx, "budget = %d leaves no layer for the pip packages no group names: the tier's own layers are %s (%d); raise budget to at least %d, or merge or remove groups" % (
            budget,
            ", ".join(parts),
            fixed,
            fixed + 1,
        ))

def _lookup_tables(ctx):
    """Checks every group and pattern; returns the lookup tables of the tier."""
    pip_exact = {}
    pip_globs = []
    splits = {}
    label_groups = []
    pip_groups = []
    seen_pattern = {}
    for group, patterns in ctx.attr.groups.items():
        _check_group_name(ctx, group, patterns)
        kinds = {}
        prefixes = []
        for pattern in patterns:
            p = parse_pattern(pattern)
            if p.error:
                _fail(ctx, "group %r: %s" % (group, p.error))
            key = p.kind + ":" + p.name + ":" + p.subpath
            if key in seen_pattern:
                _fail(ctx, "%r appears in groups %r and %r; a package belongs to one group: delete it from one of them" % (pattern, seen_pattern[key], group))
            seen_pattern[key] = group
            kinds["label" if p.kind == "label" else "pip"] = True
            if p.kind == "label":
                repo = ""
                if p.repo:
                    # the canonical name of an apparent repository name seen from the tier's BUILD file
                    repo = ctx.label.relative("@%s//:BUILD" % p.repo).workspace_name
                prefixes.append((repo, p.prefix))
            elif p.kind == "split":
                splits.setdefault(p.name, []).append((p.subpath, group, pattern))
            elif is_glob(p.name):
                pip_globs.append((p.name, group, pattern))
            else:
                pip_exact[p.name] = (group, pattern)
        if len(kinds) > 1:
            _fail(ctx, "group %r mixes pip names and label patterns; put first-party `//...` patterns in a group of their own" % group)
        if prefixes:
            label_groups.append((group, prefixes))
        else:
            pip_groups.append(group)
    return struct(
        pip_exact = pip_exact,
        pip_globs = pip_globs,
        splits = splits,
        label_groups = label_groups,
        pip_groups = pip_groups,
    )

def _parse_compression(ctx, group, value):
    """`gzip`, `zstd:19`, `none` -> (compression, level); checked against COMPRESSIONS."""
    comp, sep, level_str = value.partition(":")
    level = -1
    if sep:
        if not level_str.isdigit():
            _fail(ctx, "group_compression[%r] = %r: the level after `:` must be a number, e.g. \"zstd:19\"" % (group, value))
        level = int(level_str)
    _check_compression(ctx, "group_compression[%r] level" % group, comp, level)
    return comp, level

def _layer_names(ctx):
    """Every name a per-group setting may use: the tier's groups and the built-in layers."""
    names = [g for g in ctx.attr.groups] + [SQUASHED_GROUP, APP_GROUP]
    if ctx.attr.interpreter_group:
        names.append(ctx.attr.interpreter_group)
    return names

def _check_group_keys(ctx, attr_name, keys):
    names = _layer_names(ctx)
    for key in keys:
        if key not in names:
            _fail(ctx, "%s names %r, which is no layer of this tier; use one of %s" % (
                attr_name,
                key,
                ", ".join(["%r" % n for n in names]),
            ))

def _settings(ctx, comp, level, owner, execution_requirements):
    """The byte settings of one layer (+ its actions' execution requirements).

    `fingerprint` names what changes the bytes and is part of a fragment's path, so
    equal settings give one shared fragment; `key` adds the execution requirements
    (they change the action, not the bytes): a pinned tier reuses a fragment only when
    both match.
    """
    level_str = "d" if level == -1 else str(level)
    fields = "|".join([comp, level_str, ctx.attr.root, owner, str(ctx.attr.keep_pyc)])
    fingerprint = "%s%s_%s" % (_fingerprint_tag(comp), level_str, hash8(fields))
    reqs = {tag: "" for tag in execution_requirements}
    return struct(
        compression = comp,
        level = level,
        root = ctx.attr.root,
        owner = owner,
        keep_pyc = ctx.attr.keep_pyc,
        fingerprint = fingerprint,
        ext = COMPRESSIONS[comp].ext,
        execution_requirements = reqs,
        key = fingerprint + "|" + ",".join(sorted(reqs)),
    )

def _group_settings(ctx, flag_compression):
    """(default settings, dict layer name -> settings of the layers with settings of their own)."""
    _check_group_keys(ctx, "group_compression", ctx.attr.group_compression)
    _check_group_keys(ctx, "group_owner", ctx.attr.group_owner)
    _check_group_keys(ctx, "group_execution_requirements", ctx.attr.group_execution_requirements)
    for group, owner in ctx.attr.group_owner.items():
        _check_owner(ctx, "group_owner[%r] = %r" % (group, owner), owner)
    for group, tags in ctx.attr.group_execution_requirements.items():
        for tag in tags:
            if not tag or " " in tag:
                _fail(ctx, "group_execution_requirements[%r] has the tag %r; use execution requirement tags such as \"no-remote-cache\"" % (group, tag))

    def settings_of(group):
        if flag_compression:
            comp, level = flag_compression, -1
        elif group in ctx.attr.group_compression:
            comp, level = _parse_compression(ctx, group, ctx.attr.group_compression[group])
        else:
            comp, level = ctx.attr.compression, ctx.attr.compression_level
        return _settings(
            ctx,
            comp,
            level,
            ctx.attr.group_owner.get(group, ctx.attr.owner),
            ctx.attr.group_execution_requirements.get(group, []),
        )

    default = settings_of(None)
    own = {}
    for group in ctx.attr.group_compression.keys() + ctx.attr.group_owner.keys() + ctx.attr.group_execution_requirements.keys():
        if group not in own:
            own[group] = settings_of(group)
    return default, own

def _layer_tier_impl(ctx):
    _check_settings(ctx)
    lookup = _lookup_tables(ctx)
    _check_budget(ctx, lookup)
    flag_compression = ctx.attr._compression_flag[BuildSettingInfo].value
    if flag_compression and flag_compression not in COMPRESSIONS:
        _fail(ctx, "--@rules_pyimage//py:compression=%s is no compression; use one of %s, or \"\" to let the tiers decide" % (flag_compression, ", ".join(sorted(COMPRESSIONS))))
    default, own = _group_settings(ctx, flag_compression)
    return [
        LayerTierInfo(
            label = ctx.label,
            groups = ctx.attr.groups,
            interpreter_group = ctx.attr.interpreter_group,
            budget = ctx.attr.budget,
            compression = default.compression,
            compression_level = default.level,
            group_compression = {g: (s.compression, s.level) for g, s in own.items()},
            group_owner = dict(ctx.attr.group_owner),
            group_execution_requirements = dict(ctx.attr.group_execution_requirements),
            root = ctx.attr.root,
            owner = ctx.attr.owner,
            keep_pyc = ctx.attr.keep_pyc,
            warn_layers = ctx.attr.warn_layers,
            max_layers = ctx.attr.max_layers,
            max_squashed_bytes = ctx.attr.max_squashed_bytes,
            max_package_bytes = ctx.attr.max_package_bytes,
            limit_as_warning = ctx.attr.limit_as_warning,
            unmatched = ctx.attr.unmatched,
            fingerprint = default.fingerprint,
        ),
        TierLookupInfo(
            pip_exact = lookup.pip_exact,
            pip_globs = lookup.pip_globs,
            splits = lookup.splits,
            label_groups = lookup.label_groups,
            pip_groups = lookup.pip_groups,
            default_settings = default,
            settings = own,
        ),
    ]

layer_tier = rule(
    implementation = _layer_tier_impl,
    doc = """Describes how `py_image_layer` splits a binary into layers.

Select it for a whole build with `--@rules_pyimage//py:layer_tier=//my:tier`,
or pin it per target with `py_image_layer(layer_tier = ...)`. All checks run at
analysis time; errors name this target and the fix.

```starlark
layer_tier(
    name = "ml",
    groups = {
        "web": ["requests", "urllib3", "idna", "certifi", "charset-normalizer"],
        "nvidia": ["nvidia-*"],
        "torch_libs": ["torch:torch/lib/**"],
        "mylibs": ["//libs/..."],
    },
    interpreter_group = "python",
    # settings per layer (default: the tier's compression and owner, no tags)
    group_compression = {"nvidia": "zstd:19", "torch_libs": "zstd", "app": "gzip:1"},
    group_execution_requirements = {"nvidia": ["no-remote-cache"]},
    group_owner = {"app": "65532:65532"},
)
```
""",
    attrs = {
        "groups": attr.string_list_dict(
            doc = """Ordered: each group becomes one layer, in this order (after the interpreter layer).
Each entry is one of:

* a pip distribution name, PEP 503-normalised when compared (`charset_normalizer` = `charset-normalizer`);
* a glob over names (`nvidia-*`; `*` and `?`);
* `name:glob` - the files of one distribution whose path relative to its `site-packages`
  matches the glob (`torch:torch/lib/**`); the rest of that distribution stays where its
  name puts it (another group, or the squashed layer). Splits are exclusive, first one wins;
* a label pattern `//pkg/...` or `@repo//pkg/...` (first-party code): every runfiles file
  under that package tree, except pip packages' files. A group holds either pip entries or label patterns, not both.

pip packages no group names go to one squashed layer after the pip groups; everything else
of the binary goes to the last (app) layer.

""" + _RESERVED_DOC,
        ),
        "budget": attr.int(
            default = 0,
            doc = """Most layers the image's own layers may use (base image layers not included;
`pyimage validate` adds `base_layers` and checks `max_layers`). 0 (default): no budget,
the pip packages no group names share one squashed layer `pip`.

With a budget, the tier's groups stay as they are and the pip packages no group names are
spread over K auto layers `auto-1` ... `auto-K` (kind `pip_auto`, after the pip groups), K =
min(budget - the image's other layers, those packages): one action (`PyImageAutoLayer`)
decides membership and merges the packages' fragments (no recompression). Membership
depends only on the distribution names and K: while the packages fit, each gets its own
layer; past that, rendezvous hashing of the name. A version bump changes the one auto layer
holding the package, adding or removing a package changes only the layer it joins or leaves.
When K changes (the count of packages crosses the budget, a group is added or removed, the
budget is edited) packages move: see docs/design.md, "Auto layers". The `pip` key of
`group_compression`, `group_owner` and `group_execution_requirements` applies to the auto
layers. The `auto_layers` output group of `py_image_layer` has a JSON naming each auto
layer's packages; the report lists them.

Must leave at least one layer: budget > interpreter layer + groups + app layer, and at most
`max_layers`.""",
        ),
        "interpreter_group": attr.string(
            doc = "When set, the Python toolchain's runtime files (`PyRuntimeInfo.files` and interpreter) become the first layer, with this name.",
        ),
        "compression": attr.string(
            default = "gzip",
            doc = "`gzip` (default, readable by every runtime), `zstd` (Docker >= 23) or `none`: every layer's, unless `group_compression` names it. The flag `--@rules_pyimage//py:compression=zstd|gzip|none` overrides it and `group_compression` for every tier (each compression's default level), e.g. `none` for fast local builds.",
        ),
        "compression_level": attr.int(
            default = -1,
            doc = "Level of the compression: %s; -1 = the default." % _levels_doc(),
        ),
        "group_compression": attr.string_dict(
            doc = """Compression of single layers, overriding `compression` and `compression_level`:
layer name -> `"<compression>"` or `"<compression>:<level>"` (`{"torch": "zstd:19", "web": "gzip", "data": "none"}`).
Keys: the tier's groups, `pip` (the squashed layer, or the auto layers of a `budget`), `app` and the `interpreter_group`.
A pip group's package fragments are built with its settings (one fragment per distinct
setting, shared by every binary and tier with the same settings), so its merge only
concatenates them. `--@rules_pyimage//py:compression` overrides every layer.""",
        ),
        "group_owner": attr.string_dict(
            doc = """Numeric `UID:GID` of single layers' entries, overriding `owner` (same keys as `group_compression`).
Only files, links and the directories inside tree artifacts are stored in layers: the
directories above them (`<root>`, `<root>/.runfiles`, `<root>/.runfiles/<repo>`, ...) are in
no layer and the container runtime creates them (owned by 0:0, mode 0755), whatever the owner.""",
        ),
        "group_execution_requirements": attr.string_list_dict(
            doc = """Execution requirement tags of single layers' actions (same keys as `group_compression`),
e.g. `{"cuda": ["no-remote-cache"]}` for a large layer not worth uploading. They apply to
the layer's action and, for a pip group, to its package fragments' actions (fragments of
the same bytes built with other tags are separate actions).""",
        ),
        "_compression_flag": attr.label(default = Label("//py:compression")),
        "root": attr.string(
            default = "/app",
            doc = "Image directory of the launcher `<root>/<binary name>` and of the runfiles tree `<root>/.runfiles` (`<root>/<binary name>.runfiles` links to it).",
        ),
        "owner": attr.string(
            default = "0:0",
            doc = "Numeric `UID:GID` of every entry (see `group_owner` for the directories no layer holds).",
        ),
        "keep_pyc": attr.bool(
            default = False,
            doc = "Ship `*.pyc` files and `__pycache__` directories (dropped by default: parallel compilation is not deterministic).",
        ),
        "warn_layers": attr.int(default = 100, doc = "Warn above this many layers, base image layers included."),
        "max_layers": attr.int(default = 125, doc = "Fail above this many layers, base image layers included. The default is Docker's limit: its layer store refuses an image of more than 125 layers (`max depth exceeded`; docs/design.md, \"Layer limit\")."),
        "max_squashed_bytes": attr.int(default = 512 * 1024 * 1024, doc = "Warn when the squashed layer of ungrouped pip packages holds more uncompressed bytes; 0 disables."),
        "max_package_bytes": attr.int(default = 256 * 1024 * 1024, doc = "Warn when one package larger than this shares a layer; 0 disables."),
        "limit_as_warning": attr.bool(default = False, doc = "Only warn (do not fail the validation action) past `max_layers`."),
        "unmatched": attr.string(
            default = "warn",
            doc = "What a pattern matching nothing in a binary does: `warn` (a WARNING line of the validation action and the report; tiers are shared by binaries that need not use every package), `error` (analysis error) or `ignore`.",
        ),
    },
    provides = [LayerTierInfo, TierLookupInfo],
)
