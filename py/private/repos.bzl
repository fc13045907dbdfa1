"""Repository rules providing the `pyimage` tool: built from source, or prebuilt."""

# Platform name (a Rust target triple, as in the release files' names) -> exec
# constraints of its toolchain. The table of released binaries is versions.bzl.
PLATFORMS = {
    "aarch64-apple-darwin": ["@platforms//os:macos", "@platforms//cpu:aarch64"],
    "aarch64-unknown-linux-gnu": ["@platforms//os:linux", "@platforms//cpu:aarch64"],
    "x86_64-apple-darwin": ["@platforms//os:macos", "@platforms//cpu:x86_64"],
    "x86_64-unknown-linux-gnu": ["@platforms//os:linux", "@platforms//cpu:x86_64"],
}

# rctx.os.name / rctx.os.arch -> @platforms constraint values (host of a source build).
_OS = {"linux": "linux", "mac os x": "macos", "freebsd": "freebsd", "openbsd": "openbsd"}
_CPU = {"amd64": "x86_64", "x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64", "s390x": "s390x", "ppc64le": "ppc64le"}

_FIX = """
rules_pyimage builds its `pyimage` tool from source with cargo when the module
version has no prebuilt binary (always the case with local_path_override).
Fix: install Rust (https://rustup.rs: `curl https://sh.rustup.rs -sSf | sh`),
or put `cargo` on PATH, or set CARGO_HOME so that $CARGO_HOME/bin/cargo exists,
e.g. `bazel build --repo_env=CARGO_HOME=$HOME/.cargo ...`."""

def _find_cargo(rctx):
    cargo = rctx.which("cargo")
    if cargo:
        return cargo
    env = rctx.os.environ
    candidates = []
    if env.get("CARGO_HOME"):
        candidates.append(env["CARGO_HOME"] + "/bin/cargo")
    if env.get("HOME"):
        candidates.append(env["HOME"] + "/.cargo/bin/cargo")
    for c in candidates:
        p = rctx.path(c)
        if p.exists:
            return p
    fail("rules_pyimage: cannot find `cargo` (looked on PATH, in $CARGO_HOME/bin and ~/.cargo/bin)." + _FIX)

# Runs `cargo build` ("$@") under the lock of a target dir shared by checkouts, then
# copies the binary. Cargo names the pyimage crate's artifacts after its path relative
# to the workspace, so all checkouts share them, and its mtime check can call another
# checkout's binary fresh: rebuild the crate (never its dependencies) unless the last
# build here was of these same sources and its binary is still the one it wrote.
_SHARED_BUILD = """\
set -e
built="$1" out="$2" target="$3"
shift 3
stamp="$target/.pyimage-source-stamp"
sources="$(find Cargo.toml Cargo.lock rust -type f ! -path '*/target/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum)"
binary="$(sha256sum "$built" 2>/dev/null || true)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "${sources%% *} ${binary%% *}" ]; then
  rm -rf "$target"/release/.fingerprint/pyimage-*
fi
"$@"
cp -f "$built" "$out"
binary="$(sha256sum "$built")"
printf '%s %s\\n' "${sources%% *}" "${binary%% *}" >"$stamp"
"""

