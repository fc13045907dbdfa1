"""`py_console_script_binary` (fake rules_python 1.x): a binary for a wheel's console script.

    py_console_script_binary(name = "tabulate", pkg = "@pypi//tabulate")

Reads the `[console_scripts]` entry of the wheel's `entry_points.txt` (the hub's
`:dist_info`), writes `rules_python_entry_point_<name>.py` calling it, and makes a
`py_binary` of it (this fake's 1.x-shaped binary) that depends on the package.
"""

load("//python:defs.bzl", "py_binary")

def _gen_impl(ctx):
    entry_points = [f for f in ctx.files.dist_info if f.basename == "entry_points.txt"]
    if len(entry_points) != 1:
        fail("%s: %s has no entry_points.txt" % (ctx.label, ctx.attr.dist_info.label))
    out = ctx.actions.declare_file("rules_python_entry_point_%s.py" % ctx.attr.script)
    ctx.actions.run_shell(
        inputs = entry_points,
        outputs = [out],
        command = """
spec="$(awk -v want="$3" '
  /^\\[/ { section = $0; next }
  section == "[console_scripts]" && $1 == want && $2 == "=" { print $3; exit }
' "$1")"
[ -n "$spec" ] || { echo "no console script $3 in $1" >&2; exit 1; }
module="${spec%%:*}"
func="${spec#*:}"
printf 'import sys\\n\\nfrom %s import %s\\n\\nif __name__ == "__main__":\\n    sys.exit(%s())\\n' "$module" "$func" "$func" > "$2"
""",
        arguments = [entry_points[0].path, out.path, ctx.attr.script],
        mnemonic = "PyConsoleScriptGen",
    )
    return [DefaultInfo(files = depset([out]))]

_gen = rule(
    implementation = _gen_impl,
    attrs = {
        "dist_info": attr.label(mandatory = True, allow_files = True),
        "script": attr.string(mandatory = True),
    },
)

def py_console_script_binary(name, pkg, script = None, **kwargs):
    """A binary running the console script `script` (default `name`) of the pip package `pkg`.

    Args:
      name: the binary's name.
      pkg: the hub's package (`@pypi//tabulate`).
      script: the console script's name.
      **kwargs: passed to py_binary.
    """
    _gen(
        name = name + "_gen",
        dist_info = pkg + ":dist_info",
        script = script or name,
    )
    py_binary(
        name = name,
        srcs = [":" + name + "_gen"],
        main = ":" + name + "_gen",
        deps = [pkg + ":pkg"],
        **kwargs
    )
