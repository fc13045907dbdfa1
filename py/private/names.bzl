"""Names: the built-in layers' names, and pure helpers for PEP 503 names, canonical
repository names, dist-info names and globs.

Everything here is free of Bazel objects so it can be unit-tested with skylib's
unittest (see //py/tests:names_test).
"""

# Built-in layers and their names (also in their file names): a tier group may not
# take one, or its layer would collide with the built-in one.
APP_GROUP = "app"  # the last layer: launcher, `_repo_mapping`, unassigned runfiles
SQUASHED_GROUP = "pip"  # the pip distributions no group names, merged into one layer
INTERPRETER_MANIFEST = "interpreter"  # the interpreter layer's manifest, whatever its group
RESERVED_GROUPS = [APP_GROUP, SQUASHED_GROUP, INTERPRETER_MANIFEST]

def normalize_name(name):
    """PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`.

    Args:
      name: a distribution name.

    Returns:
      The normalised name.
    """
    out = []
    sep = False
    for c in name.elems():
        if c in "-_.":
            sep = True
        else:
            if sep and out:
                out.append("-")
            sep = False
            out.append(c.lower())
    return "".join(out)

def repo_last_segment(canonical):
    """The apparent part of a canonical repository name.

    Bazel 7 joins the owning module, the extension and the repo with `~`
    (`rules_python~~pip~pypi_requests`, `rules_python~0.22.1~pip~pypi_requests`);
    Bazel 8/9 use `+` (`rules_python++pip+pypi_requests`). Plain names are
    returned as they are.

    Args:
      canonical: canonical repository name, without `@`.

    Returns:
      The last `~`/`+`-separated segment.
    """
    canonical = canonical.lstrip("@")
    for sep in ["~", "+"]:
        if sep in canonical:
            canonical = canonical.rsplit(sep, 1)[1]
    return canonical

def parse_repo_name(canonical):
    """Guesses a pip distribution from a canonical repository name.

    Known shapes (Bazel 7 `~` or Bazel 8/9 `+` separators):

    * rules_python `pip.parse`: `rules_python~~pip~<hub>_<name>` (0.22.1) and
      `rules_python++pip+<hub>_<pyver>_<name>` (modern, e.g. `pypi_312_requests`).
    * aspect_rules_py / uv: `...whl_install__<name>__<version>...`.

    The hub prefix (`<hub>_`, the `name` of `pip.parse`) cannot be told apart
    from a name with underscores, so the first `_`-separated word is dropped
    (`pypi_charset_normalizer` -> `charset-normalizer`) and a following
    all-digit word (the Python version of modern rules_python) too. The
    `*.dist-info` directory, when present, always wins over this guess.

    Args:
      canonical: canonical repository name, without `@`.

    Returns:
      struct(name, version): normalised name ("" if none) and version ("" if unknown).
    """
    last = repo_last_segment(canonical)
    if "whl_install__" in last:
        rest = last.split("whl_install__", 1)[1]
        parts = rest.split("__")
        return struct(
            name = normalize_name(parts[0]),
            version = parts[1] if len(parts) > 1 else "",
        )
    words = last.split("_")
    if len(words) > 1:
        words = words[1:]
        if len(words) > 1 and words[0].isdigit():
            words = words[1:]
    return struct(name = normalize_name("_".join(words)), version = "")

def parse_dist_info(path):
    """Distribution name and version from a path containing `<name>-<version>.dist-info/`.

    Wheel file names escape `-` in names as `_`, so the first `-` separates name
    and version.

    Args:
      path: any path (e.g. `site-packages/charset_normalizer-3.3.2.dist-info/METADATA`).

    Returns:
      struct(name, version) or None when the path has no dist-info component.
    """
    for part in path.split("/"):
        if part.endswith(".dist-info") or part.endswith(".egg-info"):
            stem = part.rsplit(".", 1)[0]
            if "-" in stem:
                name, version = stem.split("-", 1)
            else:
                name, version = stem, ""
            return struct(name = normalize_name(name), version = version)
    return None

