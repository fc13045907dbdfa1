"""The fake rules_python's public rules.

`py_binary` takes 1.x's `--bootstrap_impl` as an attribute: `script` (here the
default) is the shape of private/py_executable.bzl; `system_python` (1.x's default) is
a Python stub launcher without a venv, which Bazel 7's built-in py_binary makes (with
its generated empty `__init__.py` files). The others are Bazel 7's built-in rules, as
rules_python 0.22.1 exports them.
"""

load("@bazel_tools//tools/python:toolchain.bzl", _py_runtime_pair = "py_runtime_pair")
load("//python/private:builtins.bzl", "BUILTIN_PY_INFO", "BUILTIN_PY_RUNTIME_INFO")
load("//python/private:py_executable.bzl", _py_binary = "py_binary")

PyInfo = BUILTIN_PY_INFO
PyRuntimeInfo = BUILTIN_PY_RUNTIME_INFO
py_runtime_pair = _py_runtime_pair

def py_binary(name, bootstrap_impl = "script", **kwargs):
    """A binary in the runfiles shape of rules_python 1.x's `--bootstrap_impl`.

    Args:
      name: the binary's name.
      bootstrap_impl: `script` (stage-1 shell launcher, stage-2 bootstrap, venv) or
        `system_python` (a Python stub, no venv).
      **kwargs: the rule's attributes.
    """
    if bootstrap_impl == "script":
        _py_binary(name = name, **kwargs)
    elif bootstrap_impl == "system_python":
        kwargs.pop("venv_site_packages", None)
        native.py_binary(name = name, **kwargs)  # buildifier: disable=native-py
    else:
        fail("%s: bootstrap_impl must be `script` or `system_python`, got %r" % (name, bootstrap_impl))

# Bazel 7's built-in rules (what this fake stands in for; buildifier would load them
# from rules_python, i.e. from here).
def py_library(**kwargs):
    native.py_library(**kwargs)  # buildifier: disable=native-py

def py_runtime(**kwargs):
    native.py_runtime(**kwargs)  # buildifier: disable=native-py

def py_test(**kwargs):
    # Tests are not what the image is made of: Bazel's own launcher is enough.
    native.py_test(**kwargs)  # buildifier: disable=native-py
