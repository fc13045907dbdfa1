"""Test helpers of e2e/smoke: independent of rules_pyimage's own Starlark."""

def _runfiles_listing_impl(ctx):
    """Writes every runfiles path of `binary`, computed from its runfiles object.

    One line per entry: `<kind>\t<path under the runfiles root>` with kind file,
    symlink (runfiles symlinks / root_symlinks) or empty (empty __init__.py).
    The launcher and `_repo_mapping` are listed as `launcher` / `file`.
    This is what the image must contain, derived without any of the rules' code.
    """
    binary = ctx.attr.binary
    rf = binary[DefaultInfo].default_runfiles
    ws = ctx.workspace_name
    rows = {}

    def add(kind, path):
        rows[path] = kind

    for f in rf.files.to_list():
        sp = f.short_path
        add("file", sp[3:] if sp.startswith("../") else ws + "/" + sp)
    for s in rf.symlinks.to_list():
        add("symlink", ws + "/" + s.path)
    for s in rf.root_symlinks.to_list():
        add("symlink", s.path)
    for e in rf.empty_filenames.to_list():
        # Bazel 7 names empty files of external repos `external/<repo>/...`
        # (legacy layout); their real runfiles path is `<repo>/...` (and
        # `external/__init__.py` is the runfiles root's `__init__.py`).
        if e.startswith("../"):
            add("empty", e[3:])
        elif e.startswith("external/"):
            add("empty", e[len("external/"):])
        else:
            add("empty", ws + "/" + e)
    add("file", "_repo_mapping")
    exe = binary[DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    lines = ["launcher\t" + exe.basename]
    lines.extend(["%s\t%s" % (rows[p], p) for p in sorted(rows)])
    ctx.actions.write(out, "\n".join(lines) + "\n")
    return [DefaultInfo(files = depset([out]))]

runfiles_listing = rule(
    implementation = _runfiles_listing_impl,
    doc = "TEST-ONLY: the runfiles paths a py_binary's image must contain.",
    attrs = {"binary": attr.label(mandatory = True, executable = True, cfg = "target")},
)

def _layer_listings_impl(ctx):
    tool = ctx.toolchains["@rules_pyimage//py/toolchain:type"].pyimage.tool
    outs = []
    for layer in ctx.files.layers:
        if layer.path.endswith(".json"):
            continue
        name = layer.basename
        for ext in [".tar.gz", ".tar.zst", ".tar"]:
            if name.endswith(ext):
                name = name[:-len(ext)]
                break
        out = ctx.actions.declare_file("%s/%s.txt" % (ctx.label.name, name))
        args = ctx.actions.args()
        args.add("list")
        args.add_all(ctx.attr.redact, before_each = "--redact")
        args.add(layer)
        ctx.actions.run_shell(
            command = '"$1" "${@:3}" > "$2"',
            arguments = [tool.executable.path, out.path, args],
            tools = [tool],
            inputs = [layer],
            outputs = [out],
            mnemonic = "PyImageSnapshotList",
            progress_message = "Listing %s" % layer.short_path,
        )
        outs.append(out)
    return [DefaultInfo(files = depset(outs))]

layer_listings = rule(
    implementation = _layer_listings_impl,
    doc = "TEST-ONLY: `pyimage list` of each layer, `<name>/<layer basename>.txt`.",
    attrs = {
        "layers": attr.label_list(allow_files = True, mandatory = True),
        "redact": attr.string_list(doc = "`--redact` regexes (volatile sizes)."),
    },
    toolchains = ["@rules_pyimage//py/toolchain:type"],
)
