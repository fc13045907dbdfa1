"""TEST-ONLY: the linux/arm64 image cache (tools/image/make-arm64.sh) as repositories.

- `@pyimage_python311_arm64//:toolchain`: a `py_runtime` whose `files` are CPython 3.11 for
  aarch64 (Debian bookworm's arm64 .debs), for linux/arm64 targets only;
- `@pyimage_base_arm64//:layer`: the arm64 base layer (`layer.tar.gz`, `layer.json`).

The cache is `$PYIMAGE_ARM64_CACHE`, else `$PYIMAGE_ROOT/tools/image-arm64`, else
/var/cache/rules_pyimage/tools/image-arm64 (inside the harness's tools/ folder, which
tools/bazel mounts at the same path).
"""

_DEFAULT_ROOT = "/var/cache/rules_pyimage"

def _cache(rctx):
    cache = rctx.os.environ.get("PYIMAGE_ARM64_CACHE", "")
    if not cache:
        cache = rctx.os.environ.get("PYIMAGE_ROOT", "").rstrip("/") or _DEFAULT_ROOT
        cache += "/tools/image-arm64"
    stamp = rctx.path(cache + "/stamp")
    if not stamp.exists:
        fail("%s is missing: run tools/image/make-arm64.sh (or tools/setup.sh, hook 65-arm64-image.sh) in the rules_pyimage checkout first" % stamp)
    if hasattr(rctx, "watch"):
        rctx.watch(stamp)
    return cache

def _python_impl(rctx):
    src = _cache(rctx) + "/python3.11"
    res = rctx.execute(["cp", "-R", "-p", src, "python"])
    if res.return_code != 0:
        fail("copying %s failed: %s" % (src, res.stderr))
    rctx.file("BUILD.bazel", """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

# CPython 3.11 for aarch64 (Debian bookworm arm64 .debs; tools/image/make-arm64.sh).
py_runtime(
    name = "runtime",
    files = glob(
        ["python/**"],
        exclude = [
            "python/VERSION",
            "**/__pycache__/**",
            "**/*.pyc",
        ],
    ),
    interpreter = "python/bin/python3.11",
    python_version = "PY3",
    stub_shebang = "#!/usr/bin/env python3.11",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":runtime",
)

toolchain(
    name = "toolchain",
    target_compatible_with = [
        "@platforms//os:linux",
        "@platforms//cpu:arm64",
    ],
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)

exports_files(["python/VERSION"])
""")

_python = repository_rule(
    implementation = _python_impl,
    environ = ["PYIMAGE_ARM64_CACHE", "PYIMAGE_ROOT"],
    local = True,
)

def _base_impl(rctx):
    cache = _cache(rctx)
    for f in ["layer.tar.gz", "layer.json", "PACKAGES"]:
        rctx.symlink(cache + "/base/" + f, f)
    rctx.file("BUILD.bazel", """\
package(default_visibility = ["//visibility:public"])

# The arm64 .debs of the amd64 base's packages, one layer (tools/image/make-arm64.sh).
filegroup(name = "layer", srcs = ["layer.tar.gz"])

filegroup(name = "descriptor", srcs = ["layer.json"])

exports_files(["layer.tar.gz", "layer.json", "PACKAGES"])
""")

_base = repository_rule(
    implementation = _base_impl,
    environ = ["PYIMAGE_ARM64_CACHE", "PYIMAGE_ROOT"],
    local = True,
)

def _ext_impl(_mctx):
    _python(name = "pyimage_python311_arm64")
    _base(name = "pyimage_base_arm64")

image_cache = module_extension(
    implementation = _ext_impl,
    doc = "TEST-ONLY: the arm64 interpreter tree and base layer.",
)
