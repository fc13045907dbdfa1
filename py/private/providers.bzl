"""Providers of rules_pyimage: the public `LayerTierInfo` and the internal ones the
aspects and the rule pass to each other.

Vocabulary: a **fragment** is the tar of one pip distribution (or of one subpath split of
it), built once at the distribution; a **layer** is one tar of the image (a fragment, a
merge of fragments, or runfiles packed at the binary); the **plan** is the JSON file the
rule hands to `pyimage report` and `pyimage validate`.
"""

LayerTierInfo = provider(
    doc = """How a `py_image_layer` splits a Python binary into layers (made by `layer_tier`).

The fields are the validated attributes of the `layer_tier` target. A `layer_tier` also
returns a private provider with the lookup tables the aspects use, so only `layer_tier`
targets (directly or through the `@rules_pyimage//py:layer_tier` label_flag) can be used
as tiers.""",
    fields = {
        "label": "Label of the layer_tier target.",
        "groups": "Ordered dict: group name -> list of patterns, in layer order.",
        "interpreter_group": "Name of the interpreter layer, or \"\" when the interpreter is not split off.",
        "budget": "int: most layers of the image's own (0: no budget); the ungrouped pip packages go to auto layers within it.",
        "compression": "\"gzip\", \"zstd\" or \"none\": of the layers without their own (after the `//py:compression` flag).",
        "compression_level": "int; -1 means the default level of the compression.",
        "group_compression": "dict: layer name -> (compression, level) of every layer with settings of its own (after the `//py:compression` flag).",
        "group_owner": "dict: layer name -> \"UID:GID\" overriding `owner`.",
        "group_execution_requirements": "dict: layer name -> list of execution requirement tags of its actions.",
        "root": "Absolute image directory holding the launcher and the runfiles (default \"/app\").",
        "owner": "\"UID:GID\" of every entry.",
        "keep_pyc": "bool: ship `*.pyc` / `__pycache__`.",
        "warn_layers": "int: warn above this many layers (base layers included).",
        "max_layers": "int: fail above this many layers (base layers included).",
        "max_squashed_bytes": "int: warn when the squashed pip layer is larger (0 disables).",
        "max_package_bytes": "int: warn when one package in a shared layer is larger (0 disables).",
        "limit_as_warning": "bool: the layer limit only warns.",
        "unmatched": "\"warn\", \"error\" or \"ignore\": what a pattern that matches nothing in a binary does.",
        "fingerprint": "Short string naming every setting that changes fragment bytes (compression, level, root, owner, keep_pyc) of the layers without settings of their own.",
    },
)

TierLookupInfo = provider(
    doc = "Lookup tables of a `layer_tier`, precomputed once per tier for the aspects (internal; returned next to `LayerTierInfo`).",
    fields = {
        "pip_exact": "dict: normalised pip name -> (group, pattern).",
        "pip_globs": "list of (name glob, group, pattern), in tier order.",
        "splits": "dict: normalised pip name -> list of (subpath glob, group, pattern), in tier order.",
        "label_groups": "list of (group, list of (canonical repository or \"\", package prefix)), in tier order.",
        "pip_groups": "list of the names of the groups holding pip patterns, in tier order.",
        "default_settings": "settings of the layers without their own: struct(compression, level, root, owner, keep_pyc, fingerprint, ext, execution_requirements, key).",
        "settings": "dict: layer name -> settings, for the layers with settings of their own.",
    },
)

FragmentsInfo = provider(
    doc = """The fragments of the pip distributions below a target (set by the fragment aspect on every target it visits; internal).

A fragment is `struct(name, version, group, part, tar, descriptor, key)`: distribution name
and version, the flag tier's group of it (`SQUASHED_GROUP` when no group names it), the
index of its subpath split (-1: the whole distribution or the rest of a split one), the
layer tar, its JSON descriptor and the `key` of the settings it was built with.""",
    fields = {
        "groups": "dict: group name -> depset of fragments.",
        "skip_prefixes": "depset of runfiles paths (directories end with `/`) that fragments ship, for the runfiles layers to leave out.",
        "matched": "depset of the flag tier's patterns that matched at least one distribution.",
        "graph": "depset of strings \"name\\tversion\\tdep1,dep2\" (the pip dependency graph).",
        "distributions": "depset of distribution structs (name, version, repo, label, files, tree, split_key, fragments), to regroup under a pinned tier.",
    },
)

DistributionInfo = provider(
    doc = "Set by the fragment aspect on a target recognised as one pip distribution (internal).",
    fields = {
        "name": "PEP 503-normalised distribution name.",
        "version": "Version or \"\".",
    },
)

BinaryLayersInfo = provider(
    doc = "Set by the layers aspect on a binary: its layers under the flag's tier, declared at the binary (internal).",
    fields = {
        "tier": "Label of the tier the layers were planned with.",
        "layers": "list of layers in image order: struct(kind, group, tar, descriptor, fragments, patterns).",
        "empty_label_groups": "first-party groups whose patterns matched no runfile (no layer).",
    },
)
