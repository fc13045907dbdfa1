"""Unit tests of py/private/names.bzl (skylib unittest)."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//py/private:names.bzl", "glob_match", "hash8", "normalize_name", "parse_dist_info", "parse_pattern", "parse_repo_name", "repo_last_segment", "runfiles_path")

def _normalize_test(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "charset-normalizer", normalize_name("Charset_Normalizer"))
    asserts.equals(env, "zope-interface", normalize_name("zope.interface"))
    asserts.equals(env, "a-b", normalize_name("A--_.B"))
    asserts.equals(env, "requests", normalize_name("requests"))
    return unittest.end(env)

normalize_test = unittest.make(_normalize_test)

def _repo_names_test(ctx):
    env = unittest.begin(ctx)

    # Bazel 7: `~` separators (rules_python 0.22.1 overridden locally has an empty version).
    asserts.equals(env, "pypi_requests", repo_last_segment("rules_python~~pip~pypi_requests"))
    asserts.equals(env, "pypi_requests", repo_last_segment("rules_python~0.22.1~pip~pypi_requests"))

    # Bazel 8/9: `+` separators.
    asserts.equals(env, "pypi_requests", repo_last_segment("rules_python++pip+pypi_requests"))
    asserts.equals(env, "pypi_requests", repo_last_segment("@@rules_python++pip+pypi_requests"))
    asserts.equals(env, "plain", repo_last_segment("plain"))
    for canonical in [
        "rules_python~~pip~pypi_charset_normalizer",
        "rules_python~0.22.1~pip~pypi_charset_normalizer",
        "rules_python++pip+pypi_charset_normalizer",
        # modern rules_python: hub, python version, name
        "rules_python++pip+pypi_312_charset_normalizer",
        "rules_python~~pip~pypi_311_charset_normalizer",
    ]:
        asserts.equals(env, "charset-normalizer", parse_repo_name(canonical).name, canonical)
    uv = parse_repo_name("aspect_rules_py++uv+whl_install__Typing_Extensions__4.12.2")
    asserts.equals(env, "typing-extensions", uv.name)
    asserts.equals(env, "4.12.2", uv.version)
    uv7 = parse_repo_name("aspect_rules_py~~uv~whl_install__numpy__2.1.0")
    asserts.equals(env, "numpy", uv7.name)
    return unittest.end(env)

repo_names_test = unittest.make(_repo_names_test)

def _dist_info_test(ctx):
    env = unittest.begin(ctx)
    d = parse_dist_info("../rules_python~~pip~pypi_cn/site-packages/charset_normalizer-3.4.0.dist-info/METADATA")
    asserts.equals(env, "charset-normalizer", d.name)
    asserts.equals(env, "3.4.0", d.version)
    d = parse_dist_info("site-packages/Foo.Bar-1.0rc1.dist-info/RECORD")
    asserts.equals(env, "foo-bar", d.name)
    asserts.equals(env, "1.0rc1", d.version)
    asserts.equals(env, None, parse_dist_info("site-packages/foo/__init__.py"))
    return unittest.end(env)

dist_info_test = unittest.make(_dist_info_test)

def _glob_test(ctx):
    env = unittest.begin(ctx)
    cases = [
        ("nvidia-*", "nvidia-cudnn-cu12", True),
        ("nvidia-*", "torch", False),
        ("colo?ama", "colorama", True),
        ("torch/lib/**", "torch/lib/libtorch.so", True),
        ("torch/lib/**", "torch/lib/sub/x.so", True),
        ("torch/lib/**", "torch/bin/x", False),
        ("torch/*.py", "torch/a.py", True),
        ("torch/*.py", "torch/sub/a.py", False),
        ("**/*.pem", "certifi/cacert.pem", True),
        ("**/*.pem", "cacert.pem", True),
        ("certifi/*.pem", "certifi/cacert.pem", True),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "axxbyy", False),
        ("", "", True),
        ("*", "", True),
    ]
    for pattern, text, want in cases:
        asserts.equals(env, want, glob_match(pattern, text), "%r ~ %r" % (pattern, text))
    return unittest.end(env)

glob_test = unittest.make(_glob_test)

def _pattern_test(ctx):
    env = unittest.begin(ctx)
    p = parse_pattern("Charset_Normalizer")
    asserts.equals(env, ("pip", "charset-normalizer", None), (p.kind, p.name, p.error))
    p = parse_pattern("nvidia-*")
    asserts.equals(env, ("pip", "nvidia-*"), (p.kind, p.name))
    p = parse_pattern("torch:torch/lib/**")
    asserts.equals(env, ("split", "torch", "torch/lib/**"), (p.kind, p.name, p.subpath))
    p = parse_pattern("//libs/...")
    asserts.equals(env, ("label", "libs/", None), (p.kind, p.prefix, p.error))
    p = parse_pattern("//...")
    asserts.equals(env, ("label", ""), (p.kind, p.prefix))
    asserts.true(env, parse_pattern("//libs:x").error != None)
    asserts.true(env, parse_pattern("torch:").error != None)
    asserts.equals(env, "_main/app/x.py", runfiles_path("app/x.py", "_main"))
    asserts.equals(env, "repo/site-packages/x.py", runfiles_path("../repo/site-packages/x.py", "_main"))
    asserts.equals(env, 8, len(hash8("gzip|6|/app|0:0|False")))
    asserts.equals(env, hash8("x"), hash8("x"))
    return unittest.end(env)

pattern_test = unittest.make(_pattern_test)

def names_test_suite(name):
    unittest.suite(
        name,
        normalize_test,
        repo_names_test,
        dist_info_test,
        glob_test,
        pattern_test,
    )