def glob_match(pattern, text):
    """Shell-style match: `*` and `?` do not cross `/`, `**` matches any run of path components.

    Args:
      pattern: the glob.
      text: the string to match.

    Returns:
      True when `text` matches.
    """

    # Iterative matcher over (pattern index, text index) with backtracking points,
    # written without recursion (Starlark forbids it).
    p = pattern
    t = text
    states = [(0, 0)]
    seen = {}
    for _ in range(1 << 30):
        if not states:
            return False
        pi, ti = states.pop()
        if (pi, ti) in seen:
            continue
        seen[(pi, ti)] = True
        if pi == len(p):
            if ti == len(t):
                return True
            continue
        c = p[pi]
        if p[pi:pi + 3] == "**/":
            # zero or more whole components
            states.append((pi + 3, ti))
            j = ti
            for _k in range(len(t) - ti):
                if t[j] == "/":
                    states.append((pi + 3, j + 1))
                j += 1
            continue
        if p[pi:pi + 2] == "**":
            for j in range(ti, len(t) + 1):
                states.append((pi + 2, j))
            continue
        if c == "*":
            j = ti
            states.append((pi + 1, j))
            for _k in range(len(t) - ti):
                if t[j] == "/":
                    break
                j += 1
                states.append((pi + 1, j))
            continue
        if ti >= len(t):
            continue
        if c == "?":
            if t[ti] != "/":
                states.append((pi + 1, ti + 1))
            continue
        if c == t[ti]:
            states.append((pi + 1, ti + 1))
    return False

def is_glob(pattern):
    return "*" in pattern or "?" in pattern

def parse_pattern(pattern):
    """Classifies one entry of a `layer_tier` group.

    Args:
      pattern: `name`, `glob*`, `name:subpath/**` or a label pattern (`//libs/...`, `@repo//x/...`).

    Returns:
      struct(kind = "pip" | "split" | "label", name, subpath, prefix, error).
      For labels, `prefix` is the runfiles path prefix (`_main/libs/`), computed
      with `main_repo` "_main" (the caller fixes up other repositories).
    """
    if pattern.startswith("//") or pattern.startswith("@"):
        repo = ""
        rest = pattern
        if pattern.startswith("@"):
            if "//" not in pattern:
                return struct(kind = "label", name = pattern, subpath = "", prefix = "", repo = "", error = "label pattern %r has no `//`" % pattern)
            repo, rest = pattern[1:].split("//", 1)
            rest = "//" + rest
            repo = repo.lstrip("@")
        path = rest[2:]
        if path == "...":
            pkg = ""
        elif path.endswith("/..."):
            pkg = path[:-4]
        else:
            return struct(
                kind = "label",
                name = pattern,
                subpath = "",
                prefix = "",
                repo = repo,
                error = "label pattern %r must end with `/...` (e.g. `//libs/...`): first-party groups take whole package trees" % pattern,
            )
        return struct(kind = "label", name = pattern, subpath = "", prefix = (pkg + "/") if pkg else "", repo = repo, error = None)
    if ":" in pattern:
        name, subpath = pattern.split(":", 1)
        if not name or not subpath:
            return struct(kind = "split", name = name, subpath = subpath, prefix = "", repo = "", error = "split pattern %r must be `name:glob`, e.g. `torch:torch/lib/**`" % pattern)
        return struct(kind = "split", name = normalize_name(name), subpath = subpath, prefix = "", repo = "", error = None)
    if not pattern:
        return struct(kind = "pip", name = "", subpath = "", prefix = "", repo = "", error = "empty pattern")
    norm = pattern if is_glob(pattern) else normalize_name(pattern)
    if is_glob(pattern):
        norm = pattern.lower().replace("_", "-").replace(".", "-")
    return struct(kind = "pip", name = norm, subpath = "", prefix = "", repo = "", error = None)

def runfiles_path(short_path, workspace_name):
    """The path of a file inside the runfiles tree (`_main/x.py`, `repo/site-packages/y.py`).

    Args:
      short_path: File.short_path.
      workspace_name: ctx.workspace_name (`_main` under bzlmod).

    Returns:
      The runfiles-relative path.
    """
    if short_path.startswith("../"):
        return short_path[3:]
    return workspace_name + "/" + short_path

def hash8(s):
    """8 lower-case hex digits of Starlark's (deterministic) string hash.

    Args:
      s: a string.

    Returns:
      An 8-character hex string.
    """
    n = hash(s) & 0xffffffff
    digits = "0123456789abcdef"
    out = ""
    for _ in range(8):
        out = digits[n & 15] + out
        n = n >> 4
    return out
