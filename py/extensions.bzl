"""Module extension `pyimage`: provides the `pyimage` tool through toolchains.

rules_pyimage's own MODULE.bazel already does

```starlark
pyimage = use_extension("@rules_pyimage//py:extensions.bzl", "pyimage")
use_repo(pyimage, "pyimage_toolchains")
register_toolchains("@pyimage_toolchains//:all")
```

so users need nothing. The extension picks, for the rules_pyimage module version:

* **prebuilt** binaries when the version is in the generated table `PREBUILT`
  (py/private/versions.bzl, written by tools/release/release.sh): one toolchain per
  platform with that platform's `exec_compatible_with`, each binary downloaded only when
  its toolchain is used and checked against its SRI integrity (`sha256-…`);
* otherwise (development, `local_path_override`, `git_override`) a **source build**:
  `cargo build --release --locked -p pyimage` in the rules_pyimage tree (into
  `$CARGO_TARGET_DIR` when set, so checkouts on one machine share one cargo build),
  constrained to the OS and CPU of the machine that built it.

An exec platform that none of these toolchains matches gets a toolchain whose analysis
fails, naming the platform and the fix.

The root module may force the source build with `pyimage.toolchain(from_source = True)`.
"""

load("//py/private:repos.bzl", "PLATFORMS", "pyimage_hub", "pyimage_prebuilt", "pyimage_source")
load("//py/private:versions.bzl", "PREBUILT")

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
        for platform, release in sorted(prebuilt.items()):
            if platform not in PLATFORMS:
                fail("rules_pyimage %s: py/private/versions.bzl names platform %r, which py/private/repos.bzl PLATFORMS does not know" % (version, platform))
            name = "pyimage_" + platform.replace("-", "_")
            pyimage_prebuilt(
                name = name,
                url = release["url"],
                integrity = release["integrity"],
                platform = platform,
                version = version,
            )
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
        source = "source" in repos,
        version = version,
    )

pyimage = module_extension(
    implementation = _pyimage_impl,
    doc = "Creates `@pyimage_toolchains` (see the module docstring).",
    tag_classes = {"toolchain": _toolchain},
)
