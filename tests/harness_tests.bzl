"""Root-module tests proving the offline harness: skylib's unittest and
analysistest and rules_python resolve and run in the root module."""

load("@bazel_skylib//lib:paths.bzl", "paths")
load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("@rules_python//python:defs.bzl", "PyInfo")

def _skylib_paths_test_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "b/c.py", paths.relativize("a/b/c.py", "a"))
    asserts.equals(env, "c", paths.split_extension("a/b/c.py")[0].rpartition("/")[2])
    return unittest.end(env)

skylib_paths_test = unittest.make(_skylib_paths_test_impl)

def _py_library_sources_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    srcs = sorted([f.short_path for f in target[PyInfo].transitive_sources.to_list()])
    asserts.equals(env, ["tests/fixture_dep.py", "tests/fixture_lib.py"], srcs)
    return analysistest.end(env)

py_library_sources_test = analysistest.make(_py_library_sources_test_impl)

def harness_test_suite(name):
    """Declares the harness tests and a test_suite `name` over them.

    Args:
      name: name of the test_suite.
    """
    skylib_paths_test(name = name + "_skylib_paths")
    py_library_sources_test(
        name = name + "_py_library_sources",
        target_under_test = ":fixture_lib",
    )
    native.test_suite(
        name = name,
        tests = [
            name + "_py_library_sources",
            name + "_skylib_paths",
        ],
    )
