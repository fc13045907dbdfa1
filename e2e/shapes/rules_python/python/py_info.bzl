"""PyInfo: Bazel 7's built-in provider (what rules_python re-exports there)."""

load("//python/private:builtins.bzl", "BUILTIN_PY_INFO")

PyInfo = BUILTIN_PY_INFO
