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

The tool of the registered toolchain is also an executable target, `@rules_pyimage//py:pyimage`,
for the commands you run by hand (arguments are relative to the directory you run Bazel in):

```sh
bazel build //app:layers --output_groups=+plan,+descriptors
bazel run @rules_pyimage//py:pyimage -- autogroup --budget 20 \\
    --plan bazel-bin/app/layers_layers/plan.json \\
    $(bazel cquery //app:layers --output=files --output_groups=descriptors)
```

Tests can take it as a `data` dependency and run `$(rootpath @rules_pyimage//py:pyimage)`.
"""

load("//py/private:toolchain.bzl", _PyImageToolInfo = "PyImageToolInfo", _pyimage_toolchain = "pyimage_toolchain")

PyImageToolInfo = _PyImageToolInfo
pyimage_toolchain = _pyimage_toolchain
