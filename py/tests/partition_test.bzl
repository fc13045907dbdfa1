"""Unit tests of py/private/partition.bzl on plain structs (skylib unittest)."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//py/private:partition.bzl", "empty_line", "link_entry_line", "partition_runfiles", "relative_link", "runfile_entry", "union_runfiles")

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

def _empty_init_under_site_packages_test(ctx):
    env = unittest.begin(ctx)

    # rules_python 1.x wheel repositories have no `site-packages/__init__.py` (0.22.1's
    # have a real one): Bazel's legacy_create_init then adds an empty one to the
    # binary's runfiles. No fragment ships it (it is not a file of the distribution),
    # so it must not be dropped with the distribution's files.
    empty = runfile_entry("pypi_314_six/site-packages/__init__.py", "empty\tpypi_314_six/site-packages/__init__.py", None)
    parts = partition_runfiles(
        _entries("pypi_314_six/site-packages/six.py") + [empty],
        interpreter_paths = {},
        pip_prefixes = {"pypi_314_six/site-packages/": True},
        label_prefixes = [],
    )
    asserts.equals(env, ["pypi_314_six/site-packages/__init__.py"], _paths(parts.app))
    return unittest.end(env)

empty_init_under_site_packages_test = unittest.make(_empty_init_under_site_packages_test)

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

def _union_test(ctx):
    env = unittest.begin(ctx)
    server = _entries("_main/server.py", "_main/lib/x.py", "pypi_six/site-packages/six.py")
    worker = _entries("_main/worker.py", "_main/lib/x.py", "pypi_six/site-packages/six.py") + [
        runfile_entry("_main/lib/__init__.py", "empty\t_main/lib/__init__.py", None),
    ]
    union = union_runfiles([("//:server", server), ("//:worker", worker)])
    asserts.equals(env, "", union.conflict)
    asserts.equals(
        env,
        ["_main/server.py", "_main/lib/x.py", "pypi_six/site-packages/six.py", "_main/worker.py", "_main/lib/__init__.py"],
        _paths(union.entries),
        "each path once, first binary's entry first",
    )

    # one binary listing a file twice keeps both (the tool merges equal entries)
    twice = union_runfiles([("//:a", _entries("_main/a.py", "_main/a.py"))])
    asserts.equals(env, ["_main/a.py", "_main/a.py"], _paths(twice.entries))

    # the same path from two different files: refused, naming both binaries and sources
    other = [runfile_entry("_main/lib/x.py", "file\t_main/lib/x.py\t/gen/lib/x.py", "/gen/lib/x.py")]
    clash = union_runfiles([("//:server", server), ("//:migrate", other)])
    asserts.equals(env, [], clash.entries)
    for want in ["//:server and //:migrate", "_main/lib/x.py", "/src/_main/lib/x.py and /gen/lib/x.py"]:
        asserts.true(env, want in clash.conflict, "%r not in %r" % (want, clash.conflict))

    # Bazel's generated empty `__init__.py` gives way to a real one, whichever binary comes first
    real = _entries("_main/lib/__init__.py")
    empty = [runfile_entry("_main/lib/__init__.py", "empty\t_main/lib/__init__.py", None)]
    for order in [[("//:a", real), ("//:b", empty)], [("//:b", empty), ("//:a", real)]]:
        got = union_runfiles(order)
        asserts.equals(env, "", got.conflict)
        asserts.equals(env, real, got.entries)
    return unittest.end(env)

union_test = unittest.make(_union_test)

def _relative_link_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "python3.11", relative_link("py/bin/python3", "py/bin/python3.11"))
    asserts.equals(env, "../lib/tool.py", relative_link("_main/bin/tool", "_main/lib/tool.py"))
    asserts.equals(env, "../../_main/x.py", relative_link("repo/a/b", "_main/x.py"))
    asserts.equals(env, "_main/x.py", relative_link("top", "_main/x.py"))
    asserts.equals(env, "..", relative_link("a/b/c", "a"))
    return unittest.end(env)

relative_link_test = unittest.make(_relative_link_test)

def _file(short_path, is_directory = False, is_source = False):
    return struct(
        short_path = short_path,
        path = short_path if is_source else "bazel-out/bin/" + short_path,
        is_directory = is_directory,
        is_source = is_source,
    )

def _link_entry_line_test(ctx):
    env = unittest.begin(ctx)
    runfiles = {"_main/lib/tool.py": True, "_main/lib/__pycache__/t.pyc": True}

    # a link to another runfile: a relative symlink, no input needed
    asserts.equals(env, ("symlink\t_main/bin/tool\t../lib/tool.py", None), link_entry_line("_main/bin/tool", _file("lib/tool.py", is_source = True), runfiles))
    asserts.equals(env, ("symlink\ttool\t_main/lib/tool.py", None), link_entry_line("tool", _file("lib/tool.py", is_source = True), runfiles))

    # a link to a file that is no runfile (or to bytecode the layers drop): a copy
    alone = _file("src/data.txt", is_source = True)
    asserts.equals(env, ("file\t_main/data.txt\tsrc/data.txt", alone), link_entry_line("_main/data.txt", alone, runfiles))
    pyc = _file("lib/__pycache__/t.pyc", is_source = True)
    asserts.equals(env, "file", link_entry_line("_main/t.pyc", pyc, runfiles)[0].split("\t")[0])

    # a link to a directory or to an action's output that is no runfile keeps its kind
    tree = _file("gen/tree", is_directory = True)
    asserts.equals(env, ("tree\t_main/t\tbazel-out/bin/gen/tree", tree), link_entry_line("_main/t", tree, runfiles))
    out = _file("gen/out")
    asserts.equals(env, ("generated\t_main/o\tbazel-out/bin/gen/out", out), link_entry_line("_main/o", out, runfiles))
    return unittest.end(env)

link_entry_line_test = unittest.make(_link_entry_line_test)

def partition_test_suite(name):
    unittest.suite(
        name,
        interpreter_and_fragments_test,
        empty_init_under_site_packages_test,
        label_groups_test,
        every_entry_once_test,
        empty_line_test,
        union_test,
        relative_link_test,
        link_entry_line_test,
    )
