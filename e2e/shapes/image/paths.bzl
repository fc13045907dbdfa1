"""Image paths that depend on canonical repository names (Bazel 7 `~`, Bazel 8+ `+`)."""

# The interpreter layer's bin/ directory in the image: `/app/.runfiles/<canonical
# name of @pyimage_python311>/python/bin` (Bazel 7: rules_pyimage~~image~pyimage_python311).
PYTHON_BIN = "/app/.runfiles/%s/python/bin" % Label("@pyimage_python311//:runtime").workspace_name
