"""The `pyimage` toolchain rule, for registering your own `pyimage` binary.

```starlark
load("@rules_pyimage//py:toolchain.bzl", "pyimage_toolchain")

pyimage_toolchain(name = "my_pyimage_impl", tool = "//tools:pyimage")

toolchain(
    name = "my_pyimage",
    toolchain = ":my_pyimage_impl",
    toolchain_type = "@rules_pyimage//py/toolchain:type",
)
```

and `register_toolchains("//:my_pyimage")` in your root MODULE.bazel (root registrations
are preferred over rules_pyimage's own).
"""

load("//py/private:toolchain.bzl", _PyImageToolInfo = "PyImageToolInfo", _pyimage_toolchain = "pyimage_toolchain")

PyImageToolInfo = _PyImageToolInfo
pyimage_toolchain = _pyimage_toolchain
