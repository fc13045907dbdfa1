"""Bazel 7's built-in Python providers under other names, for re-export (a module cannot assign a global to itself)."""

BUILTIN_PY_INFO = PyInfo
BUILTIN_PY_RUNTIME_INFO = PyRuntimeInfo
