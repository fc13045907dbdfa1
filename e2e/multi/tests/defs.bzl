"""Test helpers of e2e/multi: independent of rules_pyimage's own Starlark."""

def _repo_mapping_of_impl(ctx):
    files = []
    for b in ctx.attr.binaries:
        manifest = getattr(b[DefaultInfo].files_to_run, "repo_mapping_manifest", None)
        if not manifest:
            fail("%s has no repo mapping manifest" % b.label)
        files.append(manifest)
    return [DefaultInfo(files = depset(files))]

repo_mapping_of = rule(
    implementation = _repo_mapping_of_impl,
    doc = "TEST-ONLY: the `_repo_mapping` files Bazel writes for each binary.",
    attrs = {"binaries": attr.label_list(cfg = "target")},
)

def _rootpath(f):
    return f.short_path[3:] if f.short_path.startswith("../") else f.short_path

def _layer_list_impl(ctx):
    layers = ctx.attr.layers[DefaultInfo].files
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    args = ctx.actions.args()
    args.set_param_file_format("multiline")
    args.add_all(layers, map_each = _rootpath)
    ctx.actions.write(out, args)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = layers.to_list()))]

layer_list = rule(
    implementation = _layer_list_impl,
    doc = "TEST-ONLY: the layers of a py_image_layer in image order, one runfiles path (`<repo>/...` for other repositories) per line.",
    attrs = {"layers": attr.label()},
)
