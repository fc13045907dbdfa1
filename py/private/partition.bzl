"""The runfiles partition: which layer each entry of a binary's runfiles goes to.

`runfiles_entries` turns a runfiles object into plain entries; `partition_runfiles` is a
pure function over plain values (unit-tested on structs in //py/tests:partition_tests).
"""

load(":layer_action.bzl", "manifest_line", "runfiles_rel")

# ---- runfiles -> entries (map_each-compatible helpers, also used for the expected paths) ----

def relative_link(link, target):
    """The relative symlink target that leads from runfiles path `link` to runfiles path `target`.

    Args:
      link: the link's path inside the runfiles tree (`_main/bin/tool`).
      target: the target's path inside the runfiles tree (`_main/lib/tool.py`).

    Returns:
      `../lib/tool.py`: the link resolves to `target` wherever the tree is placed.
    """
    here = link.split("/")[:-1]
    there = target.split("/")
    common = 0
    for i in range(min(len(here), len(there))):
        if here[i] != there[i]:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:])

def _is_bytecode(path):
    return path.endswith(".pyc") or "/__pycache__/" in path

def link_entry_line(path, target_file, runfile_paths):
    """Manifest line of a runfiles `symlinks`/`root_symlinks` entry.

    A link to a file that is itself a runfile (at its own path) becomes a relative symlink:
    the image then holds the file once, as the runfiles tree does. A link to a file that is
    not a runfile gets a copy of it (the link would dangle), and so does a link to bytecode,
    which the layers drop unless the tier keeps it.

    Args:
      path: the link's path inside the runfiles tree.
      target_file: the File it points to.
      runfile_paths: dict (or list) of the runfiles paths of `runfiles.files`.

    Returns:
      (line, File the line needs or None).
    """
    target = runfiles_rel(target_file)
    if target != path and target in runfile_paths and not _is_bytecode(target):
        return "symlink\t%s\t%s" % (path, relative_link(path, target)), None
    kind = manifest_line(target_file).split("\t")[0]
    return "%s\t%s\t%s" % (kind, path, target_file.path), target_file

def empty_line(path):
    """Manifest line of a `runfiles.empty_filenames` entry.

    Args:
      path: the entry, as Bazel names it (`pkg/__init__.py`, `../repo/...`, `external/repo/...`).

    Returns:
      `empty\t<runfiles path>`.
    """
    if path.startswith("../"):
        return "empty\t" + path[3:]
    if path.startswith("external/"):
        # Bazel 7 names generated `__init__.py` files of other repositories (and of the
        # runfiles root) `external/<repo>/...`; they live at `<repo>/...`. The legacy
        # `_main/external/...` copies are never shipped.
        return "empty\t" + path[len("external/"):]
    return "empty\t_main/" + path

def runfile_entry(path, line, file):
    """One runfiles entry.

    Args:
      path: its path inside the runfiles tree.
      line: its `pyimage layer` manifest line.
      file: the input File it needs, or None (empty files).

    Returns:
      struct(path, line, file).
    """
    return struct(path = path, line = line, file = file)

def runfiles_entries(runfiles):
    """Every entry of a runfiles object, in a fixed order (files, symlinks, root symlinks, empty files).

    Args:
      runfiles: the binary's default runfiles.

    Returns:
      list of runfile_entry.
    """
    entries = []
    for f in runfiles.files.to_list():
        line = manifest_line(f)
        entries.append(runfile_entry(line.split("\t")[1], line, f))
    runfile_paths = {e.path: True for e in entries}
    links = [("_main/" + e.path, e.target_file) for e in runfiles.symlinks.to_list()]
    links += [(e.path, e.target_file) for e in runfiles.root_symlinks.to_list()]
    for path, target_file in links:
        line, needs = link_entry_line(path, target_file, runfile_paths)
        entries.append(runfile_entry(path, line, needs))
    for path in runfiles.empty_filenames.to_list():
        line = empty_line(path)
        entries.append(runfile_entry(line.split("\t")[1], line, None))
    return entries

# ---- several binaries over one runfiles tree (pure) ----

