"""TEST-ONLY: a synthetic base image with N tiny layers, for `py_image_layer(base = ...)`.

Not part of the public API of rules_pyimage (`py/defs.bzl`); the tests use it where users
would give an `oci_image`/`oci_pull` target or a `docker save` tarball.

```starlark
load("@rules_pyimage//tools/testing:base_image.bzl", "synthetic_base_image")

synthetic_base_image(
    name = "base30",            # an OCI layout directory (a tree artifact, like oci_image)
    layers = 30,
)

synthetic_base_image(
    name = "base30_tar",        # base30_tar.tar, a docker save tarball
    format = "docker-archive",
    layers = 30,
)

synthetic_base_image(
    name = "base30_multi",      # an image index: the target platform's image has 30 layers,
    layers = 30,                # linux/s390x's 31
    other_platforms = ["linux/s390x"],
)
```

The image's platform is the target platform's (`linux/amd64` on an x86_64 host), or
`platform` when set.
"""

# buildifier: disable=bzl-visibility
load("//py/private:base_image.bzl", "BASE_IMAGE_ATTRS", "target_platform")

def _impl(ctx):
    platform = ctx.attr.platform or target_platform(ctx) or "linux/amd64"
    if ctx.attr.format == "oci-layout":
        out = ctx.actions.declare_directory(ctx.label.name)
    elif ctx.attr.format == "docker-archive":
        if ctx.attr.other_platforms:
            fail("%s: other_platforms needs format = \"oci-layout\" (a docker save tarball holds one image)" % ctx.label)
        out = ctx.actions.declare_file(ctx.label.name + ".tar")
    else:
        fail("%s: format = %r; use \"oci-layout\" or \"docker-archive\"" % (ctx.label, ctx.attr.format))
    args = ctx.actions.args()
    args.add("--format", ctx.attr.format)
    args.add("--output", out.path)
    args.add("--layers", ctx.attr.layers)
    args.add("--platform", platform)
    args.add_all(ctx.attr.other_platforms, before_each = "--other-platform")
    ctx.actions.run(
        executable = ctx.executable._writer,
        arguments = [args],
        outputs = [out],
        mnemonic = "PyImageTestBase",
        progress_message = "Writing test base image %{label}",
        # python3 from PATH runs the writer (test-only rule).
        use_default_shell_env = True,
    )
    return [DefaultInfo(files = depset([out]))]

_synthetic_base_image = rule(
    implementation = _impl,
    doc = "TEST-ONLY: a base image of `layers` tiny layers (OCI layout directory or docker save tarball).",
    attrs = dict({
        "format": attr.string(default = "oci-layout", doc = "`oci-layout` (a directory) or `docker-archive` (`<name>.tar`)."),
        "layers": attr.int(mandatory = True, doc = "Layers of the (target platform's) image."),
        "other_platforms": attr.string_list(doc = "More images under an image index; the i-th has `layers + 1 + i` layers."),
        "platform": attr.string(doc = "`os/arch[/variant]` of the image; default: the target platform."),
        "_writer": attr.label(
            default = Label("//tools/testing:synthetic_base.py"),
            allow_single_file = True,
            executable = True,
            cfg = "exec",
        ),
    }, **BASE_IMAGE_ATTRS),
)

def synthetic_base_image(name, testonly = True, **kwargs):
    """TEST-ONLY synthetic base image; see the module docstring.

    Args:
      name: target name.
      testonly: defaults to True: this is a test helper.
      **kwargs: layers, format, other_platforms, platform.
    """
    _synthetic_base_image(name = name, testonly = testonly, **kwargs)
