"""Test helpers of e2e/smoke: independent of rules_pyimage's own Starlark."""

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