def _source(line):
    fields = line.split("\t")
    return fields[2] if len(fields) > 2 else "(empty file)"

def _is_empty(line):
    return line.startswith("empty\t")

def union_runfiles(binaries):
    """The union of several binaries' runfiles entries, each path once.

    An entry of a later binary whose path an earlier binary already has is dropped when
    both are the same (same kind and source). A generated empty file (Bazel's
    `__init__.py` where a binary has none) gives way to a real file at the same path,
    as in the runfiles tree Bazel makes for merged runfiles. Other differences refuse the
    union: one image path cannot hold two files. Entries of one binary are kept as they
    are (the tool merges a file listed twice).

    Args:
      binaries: list of (binary name for messages, list of runfile_entry), in image order.

    Returns:
      struct(entries = list of runfile_entry, conflict = "" or a message naming the
      path, both binaries and both sources).
    """
    owner = {}  # path -> (binary, line, index in entries) of the first binary that has it
    entries = []
    for name, own in binaries:
        mine = {}
        for e in own:
            first = owner.get(e.path)
            if not first or first[0] == name:
                mine.setdefault(e.path, (name, e.line, len(entries)))
                entries.append(e)
            elif first[1] == e.line or _is_empty(e.line):
                continue
            elif _is_empty(first[1]):
                entries[first[2]] = e  # the real file takes the generated empty one's place
                owner[e.path] = (name, e.line, first[2])
            else:
                return struct(entries = [], conflict = (
                    "%s and %s both have the runfile %s, from different files (%s and %s); " +
                    "one image path holds one file: give them the same dependency or build two images"
                ) % (first[0], name, e.path, _source(first[1]), _source(e.line)))
        for path, v in mine.items():
            owner.setdefault(path, v)
    return struct(entries = entries, conflict = "")

# ---- the partition (pure) ----

def _in_fragment(path, pip_prefixes):
    if path in pip_prefixes or (path + "/") in pip_prefixes:
        return True  # a file a fragment ships exactly, or a fragment's tree artifact
    parts = path.split("/", 2)
    return len(parts) > 2 and (parts[0] + "/" + parts[1] + "/") in pip_prefixes  # `<repo>/site-packages/...`

def _label_group(path, label_prefixes):
    best = None
    for group, prefix in label_prefixes:
        if path.startswith(prefix) and (best == None or len(prefix) > len(best[1])):
            best = (group, prefix)
    return best[0] if best else None

def partition_runfiles(entries, interpreter_paths, pip_prefixes, label_prefixes):
    """Puts every runfiles entry into exactly one place.

    Entries of the interpreter layer and of fragments are dropped (those layers already
    hold them; Bazel's generated empty files are no fragment's); every other entry goes to the first-party group with the longest matching
    prefix (the first in tier order on a tie), else to the app layer.

    Args:
      entries: list of struct(path, line, ...) with `path` relative to the runfiles root.
      interpreter_paths: dict (or list) of the paths in the interpreter layer.
      pip_prefixes: dict (or list) of fragment paths: `<repo>/site-packages/` (every path
        below it), a tree's `path/`, or an exact file path.
      label_prefixes: list of (group, runfiles path prefix) of the first-party groups, in
        tier order (`_main/libs/`, `<repo>/`).

    Returns:
      struct(groups = dict: every first-party group -> list of its entries (maybe empty),
      in tier order; app = list of the entries left for the app layer). Entries keep
      their input order.
    """
    groups = {}
    for group, _ in label_prefixes:
        groups[group] = []
    app = []
    for e in entries:
        if e.path in interpreter_paths:
            continue
        if _in_fragment(e.path, pip_prefixes) and not _is_empty(e.line):
            # A generated empty `__init__.py` (where the runfiles have no file) is
            # never a fragment's: e.g. `<repo>/site-packages/__init__.py` of a
            # rules_python 1.x wheel, whose repository has none.
            continue
        group = _label_group(e.path, label_prefixes)
        if group == None:
            app.append(e)
        else:
            groups[group].append(e)
    return struct(groups = groups, app = app)
