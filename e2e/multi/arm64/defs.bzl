"""TEST-ONLY: a C++ toolchain for linux/arm64 targets that cannot compile anything.

Bazel 7's py_binary asks for a C++ toolchain of its target platform; the Python code
packed here needs no compiler, so this one only has to exist for analysis."""

load("@rules_cc//cc/common:cc_common.bzl", "cc_common")

def _config_impl(ctx):
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "no-compiler-linux-aarch64",
        host_system_name = "local",
        target_system_name = "aarch64-unknown-linux-gnu",
        target_cpu = "aarch64",
        target_libc = "glibc",
        compiler = "none",
        abi_version = "unknown",
        abi_libc_version = "unknown",
    )

no_compiler_config = rule(
    implementation = _config_impl,
    provides = [CcToolchainConfigInfo],
)
