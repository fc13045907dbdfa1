"""Module extension `pyimage`: provides the `pyimage` tool through toolchains.

rules_pyimage's own MODULE.bazel already does

```starlark
pyimage = use_extension("@rules_pyimage//py:extensions.bzl", "pyimage")
use_repo(pyimage, "pyimage_toolchains")
register_toolchains("@pyimage_toolchains//:all")
```

so users need nothing. The extension picks, for the rules_pyimage module version:

* **prebuilt** binaries when the version is in `PREBUILT` (py/private/repos.bzl): one
  toolchain per platform, downloaded and checked against its sha256;
* otherwise (development, `local_path_override`, `git_override`) a **source build**:
  `cargo build --release --locked -p pyimage` in the rules_pyimage tree.

The root module may force the source build with `pyimage.toolchain(from_source = True)`.
"""

load("//py/private:repos.bzl", "PLATFORMS", "PREBUILT", "pyimage_hub", "pyimage_prebuilt", "pyimage_source")

_toolchain = tag_class(
    doc = "Options of the pyimage toolchain (honoured from the root module only).",
    attrs = {
        "from_source": attr.bool(
            default = False,
            doc = "Build `pyimage` from the rules_pyimage source tree even when a prebuilt binary exists.",
        ),
    },
)

def _pyimage_impl(mctx):
    version = ""
    from_source = False
    for mod in mctx.modules:
        if mod.name == "rules_pyimage":
            version = mod.version
        if mod.is_root:
            for tag in mod.tags.toolchain:
                from_source = from_source or tag.from_source

    repos = {}
    constraints = {}
    prebuilt = PREBUILT.get(version)
    if prebuilt and not from_source:
        for platform, (url, sha256) in prebuilt.items():
            name = "pyimage_" + platform.replace("-", "_")
            pyimage_prebuilt(name = name, url = url, sha256 = sha256)
            repos[platform] = name
            constraints[platform] = [str(Label(c)) for c in PLATFORMS[platform]]
    else:
        pyimage_source(name = "pyimage_source")
        repos["source"] = "pyimage_source"
        version = "source"

    pyimage_hub(
        name = "pyimage_toolchains",
        repos = repos,
        constraints = constraints,
        version = version,
    )

pyimage = module_extension(
    implementation = _pyimage_impl,
    doc = "Creates `@pyimage_toolchains` (see the module docstring).",
    tag_classes = {"toolchain": _toolchain},
)
