"""Unit tests of py/private/partition.bzl on plain structs (skylib unittest)."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//py/private:partition.bzl", "empty_line", "partition_runfiles", "runfile_entry")

def _entries(*paths):
    return [runfile_entry(p, "file\t%s\t/src/%s" % (p, p), "/src/" + p) for p in paths]

def _paths(entries):
    return [e.path for e in entries]

def _interpreter_and_fragments_test(ctx):
    env = unittest.begin(ctx)
    parts = partition_runfiles(
        _entries(
            "python_3_11/bin/python3",
            "pypi_six/site-packages/six.py",
            "pypi_six/__init__.py",  # Bazel's generated file: not the fragment's
            "pypi_odd/data.txt",  # a file outside site-packages that a fragment ships exactly
            "uv_whl/install",  # a fragment's tree artifact
            "_main/app/main.py",
        ),
        interpreter_paths = {"python_3_11/bin/python3": True},
        pip_prefixes = {"pypi_six/site-packages/": True, "pypi_odd/data.txt": True, "uv_whl/install/": True},
        label_prefixes = [],
    )
    asserts.equals(env, {}, parts.groups)
    asserts.equals(env, ["pypi_six/__init__.py", "_main/app/main.py"], _paths(parts.app))
    return unittest.end(env)

interpreter_and_fragments_test = unittest.make(_interpreter_and_fragments_test)

def _label_groups_test(ctx):
    env = unittest.begin(ctx)
    parts = partition_runfiles(
        _entries(
            "_main/libs/a/a.py",
            "_main/libs/core/c.py",
            "_main/app/main.py",
            "other_repo/x.py",
            "_main/libs/b.py",
        ),
        interpreter_paths = {},
        pip_prefixes = {},
        label_prefixes = [
            ("libs", "_main/libs/"),
            ("core", "_main/libs/core/"),  # longer prefix: wins for its files
            ("also_libs", "_main/libs/"),  # same length as `libs`: the first in tier order wins
            ("ext", "other_repo/"),
            ("nothing", "_main/none/"),
        ],
    )
    asserts.equals(env, ["libs", "core", "also_libs", "ext", "nothing"], parts.groups.keys())
    asserts.equals(env, ["_main/libs/a/a.py", "_main/libs/b.py"], _paths(parts.groups["libs"]))
    asserts.equals(env, ["_main/libs/core/c.py"], _paths(parts.groups["core"]))
    asserts.equals(env, [], parts.groups["also_libs"])
    asserts.equals(env, ["other_repo/x.py"], _paths(parts.groups["ext"]))
    asserts.equals(env, [], parts.groups["nothing"])
    asserts.equals(env, ["_main/app/main.py"], _paths(parts.app))
    return unittest.end(env)

label_groups_test = unittest.make(_label_groups_test)

def _every_entry_once_test(ctx):
    env = unittest.begin(ctx)
    entries = _entries("_main/a.py", "_main/libs/b.py", "repo/site-packages/c.py", "py/bin/python", "_main/libs/d.py")
    parts = partition_runfiles(
        entries,
        interpreter_paths = {"py/bin/python": True},
        pip_prefixes = {"repo/site-packages/": True},
        label_prefixes = [("libs", "_main/libs/")],
    )
    placed = _paths(parts.app) + _paths(parts.groups["libs"])
    asserts.equals(env, sorted(placed), sorted({p: True for p in placed}.keys()), "an entry in two layers")
    asserts.equals(env, ["_main/a.py", "_main/libs/b.py", "_main/libs/d.py"], sorted(placed))
    asserts.equals(env, entries[1], parts.groups["libs"][0], "entries are passed through unchanged")
    return unittest.end(env)

every_entry_once_test = unittest.make(_every_entry_once_test)

def _empty_line_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "empty\t_main/app/__init__.py", empty_line("app/__init__.py"))
    asserts.equals(env, "empty\trepo/__init__.py", empty_line("../repo/__init__.py"))
    asserts.equals(env, "empty\trepo/__init__.py", empty_line("external/repo/__init__.py"))
    return unittest.end(env)

empty_line_test = unittest.make(_empty_line_test)

def partition_test_suite(name):
    unittest.suite(
        name,
        interpreter_and_fragments_test,
        label_groups_test,
        every_entry_once_test,
        empty_line_test,
    )