def _pyimage_source_impl(rctx):
    # The rules_pyimage source tree: a local_path_override checkout in
    # development, or the module archive.
    cargo_toml = rctx.path(Label("//:Cargo.toml"))
    src = cargo_toml.realpath.dirname
    for f in ["Cargo.toml", "Cargo.lock"]:
        rctx.watch(src.get_child(f))
    rctx.watch_tree(src.get_child("rust"))

    cargo = _find_cargo(rctx)

    # One cargo build per machine: honour CARGO_TARGET_DIR, so a second checkout reuses
    # the compiled dependencies instead of compiling everything again.
    target_dir = rctx.os.environ.get("CARGO_TARGET_DIR") or (str(src) + "/target")
    env = {}
    path = rctx.os.environ.get("PATH", "/usr/bin:/bin")
    env["PATH"] = str(cargo.dirname) + ":" + path
    for k in ["CARGO_HOME", "RUSTUP_HOME", "HOME"]:
        if rctx.os.environ.get(k):
            env[k] = rctx.os.environ[k]
    rctx.report_progress("cargo build --release -p pyimage (in %s)" % src)
    build = [cargo, "build", "--release", "--locked", "-p", "pyimage", "--target-dir", target_dir]
    exe = "pyimage.exe" if "windows" in rctx.os.name.lower() else "pyimage"
    built = target_dir + "/release/" + exe
    flock = rctx.which("flock")
    if flock and rctx.which("sha256sum"):
        # Checkouts sharing a target dir write the same release binary: build and copy
        # under one lock, rebuilding the crate when another checkout built last.
        build = [flock, target_dir + "/.pyimage-build.lock", "sh", "-c", _SHARED_BUILD, "sh", built, rctx.path(exe), target_dir] + build
        rctx.execute(["mkdir", "-p", target_dir])
    else:
        flock = None
    res = rctx.execute(
        build,
        working_directory = str(src),
        environment = env,
        timeout = 3600,
        quiet = rctx.attr.quiet,
    )
    if res.return_code != 0:
        fail("rules_pyimage: `cargo build --release --locked -p pyimage` failed in %s (exit %d):\n%s\n%s%s" % (
            src,
            res.return_code,
            res.stdout[-4000:],
            res.stderr[-8000:],
            _FIX if "linker" in res.stderr or "not found" in res.stderr else "",
        ))
    if not rctx.path(built).exists:
        fail("rules_pyimage: cargo succeeded but %s is missing" % built)
    if not flock:
        # A copy, not a symlink: the next cargo build rewrites the file in place.
        res = rctx.execute(["cp", "-f", built, exe])
        if res.return_code != 0:
            fail("rules_pyimage: cannot copy %s: %s" % (built, res.stderr))
    rctx.file("BUILD.bazel", """\
# Generated by rules_pyimage's pyimage_source repository rule:
# `pyimage` built with cargo from {src}
exports_files(["{exe}"], visibility = ["//visibility:public"])
""".format(src = src, exe = exe))

pyimage_source = repository_rule(
    implementation = _pyimage_source_impl,
    doc = """Builds `pyimage` with `cargo build --release --locked -p pyimage` in the rules_pyimage
source tree (target dir `$CARGO_TARGET_DIR`, else `<tree>/target`, so rebuilds are incremental) and re-runs when
anything under `rust/` or the Cargo files change (`watch_tree`, Bazel >= 7.1).""",
    attrs = {
        "quiet": attr.bool(default = True),
    },
    environ = ["CARGO_HOME", "CARGO_TARGET_DIR", "RUSTUP_HOME", "PATH", "HOME"],
)

def _pyimage_prebuilt_impl(rctx):
    # Bazel's downloader checks the SRI integrity (and keeps the file in the
    # repository cache under it); a mismatch or an unreachable URL fails here.
    rctx.report_progress("downloading pyimage %s for %s" % (rctx.attr.version, rctx.attr.platform))
    rctx.download(
        url = rctx.attr.url,
        output = "pyimage",
        integrity = rctx.attr.integrity,
        executable = True,
    )
    rctx.file("BUILD.bazel", """\
# Generated by rules_pyimage's pyimage_prebuilt repository rule:
# pyimage {version} for {platform}, downloaded from {url}
exports_files(["pyimage"], visibility = ["//visibility:public"])
""".format(version = rctx.attr.version, platform = rctx.attr.platform, url = rctx.attr.url))

pyimage_prebuilt = repository_rule(
    implementation = _pyimage_prebuilt_impl,
    doc = "Downloads a released `pyimage` binary, checked against its SRI integrity (`sha256-<base64>`).",
    attrs = {
        "integrity": attr.string(mandatory = True, doc = "SRI integrity of the binary, `sha256-<base64>`."),
        "platform": attr.string(mandatory = True, doc = "Platform of the binary (a key of PLATFORMS), for messages."),
        "url": attr.string(mandatory = True),
        "version": attr.string(mandatory = True, doc = "rules_pyimage version, for messages."),
    },
)

def host_constraints(rctx):
    """The @platforms constraints of the machine a repository rule runs on.

    Args:
      rctx: repository_ctx (or module_ctx).

    Returns:
      A list of two constraint labels: OS and CPU.
    """
    os = _OS.get(rctx.os.name.lower())
    if not os and rctx.os.name.lower().startswith("windows"):
        os = "windows"
    cpu = _CPU.get(rctx.os.arch.lower())
    if not os or not cpu:
        fail("rules_pyimage: cannot map this machine (os.name %r, os.arch %r) to @platforms constraints; register your own pyimage_toolchain (py/toolchain.bzl)" % (rctx.os.name, rctx.os.arch))
    return ["@platforms//os:" + os, "@platforms//cpu:" + cpu]

_TOOLCHAIN = """\
pyimage_toolchain(
    name = "{name}_impl",
    tool = "@{repo}//:pyimage",
    version = "{version}",
)

toolchain(
    name = "{name}",
    exec_compatible_with = {constraints},
    toolchain = ":{name}_impl",
    toolchain_type = "@rules_pyimage//py/toolchain:type",
    visibility = ["//visibility:public"],
)
"""

