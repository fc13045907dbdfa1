"""`namespace_inits`: pkgutil-style `__init__.py` files of namespace packages (fake rules_python 1.x)."""

_INIT = "__path__ = __import__(\"pkgutil\").extend_path(__path__, __name__)\n"

def _impl(ctx):
    out = []
    for d in ctx.attr.dirs:
        f = ctx.actions.declare_file(d + "/__init__.py")
        ctx.actions.write(f, _INIT)
        out.append(f)
    return [DefaultInfo(files = depset(out))]

namespace_inits = rule(
    implementation = _impl,
    attrs = {"dirs": attr.string_list()},
)
