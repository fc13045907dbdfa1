"""TEST-ONLY: assemble a docker-save tarball from layer tars.

Not part of the public API of rules_pyimage (`py/defs.bzl`); the e2e workspaces
use it to feed `py_image_layer` output to container-structure-test
(`--driver tar`) and `podman load`. Real users use rules_oci
(`oci_image(tars = [":layers"])`) or any other image rule.

```starlark
load("@rules_pyimage//tools/testing:image.bzl", "docker_save_image")

docker_save_image(
    name = "image",
    base = ["@pyimage_base//:layer"],   # base layer blobs, bottom first
    layers = [":layers"],               # py_image_layer targets (their tars, in order)
    entrypoint = ["/app/app"],
    env = {"PATH": "/usr/bin:/bin"},
    repo_tag = "smoke:test",
)
```
Output: `<name>.tar` (manifest.json, `<sha256>.json` config, blobs at the top
level) plus the config JSON in output group `config`. When a layer target has
an output group `descriptors` (pyimage descriptors), each layer's digest, size
and diff_id are checked against it.
"""

def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    config = ctx.actions.declare_file(ctx.label.name + ".config.json")
    blobs = []
    descriptors = []
    for t in ctx.attr.base + ctx.attr.layers:
        blobs.extend(t[DefaultInfo].files.to_list())
        if OutputGroupInfo in t and hasattr(t[OutputGroupInfo], "descriptors"):
            descriptors.extend(t[OutputGroupInfo].descriptors.to_list())
    blobs = [f for f in blobs if not f.path.endswith(".json")]
    args = ctx.actions.args()
    args.add("--output", out)
    args.add("--config-out", config)
    args.add_all(descriptors, before_each = "--descriptor")
    if ctx.attr.entrypoint:
        args.add("--entrypoint", json.encode(ctx.attr.entrypoint))
    if ctx.attr.cmd:
        args.add("--cmd", json.encode(ctx.attr.cmd))
    for k, v in ctx.attr.env.items():
        args.add("--env", "%s=%s" % (k, v))
    for k, v in ctx.attr.labels.items():
        args.add("--label", "%s=%s" % (k, v))
    if ctx.attr.workdir:
        args.add("--workdir", ctx.attr.workdir)
    if ctx.attr.user:
        args.add("--user", ctx.attr.user)
    if ctx.attr.repo_tag:
        args.add("--repo-tag", ctx.attr.repo_tag)
    args.add("--arch", ctx.attr.architecture)
    args.add_all(blobs)
    ctx.actions.run(
        executable = ctx.executable._assembler,
        arguments = [args],
        inputs = blobs + descriptors,
        outputs = [out, config],
        mnemonic = "PyImageTestImage",
        progress_message = "Assembling test image %{label}",
        # python3 from PATH runs the assembler (test-only rule).
        use_default_shell_env = True,
    )
    return [
        DefaultInfo(files = depset([out])),
        OutputGroupInfo(config = depset([config])),
    ]

_docker_save_image = rule(
    implementation = _impl,
    doc = "TEST-ONLY: a docker-save tarball from base blobs and layer tars.",
    attrs = {
        "architecture": attr.string(default = "amd64", doc = "Config `architecture`."),
        "base": attr.label_list(allow_files = True, doc = "Base layer blobs, bottom first."),
        "cmd": attr.string_list(doc = "Config `Cmd`."),
        "entrypoint": attr.string_list(doc = "Config `Entrypoint`."),
        "env": attr.string_dict(doc = "Config `Env` (in the given order)."),
        "labels": attr.string_dict(doc = "Config `Labels`."),
        "layers": attr.label_list(allow_files = True, doc = "Layer tars on top of `base`, in order (e.g. py_image_layer targets)."),
        "repo_tag": attr.string(doc = "`RepoTags` entry, e.g. `smoke:test`."),
        "user": attr.string(doc = "Config `User`."),
        "workdir": attr.string(doc = "Config `WorkingDir`."),
        "_assembler": attr.label(
            default = Label("//tools/testing:docker_save.py"),
            allow_single_file = True,
            executable = True,
            cfg = "exec",
        ),
    },
)

def docker_save_image(name, testonly = True, **kwargs):
    """TEST-ONLY docker-save tarball `<name>.tar`; see the module docstring.

    Args:
      name: target name.
      testonly: defaults to True: this is a test helper.
      **kwargs: attributes of the rule (base, layers, entrypoint, cmd, env, ...).
    """
    _docker_save_image(name = name, testonly = testonly, **kwargs)