# Registered last (toolchains of one package register in the order of their
# names): any exec platform none of the toolchains above matches gets this one,
# whose analysis fails naming the platform and the fix, instead of a tool built
# for another platform or Bazel's bare "no matching toolchains".
_FALLBACK = """\
# Any other exec platform: analysis fails with a message naming it and the fix.
pyimage_exec_platform(name = "exec_platform")

pyimage_missing_toolchain(
    name = "zz_no_pyimage_for_exec_platform_impl",
    exec_platform = ":exec_platform",
    message = {message},
)

toolchain(
    name = "zz_no_pyimage_for_exec_platform",
    toolchain = ":zz_no_pyimage_for_exec_platform_impl",
    toolchain_type = "@rules_pyimage//py/toolchain:type",
    visibility = ["//visibility:public"],
)
"""

def _missing_message(rctx, host):
    if rctx.attr.source:
        return ("rules_pyimage: `pyimage` was built from source for this machine (%s), " % ", ".join(host) +
                "but the build wants to run it on exec platform {platform}, which has other constraints. " +
                "Fix: register a pyimage_toolchain for that platform (py/toolchain.bzl), or execute on a " +
                "platform matching this machine.")
    return ("rules_pyimage %s has no prebuilt `pyimage` for exec platform {platform} (prebuilt: %s). " % (
                rctx.attr.version,
                ", ".join(sorted(rctx.attr.repos.keys())) or "none",
            ) + "Fix: build the tool from source on a machine of that platform: in your root MODULE.bazel, " +
            "`pyimage = use_extension(\"@rules_pyimage//py:extensions.bzl\", \"pyimage\")` and " +
            "`pyimage.toolchain(from_source = True)` (needs cargo); or register your own pyimage_toolchain.")

def _pyimage_hub_impl(rctx):
    lines = [
        "# Generated by rules_pyimage's `pyimage` module extension.",
        'load("@rules_pyimage//py/private:repos.bzl", "pyimage_exec_platform", "pyimage_missing_toolchain")',
        'load("@rules_pyimage//py/private:toolchain.bzl", "pyimage_toolchain")',
        "",
    ]
    host = host_constraints(rctx)
    for name, repo in sorted(rctx.attr.repos.items()):
        # A source build runs on the machine that compiled it.
        constraints = host if rctx.attr.source else rctx.attr.constraints[name]
        lines.append(_TOOLCHAIN.format(
            name = "pyimage_" + name,
            repo = repo,
            version = rctx.attr.version,
            constraints = repr(constraints),
        ))
    lines.append(_FALLBACK.format(message = repr(_missing_message(rctx, host))))
    rctx.file("BUILD.bazel", "\n".join(lines))

pyimage_hub = repository_rule(
    implementation = _pyimage_hub_impl,
    doc = "The hub repository whose `toolchain` targets are registered with `register_toolchains(\"@pyimage_toolchains//:all\")`.",
    attrs = {
        "constraints": attr.string_list_dict(doc = "platform -> exec constraints (prebuilt toolchains)."),
        "repos": attr.string_dict(doc = "platform (or \"source\") -> apparent name of the repo holding `pyimage` (same extension)."),
        "source": attr.bool(doc = "The one toolchain is a source build: constrain it to this machine."),
        "version": attr.string(),
    },
)

ExecPlatformInfo = provider(
    doc = "The platform a target is configured for (used in the exec configuration).",
    fields = {"label": "Label of the platform."},
)

def _exec_platform_impl(ctx):
    return [ExecPlatformInfo(label = ctx.fragments.platform.platform)]

pyimage_exec_platform = rule(
    implementation = _exec_platform_impl,
    doc = "Reports the platform it is configured for; depended on with `cfg = \"exec\"`, that is the exec platform.",
    fragments = ["platform"],
)

def _missing_toolchain_impl(ctx):
    platform = str(ctx.attr.exec_platform[ExecPlatformInfo].label)
    if platform.startswith("@@//"):
        platform = platform[2:]  # the main repository's label as users write it
    fail(ctx.attr.message.format(platform = platform))

pyimage_missing_toolchain = rule(
    implementation = _missing_toolchain_impl,
    doc = "A toolchain whose analysis fails with `message` (`{platform}`: the exec platform).",
    attrs = {
        "exec_platform": attr.label(cfg = "exec", providers = [ExecPlatformInfo]),
        "message": attr.string(mandatory = True),
    },
)
