"""TEST-ONLY repositories for the e2e images (not part of the public API).

The host scripts `tools/image/make-base.sh` and `tools/image/make-interpreter.sh`
build, once, a minimal Debian bookworm base layer and a relocatable CPython 3.11
tree under a cache folder (default `/var/cache/rules_pyimage/tools/image`,
override with `--repo_env=PYIMAGE_IMAGE_CACHE=/path`). This extension exposes
them to Bazel:

- `@pyimage_base//:layer` — the base layer blob (`layer.tar.gz`), and
  `@pyimage_base//:descriptor` its digest/diff_id JSON;
- `@pyimage_python311//:runtime` — a `py_runtime` whose `files` are the real
  interpreter tree (`python/bin/python3.11`, `python/lib/python3.11/...`; its
  symlinks, such as `python/bin/python3 -> python3.11`, as symlink artifacts), with
  `stub_shebang = "#!/usr/bin/env python3.11"`, and `@pyimage_python311//:toolchain`
  to register it:

```starlark
image = use_extension("@rules_pyimage//tools/image:extensions.bzl", "image")
use_repo(image, "pyimage_base", "pyimage_python311")
register_toolchains("@pyimage_python311//:toolchain")
```
"""

_DEFAULT_CACHE = "/var/cache/rules_pyimage/tools/image"

def _cache_dir(rctx):
    cache = rctx.os.environ.get("PYIMAGE_IMAGE_CACHE", "")
    if not cache:
        root = rctx.os.environ.get("PYIMAGE_ROOT", "")
        cache = root.rstrip("/") + "/tools/image" if root else _DEFAULT_CACHE
    return cache.rstrip("/")

def _need(rctx, path, script):
    p = rctx.path(path)
    if not p.exists:
        fail(("%s is missing: run tools/image/%s in the rules_pyimage checkout first " +
              "(it builds the e2e images' base/interpreter cache), or point " +
              "--repo_env=PYIMAGE_IMAGE_CACHE at an existing cache.") % (path, script))
    if hasattr(rctx, "watch"):
        rctx.watch(p)
    return p

def _base_impl(rctx):
    cache = _cache_dir(rctx)
    _need(rctx, cache + "/base.stamp", "make-base.sh")
    rctx.symlink(_need(rctx, cache + "/base/layer.tar.gz", "make-base.sh"), "layer.tar.gz")
    rctx.symlink(_need(rctx, cache + "/base/layer.json", "make-base.sh"), "layer.json")
    rctx.symlink(_need(rctx, cache + "/base/PACKAGES", "make-base.sh"), "PACKAGES")
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

# Minimal Debian bookworm root file system (tools/image/make-base.sh), one layer.
filegroup(name = "layer", srcs = ["layer.tar.gz"])

# {digest, diff_id, size} of layer.tar.gz.
filegroup(name = "descriptor", srcs = ["layer.json"])

exports_files(["layer.tar.gz", "layer.json", "PACKAGES"])
""")

_base_repo = repository_rule(
    implementation = _base_impl,
    environ = ["PYIMAGE_IMAGE_CACHE", "PYIMAGE_ROOT"],
    local = True,
)

_LINKS_BZL = """\
def _interpreter_links_impl(ctx):
    out = []
    for path, target in ctx.attr.links.items():
        link = ctx.actions.declare_symlink(path)
        ctx.actions.symlink(output = link, target_path = target)
        out.append(link)
    return [DefaultInfo(files = depset(out))]

# The tree's symlinks as symlink artifacts: Bazel copies a source symlink's
# content, but keeps a declared symlink a symlink (in runfiles and layers).
interpreter_links = rule(
    implementation = _interpreter_links_impl,
    attrs = {"links": attr.string_dict()},
)
"""

def _tree_links(rctx, tree):
    """{path: target} of the symlinks under `tree` (relative to the repository), removed from it."""
    res = rctx.execute(["find", tree, "-type", "l", "-printf", "%p\\t%l\\n"])
    if res.return_code != 0:
        fail("listing the symlinks of %s failed: %s" % (tree, res.stderr))
    links = {}
    for line in res.stdout.splitlines():
        path, target = line.split("\t", 1)
        links[path] = target
    if links:
        res = rctx.execute(["rm", "-f"] + sorted(links))
        if res.return_code != 0:
            fail("removing the symlinks of %s failed: %s" % (tree, res.stderr))
    return links

def _python_impl(rctx):
    cache = _cache_dir(rctx)
    _need(rctx, cache + "/python3.11.v3.stamp", "make-interpreter.sh")
    src = _need(rctx, cache + "/python3.11.v3/bin/python3.11", "make-interpreter.sh").dirname.dirname
    res = rctx.execute(["cp", "-R", "-p", str(src), "python"])
    if res.return_code != 0:
        fail("copying %s failed: %s" % (src, res.stderr))
    links = _tree_links(rctx, "python")
    rctx.file("links.bzl", _LINKS_BZL)
    rctx.file("BUILD.bazel", """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")
load(":links.bzl", "interpreter_links")

package(default_visibility = ["//visibility:public"])

# CPython 3.11 from Debian bookworm's .debs (tools/image/make-interpreter.sh):
# a real interpreter tree, relocatable (the stdlib is found from the executable).
# Its shared libraries come from the base layer (@pyimage_base).
interpreter_links(
    name = "links",
    links = %r,
)

py_runtime(
    name = "runtime",
    # Tests run this interpreter from here and may write bytecode caches
    # next to the sources: never let them into runfiles (or images).
    files = glob(
        ["python/**"],
        exclude = [
            "python/VERSION",
            "**/__pycache__/**",
            "**/*.pyc",
        ],
    ) + [":links"],
    interpreter = "python/bin/python3.11",
    python_version = "PY3",
    # The py_binary launcher runs with the first python3.11 on PATH; in the
    # image that is this tree (its bin/ is on the image's PATH).
    stub_shebang = "#!/usr/bin/env python3.11",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":runtime",
)

toolchain(
    name = "toolchain",
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)

exports_files(["python/VERSION"])
""" % {k: links[k] for k in sorted(links)})

_python_repo = repository_rule(
    implementation = _python_impl,
    environ = ["PYIMAGE_IMAGE_CACHE", "PYIMAGE_ROOT"],
    local = True,
)

def _image_impl(_mctx):
    _base_repo(name = "pyimage_base")
    _python_repo(name = "pyimage_python311")

image = module_extension(
    implementation = _image_impl,
    doc = "TEST-ONLY: the e2e images' cached base layer and interpreter tree.",
)
