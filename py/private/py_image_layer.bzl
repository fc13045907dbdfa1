"""The `py_image_layer` rule: a binary's layers (from the layers aspect, or built here for a
pinned tier), its plan, report and validation."""

load("@rules_python//python:py_info.bzl", "PyInfo")
load(":base_image.bzl", "BASE_IMAGE_ATTRS", "base_image")
load(":layer_action.bzl", "manifest_line")
load(":layer_aspect.bzl", "regroup_fragments")
load(":merge_aspect.bzl", "PY_TOOLCHAIN", "build_layers", "label_str", "merge_aspect", "shared_interpreter")
load(":partition.bzl", "empty_line")
load(":plan.bzl", "declare_report", "declare_validation", "previous_report", "write_plan")
load(":providers.bzl", "BinaryLayersInfo", "FragmentsInfo", "LayerTierInfo", "TierLookupInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "pyimage_tool")

def _fail(ctx, msg):
    fail("py_image_layer %s: %s" % (ctx.label, msg))

def _binaries(ctx):
    """The binaries of the target: `binary` or `binaries` (exactly one of them is set)."""
    if ctx.attr.binary and ctx.attr.binaries:
        _fail(ctx, "set either binary or binaries, not both (binaries = [...] puts several binaries in one image)")
    if not ctx.attr.binary and not ctx.attr.binaries:
        _fail(ctx, "set binary = \":my_py_binary\" (or binaries = [...] for several binaries in one image)")
    return [ctx.attr.binary] if ctx.attr.binary else ctx.attr.binaries

def _check_attrs(ctx, binaries):
    names = {}
    for binary in binaries:
        if PyInfo not in binary:
            _fail(ctx, "binary %s does not provide PyInfo; point it at a py_binary (or another rule returning PyInfo)" % binary.label)
        files_to_run = binary[DefaultInfo].files_to_run
        if not files_to_run or not files_to_run.executable:
            _fail(ctx, "binary %s is not executable; point it at a py_binary" % binary.label)
        name = files_to_run.executable.basename
        if name in names:
            _fail(ctx, "binaries %s and %s both have the launcher name %r: each binary's launcher is <root>/<name>, so their names must differ" % (names[name], binary.label, name))
        names[name] = binary.label
    if ctx.attr.base_layers < 0:
        _fail(ctx, "base_layers = %d is negative; give the number of layers of the base image (0 for none)" % ctx.attr.base_layers)

def _union(binaries):
    """The binaries' FragmentsInfo fields, as one (a single binary's as it is)."""
    infos = [b[FragmentsInfo] for b in binaries]
    if len(infos) == 1:
        return infos[0]
    groups = {}
    for info in infos:
        for group, frags in info.groups.items():
            groups.setdefault(group, []).append(frags)
    return struct(
        groups = {g: depset(transitive = d) for g, d in groups.items()},
        skip_prefixes = depset(transitive = [i.skip_prefixes for i in infos]),
        matched = depset(transitive = [i.matched for i in infos]),
        graph = depset(transitive = [i.graph for i in infos]),
        distributions = depset(transitive = [i.distributions for i in infos]),
    )

def _layers(ctx, binaries, fragments, tier, lookup, tool, prefix):
    """The layers under `tier` and the patterns that matched a distribution.

    One binary under the flag's tier: its layers, built once at the binary by the layers
    aspect. Several binaries under the flag's tier: pip layers and the interpreter layer
    are the binaries' own when their fragments are the same; the rest (the union's
    first-party and app layers, merges of groups whose fragments differ from every
    binary's) is built here.
    """
    if tier.label == ctx.attr._flag_tier[LayerTierInfo].label:
        matched = {p: True for p in fragments.matched.to_list()}  # at most the tier's patterns
        own = [b[BinaryLayersInfo] for b in binaries if BinaryLayersInfo in b]
        if len(binaries) == 1 and own:
            return own[0], matched
        groups = fragments.groups
        reuse = [layer for info in own for layer in info.layers if layer.kind in ("interpreter", "pip_group", "pip_squashed")]
    else:
        groups, matched = regroup_fragments(ctx.actions, tool, tier, lookup, fragments.distributions, prefix + "pkgs/")
        reuse = shared_interpreter(ctx.attr._interpreter_layer, tier, lookup, ctx)
    built = build_layers(ctx, label_str(ctx.label), tool, tier, lookup, groups, fragments.skip_prefixes, binaries, prefix, reuse = reuse)
    return built, matched

def _unmatched(ctx, binaries, tier, lookup, matched, empty_label_groups):
    """(group, pattern) of every pattern that matches nothing in the binary; fails when the tier says so."""
    out = []
    for group in lookup.pip_groups:
        out.extend([(group, p) for p in tier.groups[group] if p not in matched])
    out.extend([(g, p) for g in empty_label_groups for p in tier.groups[g]])
    if out and tier.unmatched == "error":
        _fail(ctx, "layer_tier %s: pattern(s) %s match nothing in %s. Remove them from the tier, fix them, or set unmatched = \"warn\" on the tier." % (
            tier.label,
            ", ".join(["%r (group %r)" % (p, g) for g, p in out]),
            ", ".join([str(b.label) for b in binaries]),
        ))
    return out if tier.unmatched == "warn" else []

# ---- every image path of the binary's runfiles (map_each callbacks), for invariant tests ----

def _expected_file(f):
    return manifest_line(f).split("\t")[1]

def _expected_symlink(entry):
    return "_main/" + entry.path

def _expected_root_symlink(entry):
    return entry.path

def _expected_empty(path):
    return empty_line(path).split("\t")[1]

def _write_runfiles_paths(ctx, out, root, binaries):
    runfiles = binaries[0][DefaultInfo].default_runfiles
    if len(binaries) > 1:
        runfiles = ctx.runfiles().merge_all([b[DefaultInfo].default_runfiles for b in binaries])  # depsets: each path once
    ea = ctx.actions.args()
    ea.set_param_file_format("multiline")
    rfroot = root + "/.runfiles/%s"
    ea.add_all(runfiles.files, map_each = _expected_file, expand_directories = False, format_each = rfroot)
    ea.add_all(runfiles.symlinks, map_each = _expected_symlink, format_each = rfroot, uniquify = True)
    ea.add_all(runfiles.root_symlinks, map_each = _expected_root_symlink, format_each = rfroot, uniquify = True)
    ea.add_all(runfiles.empty_filenames, map_each = _expected_empty, format_each = rfroot, uniquify = True)
    if [b for b in binaries if getattr(b[DefaultInfo].files_to_run, "repo_mapping_manifest", None)]:
        ea.add(root + "/.runfiles/_repo_mapping")
    for b in binaries:
        exe = b[DefaultInfo].files_to_run.executable
        ea.add("%s/%s" % (root, exe.basename))
        ea.add("%s/%s.runfiles" % (root, exe.basename))
    ctx.actions.write(out, ea)

def _py_image_layer_impl(ctx):
    binaries = _binaries(ctx)
    _check_attrs(ctx, binaries)
    tier_target = ctx.attr.layer_tier or ctx.attr._flag_tier
    tier = tier_target[LayerTierInfo]
    lookup = tier_target[TierLookupInfo]
    tool = pyimage_tool(ctx)
    prefix = ctx.label.name + "_layers/"

    fragments = _union(binaries)
    built, matched = _layers(ctx, binaries, fragments, tier, lookup, tool, prefix)
    layers = built.layers
    unmatched = _unmatched(ctx, binaries, tier, lookup, matched, built.empty_label_groups)

    plan = ctx.actions.declare_file(prefix + "plan.json")
    write_plan(ctx, plan, tier, ctx.attr.base_layers, layers, unmatched, fragments.graph)
    descriptors = [layer.descriptor for layer in layers]
    base = base_image(ctx)
    reports = declare_report(ctx, tool, plan, descriptors, prefix, previous_report(ctx), base)
    validation = ctx.actions.declare_file(prefix + "validation.txt")
    declare_validation(ctx, tool, plan, descriptors, validation, tier.limit_as_warning, base)
    runfiles_paths = ctx.actions.declare_file(prefix + "runfiles.paths")
    _write_runfiles_paths(ctx, runfiles_paths, tier.root, binaries)

    return [
        DefaultInfo(files = depset([layer.tar for layer in layers], order = "preorder")),
        OutputGroupInfo(
            descriptors = depset(descriptors, order = "preorder"),
            report = depset(reports.report),
            diff = depset(reports.diff),
            auto_layers = depset([layer.assignment for layer in layers if layer.assignment]),
            plan = depset([plan]),
            runfiles_paths = depset([runfiles_paths]),
            _validation = depset([validation]),
        ),
    ]

_PLATFORMS = "//command_line_option:platforms"

def _platform_transition_impl(settings, attr):
    if not attr.platform:
        return {_PLATFORMS: settings[_PLATFORMS]}  # unchanged: the very same configuration
    return {_PLATFORMS: [attr.platform]}

# On the rule (not on `binary`): the binaries, their pip wheels, the Python toolchain of
# the interpreter layer and the layer actions are all configured for `platform`; the
# `pyimage` tool is the toolchain's `cfg = "exec"` attribute, so it stays on the exec platform.
_platform_transition = transition(
    implementation = _platform_transition_impl,
    inputs = [_PLATFORMS],
    outputs = [_PLATFORMS],
)

py_image_layer = rule(
    implementation = _py_image_layer_impl,
    doc = """Splits a Python binary into ordered, byte-deterministic OCI layer tars.

DefaultInfo holds the layers, least-changing first: the interpreter (when the tier has
`interpreter_group`), the tier's pip groups in tier order, one squashed layer of the
pip packages no group names (or, with a tier `budget`, the auto layers they are spread
over), the tier's first-party groups, then the app layer. Pass
them to `oci_image(tars = [":layers"])`.

Image layout (`root` from the tier, default `/app`):

* `<root>/<binary name>`: the launcher;
* `<root>/.runfiles/...`: the runfiles tree (`_repo_mapping`, `_main/...`, `<repo>/site-packages/...`);
  its paths do not contain the binary name, so a package's layer is byte-identical in every image;
* `<root>/<binary name>.runfiles` -> `.runfiles` (symlink), where the launcher looks.

Several binaries in one image share one runfiles tree:

```starlark
py_image_layer(
    name = "layers",
    binaries = [":server", ":worker", ":migrate"],
)
```

gives `/app/server`, `/app/worker` and `/app/migrate`, each with its `<name>.runfiles ->
.runfiles` link, over one `/app/.runfiles` holding the union of their runfiles (each path
once) and the union of their `_repo_mapping` files. Package fragments are the same
artifacts as in single-binary images (built once at each distribution); a pip layer whose
fragments equal one binary's own is that binary's layer (no second merge); the first-party
and app layers hold the union. Bazel's generated empty `__init__.py` of one binary gives
way to another binary's real file at that path; two binaries whose runfiles put different
files at one path otherwise, or whose names are equal, are an analysis error naming both. Use `oci_image(entrypoint =
["/app/server"])` or run another binary with `--entrypoint /app/worker`.

Another target platform (an image for linux/arm64 built on linux/amd64):

```starlark
platform(
    name = "linux_arm64",
    constraint_values = ["@platforms//os:linux", "@platforms//cpu:arm64"],
)

py_image_layer(
    name = "layers_arm64",
    binary = ":server",
    platform = ":linux_arm64",
)
```

The target, its binaries, their pip packages and the Python toolchain of the interpreter
layer are configured for `platform`; the `pyimage` tool runs on the exec platform. The
platform needs a Python toolchain of its own (an interpreter tree for `interpreter_group`,
or the image's python3 through `py_runtime(interpreter_path = ...)`) and, for Bazel 7's
`py_binary`, a C++ toolchain; the pip repositories must provide that platform's wheels
(rules_python 0.22.1 installs the host's: pure-Python packages are the same bytes, native
ones would be the host's). Pure-Python package layers have the same bytes for every
platform.

Output groups: `descriptors` (one JSON per layer, in order), `report` (`report.txt`, the
human-readable table; `report.json`, its JSON form; `report.html`, a self-contained page, see
docs/report.md), `diff` (`diff.txt` and `diff.json`: `pyimage diff` of the report named by
`--@rules_pyimage//py:previous_report=LABEL` against this build's; empty when the flag is
unset), `auto_layers` (with a tier `budget`: the JSON naming each auto layer's packages, see
`layer_tier.budget`; else empty), `plan` (the plan JSON given to the tool), `runfiles_paths` (every image path the
binary's runfiles must occupy, for invariant tests), `_validation` (`pyimage validate`:
warnings, and an error past the layer limit counting the base image's layers).

The base image's layers count towards the tier's `max_layers` (default 125, Docker's
limit). Give the base image itself and its layers are counted from its manifest:

```starlark
py_image_layer(
    name = "layers",
    binary = ":server",
    base = "@distroless_python//:distroless_python",  # an oci_image / oci_pull target
)

oci_image(
    name = "image",
    base = "@distroless_python//:distroless_python",
    tars = [":layers"],
)
```

`base` takes an OCI image layout (an `oci_image` or `oci_pull` target, whose output is a
layout directory, or a filegroup of a layout's files: `index.json`, `oci-layout`,
`blobs/...`), an OCI archive or a `docker save` tarball (plain, gzip or zstd). From a
multi-platform index the image of the target platform (`platform`, else the build's) is
counted; an index without it, or a target platform the rules cannot name (no
`@platforms//os` and `@platforms//cpu` constraint they know), is an error listing the
index's platforms. The report says where the count came from. See docs/oci.md.
""",
    attrs = dict({
        "binary": attr.label(
            aspects = [merge_aspect],
            doc = "The py_binary to put into layers. Set this or `binaries`.",
        ),
        "binaries": attr.label_list(
            aspects = [merge_aspect],
            doc = "Several py_binary targets (of distinct names) to put into one image over one runfiles tree. Set this or `binary`.",
        ),
        "layer_tier": attr.label(
            providers = [LayerTierInfo, TierLookupInfo],
            doc = "Pin a `layer_tier` for this target. Default: the tier of the `@rules_pyimage//py:layer_tier` flag. Package fragments whose settings equal the flag tier's are shared, not rebuilt.",
        ),
        "platform": attr.label(
            doc = """Target platform of the image (e.g. a `platform` with `@platforms//cpu:arm64`):
the binaries, their pip packages and the Python toolchain of the interpreter layer are
configured for it; the `pyimage` tool still runs on the exec platform. Default: the
build's target platform (see "Another target platform" above).""",
        ),
        "base": attr.label(
            allow_files = True,
            doc = """The base image these layers go on: an `oci_image`/`oci_pull` target (an OCI
layout directory), the files of an OCI layout, an OCI archive or a `docker save` tarball.
The validation action reads its manifest and counts its layers against the tier's
`max_layers`. Not with `base_layers`.""",
        ),
        "base_layers": attr.int(
            default = 0,
            doc = "The base image's layer count, given as a number (when the image itself is not at hand; prefer `base`); counted against the tier's `max_layers` by the validation action. Not with `base`.",
        ),
        "_flag_tier": attr.label(
            default = Label("//py:layer_tier"),
            providers = [LayerTierInfo, TierLookupInfo],
        ),
        "_interpreter_layer": attr.label(default = Label("//py/private:interpreter_layer")),
        "_previous_report": attr.label(
            default = Label("//py:previous_report"),
            allow_files = True,
        ),
    }, **BASE_IMAGE_ATTRS),
    cfg = _platform_transition,
    toolchains = [
        TOOLCHAIN_TYPE,
        config_common.toolchain_type(PY_TOOLCHAIN, mandatory = False),
    ],
)
