"""The base image of a `py_image_layer`: which path the plan commands read its layer count
from, and the image's platform (OCI `os/arch[/variant]`) from the target platform."""

# OCI names of the target platform's constraints. Only these are recognised (constraint
# values every `platforms` release since 0.0.5 has); on another platform the image's
# platform is unknown and a multi-platform base is refused with the list of its platforms.
_OS = {
    "linux": "@platforms//os:linux",
    "windows": "@platforms//os:windows",
}

_CPU = {
    "386": "@platforms//cpu:x86_32",
    "amd64": "@platforms//cpu:x86_64",
    "arm": "@platforms//cpu:armv7",
    "arm64": "@platforms//cpu:aarch64",
    "riscv64": "@platforms//cpu:riscv64",
    "s390x": "@platforms//cpu:s390x",
}

def _attr_name(kind, name):
    return "_base_%s_%s" % (kind, name)

def _constraint_attrs():
    attrs = {}
    for kind, table in [("os", _OS), ("cpu", _CPU)]:
        for name, label in table.items():
            attrs[_attr_name(kind, name)] = attr.label(default = Label(label))
    return attrs

# Private attributes of a rule that calls `base_image` or `target_platform`.
BASE_IMAGE_ATTRS = _constraint_attrs()

def target_platform(ctx):
    """The target platform as OCI names it (`linux/amd64`), or "" when unknown.

    Args:
      ctx: a rule context with BASE_IMAGE_ATTRS.

    Returns:
      a string.
    """
    found = {}
    for kind, table in [("os", _OS), ("cpu", _CPU)]:
        for name in table:
            value = getattr(ctx.attr, _attr_name(kind, name))[platform_common.ConstraintValueInfo]
            if ctx.target_platform_has_constraint(value):
                found[kind] = name
    if "os" not in found or "cpu" not in found:
        return ""
    return "%s/%s" % (found["os"], found["cpu"])

def _fail(ctx, msg):
    fail("py_image_layer %s: base = %s: %s" % (ctx.label, ctx.attr.base.label, msg))

def _base_path(ctx, files):
    """The path `pyimage` reads (a directory, or the one archive file).

    A tree artifact as it is, the folder of an index.json or manifest.json among files,
    or the only file.
    """
    dirs = [f for f in files if f.is_directory]
    if len(dirs) == 1 and len(files) == 1:
        return dirs[0].path
    roots = sorted(
        [f for f in files if not f.is_directory and f.basename in ("index.json", "manifest.json")],
        key = lambda f: (len(f.path), f.basename),
    )
    if roots:
        return roots[0].dirname
    if len(files) == 1:
        return files[0].path
    _fail(ctx, "%d files, none of them index.json (an OCI layout) or manifest.json (a docker save folder): %s. Give an oci_image target, the files of one OCI layout (index.json, oci-layout, blobs/...) or one `docker save` tarball (e.g. `filegroup(output_group = \"tarball\")` of an oci_load target)" % (
        len(files),
        ", ".join([f.short_path for f in files[:5]]) + (", ..." if len(files) > 5 else ""),
    ))
    return None

def base_image(ctx):
    """The base image of the target, for the plan commands.

    Args:
      ctx: the rule context (attributes `base`, `base_layers` and BASE_IMAGE_ATTRS).

    Returns:
      struct(flags = [...] for `pyimage validate/report`, inputs = [File...],
      platform = the target platform or ""), or None when `base` is unset.
    """
    if not ctx.attr.base:
        return None
    if ctx.attr.base_layers:
        fail("py_image_layer %s: set either base (the image, whose layers are counted) or base_layers = %d (a number), not both; drop base_layers" % (ctx.label, ctx.attr.base_layers))
    files = ctx.files.base
    if not files:
        _fail(ctx, "the target has no files; give an oci_image target, an OCI layout's files or a `docker save` tarball")
    flags = ["--base", _base_path(ctx, files)]
    platform = target_platform(ctx)
    if platform:
        flags.extend(["--platform", platform])
    return struct(flags = flags, inputs = files, platform = platform)
