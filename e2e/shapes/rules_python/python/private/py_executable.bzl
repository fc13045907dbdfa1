"""A py_binary with rules_python 1.x's `--bootstrap_impl=script` runfiles shape.

For a binary `//pkg:app` the runfiles hold, besides its sources and dependencies:

    _main/pkg/app                                   stage-1 launcher (a shell script)
    _main/pkg/_app_stage2_bootstrap.py              stage-2 bootstrap (runs the main file)
    _main/pkg/_app.venv/pyvenv.cfg                  empty: makes Python's site treat it as a venv
    _main/pkg/_app.venv/bin/python3.11              declared symlink, relative, to the runtime's interpreter
    _main/pkg/_app.venv/lib/python3.11/site-packages/bazel.pth            `import _bazel_site_init`
    _main/pkg/_app.venv/lib/python3.11/site-packages/_bazel_site_init.py  puts the imports on sys.path
    <runtime repo>/...                              the Python runtime's files

With `venv_site_packages = True` (1.x `--venvs_site_packages=yes`) each top-level
entry of a pip distribution's `site-packages/` is also linked into the venv's
site-packages with a root symlink, as 1.x does.

Written for the e2e fixture from the shapes documented by rules_python 1.x; the
launcher and bootstraps are this fake's own (they run with the registered toolchain).
"""

_PY_TOOLCHAIN = "@bazel_tools//tools/python:toolchain_type"

def _runfiles_path(ctx, short_path):
    return short_path[3:] if short_path.startswith("../") else ctx.workspace_name + "/" + short_path

def _relative(from_dir, to):
    here = from_dir.split("/")
    there = to.split("/")
    common = 0
    for i in range(min(len(here), len(there))):
        if here[i] != there[i]:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:])

def _python_version(ctx, interpreter):
    name = interpreter.basename
    if not name.startswith("python3."):
        fail("%s: the fake py_binary needs a runtime whose interpreter is named python3.X, got %s" % (ctx.label, interpreter.short_path))
    return name[len("python"):]

def _site_package_links(ctx, site_packages, deps):
    """Root symlinks `<venv site-packages>/<top-level entry>` -> a pip distribution's file."""
    links = {}
    for dep in deps:
        for f in dep[PyInfo].transitive_sources.to_list() + dep[DefaultInfo].default_runfiles.files.to_list():
            path = _runfiles_path(ctx, f.short_path)
            i = path.find("/site-packages/")
            if i < 0 or f.owner.workspace_name == "":
                continue
            rel = path[i + len("/site-packages/"):]
            links[site_packages + "/" + rel] = f
    return links

def _py_binary_impl(ctx):
    runtime = ctx.toolchains[_PY_TOOLCHAIN].py3_runtime
    if not runtime or not runtime.interpreter:
        fail("%s: the fake py_binary needs a Python toolchain with an in-build interpreter" % ctx.label)
    interpreter = runtime.interpreter
    version = _python_version(ctx, interpreter)
    name = ctx.label.name
    venv = "_%s.venv" % name
    pkg_root = _runfiles_path(ctx, ctx.label.package) if ctx.label.package else ctx.workspace_name

    pyvenv_cfg = ctx.actions.declare_file(venv + "/pyvenv.cfg")
    ctx.actions.write(pyvenv_cfg, "")

    venv_python = ctx.actions.declare_symlink("%s/bin/%s" % (venv, interpreter.basename))
    ctx.actions.symlink(
        output = venv_python,
        target_path = _relative(pkg_root + "/" + venv + "/bin", _runfiles_path(ctx, interpreter.short_path)),
    )

    site_packages = "%s/lib/python%s/site-packages" % (venv, version)
    pth = ctx.actions.declare_file(site_packages + "/bazel.pth")
    ctx.actions.write(pth, "import _bazel_site_init\n")

    imports = depset(transitive = [d[PyInfo].imports for d in ctx.attr.deps])
    site_init = ctx.actions.declare_file(site_packages + "/_bazel_site_init.py")
    ctx.actions.expand_template(
        template = ctx.file._site_init,
        output = site_init,
        substitutions = {
            "%imports%": ":".join(imports.to_list()),
            "%site_init_runfiles_path%": _runfiles_path(ctx, site_init.short_path),
            "%workspace_name%": ctx.workspace_name,
        },
    )

    main = ctx.file.main if ctx.attr.main else ctx.files.srcs[0]
    stage2 = ctx.actions.declare_file("_%s_stage2_bootstrap.py" % name)
    ctx.actions.expand_template(
        template = ctx.file._stage2,
        output = stage2,
        substitutions = {
            "%main%": _runfiles_path(ctx, main.short_path),
            "%target%": str(ctx.label),
        },
        is_executable = True,
    )

    launcher = ctx.actions.declare_file(name)
    ctx.actions.expand_template(
        template = ctx.file._stage1,
        output = launcher,
        substitutions = {
            "%python_binary%": _runfiles_path(ctx, venv_python.short_path),
            "%stage2_bootstrap%": _runfiles_path(ctx, stage2.short_path),
            "%target%": str(ctx.label),
        },
        is_executable = True,
    )

    root_symlinks = {}
    if ctx.attr.venv_site_packages:
        for path, f in _site_package_links(ctx, pkg_root + "/" + site_packages, ctx.attr.deps).items():
            root_symlinks[path] = f
    runfiles = ctx.runfiles(
        files = ctx.files.srcs + ctx.files.data + [stage2, pyvenv_cfg, venv_python, pth, site_init, interpreter],
        transitive_files = runtime.files,
        root_symlinks = root_symlinks,
    )
    runfiles = runfiles.merge_all([d[DefaultInfo].default_runfiles for d in ctx.attr.deps + ctx.attr.data])
    return [
        DefaultInfo(executable = launcher, files = depset([launcher]), runfiles = runfiles),
        PyInfo(
            transitive_sources = depset(
                [f for f in ctx.files.srcs if f.extension == "py"],
                transitive = [d[PyInfo].transitive_sources for d in ctx.attr.deps],
            ),
            imports = imports,
        ),
    ]

py_binary = rule(
    implementation = _py_binary_impl,
    doc = "A py_binary in rules_python 1.x's `--bootstrap_impl=script` shape (see the module docstring).",
    executable = True,
    attrs = {
        "data": attr.label_list(allow_files = True),
        "deps": attr.label_list(providers = [PyInfo]),
        "main": attr.label(allow_single_file = [".py"]),
        "srcs": attr.label_list(allow_files = [".py"]),
        "venv_site_packages": attr.bool(doc = "Link the pip distributions' top-level entries into the venv (1.x `--venvs_site_packages=yes`)."),
        "_site_init": attr.label(default = "//python/private:site_init.py.tmpl", allow_single_file = True),
        "_stage1": attr.label(default = "//python/private:stage1_bootstrap.sh.tmpl", allow_single_file = True),
        "_stage2": attr.label(default = "//python/private:stage2_bootstrap.py.tmpl", allow_single_file = True),
    },
    toolchains = [_PY_TOOLCHAIN],
)
