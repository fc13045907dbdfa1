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

The same for linux/arm64 (`tools/image/make-arm64.sh`; cache `$PYIMAGE_ARM64_CACHE`, else
`$PYIMAGE_ROOT/tools/image-arm64`, else /var/cache/rules_pyimage/tools/image-arm64):
`@pyimage_base_arm64//:layer` and `@pyimage_python311_arm64//:toolchain`, CPython 3.11
for aarch64 whose toolchain is only for `@platforms//os:linux` + `@platforms//cpu:arm64`
targets (register it before an unconstrained one). A repository is fetched only when a
workspace uses it, so the arm64 cache is needed only there.
"""

_DEFAULT_ROOT = "/var/cache/rules_pyimage"

# The caches' layouts: where the tree, the base layer and the stamps of each are.
_ARCH = {
    "amd64": struct(
        base_repo = "pyimage_base",
        env = "PYIMAGE_IMAGE_CACHE",
        subdir = "/tools/image",
        script = "make-interpreter.sh",
        base_script = "make-base.sh",
        python_stamp = "python3.11.v3.stamp",
        python_tree = "python3.11.v3",
        base_stamp = "base.stamp",
        constraints = [],
    ),
    "arm64": struct(
        base_repo = "pyimage_base_arm64",
        env = "PYIMAGE_ARM64_CACHE",
        subdir = "/tools/image-arm64",
        script = "make-arm64.sh",
        base_script = "make-arm64.sh",
        python_stamp = "stamp",
        python_tree = "python3.11",
        base_stamp = "stamp",
        constraints = ["@platforms//os:linux", "@platforms//cpu:arm64"],
    ),
}

def _cache_dir(rctx, arch):
    cache = rctx.os.environ.get(arch.env, "")
    if not cache:
        cache = (rctx.os.environ.get("PYIMAGE_ROOT", "").rstrip("/") or _DEFAULT_ROOT) + arch.subdir
    return cache.rstrip("/")

def _need(rctx, path, arch, script):
    p = rctx.path(path)
    if not p.exists:
        fail(("%s is missing: run tools/image/%s in the rules_pyimage checkout first " +
              "(it builds the e2e images' base/interpreter cache), or point " +
              "--repo_env=%s at an existing cache.") % (path, script, arch.env))
    if hasattr(rctx, "watch"):
        rctx.watch(p)
    return p

def _base_impl(rctx):
    arch = _ARCH[rctx.attr.arch]
    cache = _cache_dir(rctx, arch)
    _need(rctx, cache + "/" + arch.base_stamp, arch, arch.base_script)
    for f in ["layer.tar.gz", "layer.json", "PACKAGES"]:
        rctx.symlink(_need(rctx, cache + "/base/" + f, arch, arch.base_script), f)
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

# Minimal Debian bookworm root file system (tools/image/""" + arch.base_script + """), one layer.
filegroup(name = "layer", srcs = ["layer.tar.gz"])

# {digest, diff_id, size} of layer.tar.gz.
filegroup(name = "descriptor", srcs = ["layer.json"])

exports_files(["layer.tar.gz", "layer.json", "PACKAGES"])
""")

_base_repo = repository_rule(
    implementation = _base_impl,
    attrs = {"arch": attr.string(mandatory = True, values = _ARCH.keys())},
    environ = ["PYIMAGE_ARM64_CACHE", "PYIMAGE_IMAGE_CACHE", "PYIMAGE_ROOT"],
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
    arch = _ARCH[rctx.attr.arch]
    cache = _cache_dir(rctx, arch)
    _need(rctx, cache + "/" + arch.python_stamp, arch, arch.script)
    src = _need(rctx, cache + "/" + arch.python_tree + "/bin/python3.11", arch, arch.script).dirname.dirname
    res = rctx.execute(["cp", "-R", "-p", str(src), "python"])
    if res.return_code != 0:
        fail("copying %s failed: %s" % (src, res.stderr))
    links = _tree_links(rctx, "python")
    rctx.file("links.bzl", _LINKS_BZL)
    rctx.file("BUILD.bazel", """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")
load(":links.bzl", "interpreter_links")

package(default_visibility = ["//visibility:public"])

# CPython 3.11 from Debian bookworm's .debs (tools/image/{script}):
# a real interpreter tree, relocatable (the stdlib is found from the executable).
# Its shared libraries come from the base layer (@{base}).
interpreter_links(
    name = "links",
    links = {links},
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
    target_compatible_with = {constraints},
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)

exports_files(["python/VERSION"])
""".format(
        base = arch.base_repo,
        constraints = repr(arch.constraints),
        links = repr({k: links[k] for k in sorted(links)}),
        script = arch.script,
    ))

_python_repo = repository_rule(
    implementation = _python_impl,
    attrs = {"arch": attr.string(mandatory = True, values = _ARCH.keys())},
    environ = ["PYIMAGE_ARM64_CACHE", "PYIMAGE_IMAGE_CACHE", "PYIMAGE_ROOT"],
    local = True,
)

def _image_impl(_mctx):
    _base_repo(name = "pyimage_base", arch = "amd64")
    _python_repo(name = "pyimage_python311", arch = "amd64")
    _base_repo(name = "pyimage_base_arm64", arch = "arm64")
    _python_repo(name = "pyimage_python311_arm64", arch = "arm64")

image = module_extension(
    implementation = _image_impl,
    doc = "TEST-ONLY: the e2e images' cached base layers and interpreter trees (amd64, arm64).",
)
