"""TEST-ONLY listings for image checks: `runfiles_listing` and `layer_list`.

`runfiles_listing`: what an image of some binaries must contain, computed from the binaries' runfiles objects, independently of rules_pyimage's own
Starlark, for `invariants.py`:

```starlark
load("@rules_pyimage//tools/testing:listing.bzl", "layer_list", "runfiles_listing")

runfiles_listing(
    name = "runfiles",
    binaries = ["//app", "//app:tool"],
)
```

One line per entry, sorted by path: `<kind>\t<path under the runfiles root>` with kind
`file`, `symlink` (runfiles `symlinks` / `root_symlinks`) or `empty` (Bazel's empty
`__init__.py` files), plus `_repo_mapping`, and first one `launcher\t<name>` line per binary.

`layer_list(name, layers = ":layers")`: the layer blobs of a `py_image_layer` in image
order, one path per line relative to the test's working directory (its `rootpath`;
`$(rootpaths)` sorts them), with the blobs as runfiles.
"""

def _runfiles_listing_impl(ctx):
    ws = ctx.workspace_name
    rows = {"_repo_mapping": "file"}
    launchers = []
    for binary in ctx.attr.binaries:
        rf = binary[DefaultInfo].default_runfiles
        for f in rf.files.to_list():
            sp = f.short_path
            rows[sp[3:] if sp.startswith("../") else ws + "/" + sp] = "file"
        for s in rf.symlinks.to_list():
            rows[ws + "/" + s.path] = "symlink"
        for s in rf.root_symlinks.to_list():
            rows[s.path] = "symlink"
        for e in rf.empty_filenames.to_list():
            # Bazel 7 names empty files of other repositories `external/<repo>/...`
            # (the legacy layout); they live at `<repo>/...`.
            if e.startswith("../"):
                rows[e[3:]] = "empty"
            elif e.startswith("external/"):
                rows[e[len("external/"):]] = "empty"
            else:
                rows[ws + "/" + e] = "empty"
        launchers.append("launcher\t" + binary[DefaultInfo].files_to_run.executable.basename)
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.write(out, "\n".join(launchers + ["%s\t%s" % (rows[p], p) for p in sorted(rows)]) + "\n")
    return [DefaultInfo(files = depset([out]))]

runfiles_listing = rule(
    implementation = _runfiles_listing_impl,
    doc = "TEST-ONLY: the runfiles paths an image of `binaries` must contain (for invariants.py).",
    attrs = {"binaries": attr.label_list(mandatory = True, cfg = "target")},
)

def _rootpath(f):
    return f.short_path

def _layer_list_impl(ctx):
    layers = [f for f in ctx.attr.layers[DefaultInfo].files.to_list() if not f.path.endswith(".json")]
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.write(out, "".join([_rootpath(f) + "\n" for f in layers]))
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = layers))]

layer_list = rule(
    implementation = _layer_list_impl,
    doc = "TEST-ONLY: the layer blobs of a py_image_layer in image order, one rootpath per line.",
    attrs = {"layers": attr.label(mandatory = True)},
)
