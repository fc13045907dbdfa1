"""Providers of rules_pyimage."""

LayerTierInfo = provider(
    doc = """How a `py_image_layer` splits a Python binary into layers (made by `layer_tier`).

Public fields are the validated attributes of the `layer_tier` target; fields
starting with `_` are precomputed lookup tables used by the aspects (not API).""",
    fields = {
        "label": "Label of the layer_tier target.",
        "groups": "Ordered dict: group name -> list of patterns, in layer order.",
        "interpreter_group": "Name of the interpreter layer, or \"\" when the interpreter is not split off.",
        "compression": "\"gzip\", \"zstd\" or \"none\".",
        "compression_level": "int; -1 means the tool's default for the compression.",
        "root": "Absolute image directory holding the launcher and the runfiles (default \"/app\").",
        "owner": "\"UID:GID\" of every entry.",
        "keep_pyc": "bool: ship `*.pyc` / `__pycache__`.",
        "warn_layers": "int: warn above this many layers (base layers included).",
        "max_layers": "int: fail above this many layers (base layers included).",
        "max_squashed_bytes": "int: warn when the squashed pip layer is larger (0 disables).",
        "max_package_bytes": "int: warn when one package in a shared layer is larger (0 disables).",
        "limit_as_warning": "bool: the layer limit only warns.",
        "unmatched": "\"warn\", \"error\" or \"ignore\": what a pattern that matches nothing in a binary does.",
        "fingerprint": "Short string naming every setting that changes package tar bytes (compression, level, root, owner, keep_pyc).",
        "_pip_exact": "dict: normalised pip name -> group.",
        "_pip_globs": "list of (glob, group).",
        "_splits": "dict: normalised pip name -> list of (subpath glob, group), in tier order.",
        "_label_groups": "list of (group, list of runfiles path prefixes), in tier order.",
        "_pip_groups": "list of pip group names in tier order.",
    },
)

PyImagePackagesInfo = provider(
    doc = "Per-package layer fragments collected by `_layer_aspect` (internal).",
    fields = {
        "groups": "dict: group name (\"\" = squashed) -> depset of File (tars and their .json descriptors).",
        "skip_prefixes": "depset of runfiles-relative directory prefixes shipped in package layers.",
        "matched": "depset of patterns that matched at least one package.",
        "graph": "depset of strings \"name\\tversion\\tdep1,dep2\" (the pip dependency graph).",
        "names": "dict: group name -> depset of distribution names (for plans).",
        "pkgs": "depset of package structs (name, version, repo, label, anchor, files, tree) for re-planning under a pinned tier.",
    },
)

PyImagePackageInfo = provider(
    doc = "Set by `_layer_aspect` on a target recognised as one pip distribution (internal).",
    fields = {
        "name": "PEP 503-normalised distribution name.",
        "version": "Version or \"\".",
    },
)

PyImageLayersInfo = provider(
    doc = "Set by `_merge_aspect` on a binary: its layers under the flag's tier (internal).",
    fields = {
        "tier": "Label of the tier the layers were planned with.",
        "layers": "list of struct(kind, group, tar, descriptor, packages), image order.",
        "empty_label_groups": "first-party groups whose patterns matched no runfile (no layer).",
    },
)
