"""Prints `common --override_module=...` lines for one Bazel workspace.

Runs inside the harness root (with its python3). Walks the module graph of the
workspace as far as it is visible locally (the workspace's MODULE.bazel, its
local_path_override targets, and the Debian-packaged modules under
/usr/share/bazel) and overrides every module that Debian ships but that the
system rc files do not already override. Bazel refuses overrides of modules
that are not in the graph, which is why this cannot be one global list.

usage: python3 overrides.py WORKSPACE_DIR
"""

import glob
import os
import re
import sys

SYSTEM_RCS = ["/etc/bazel/bazelrc", "/etc/bazel.bazelrc"]
DEBIAN_MODULES = "/usr/share/bazel"

_CALL = r"\b{}\s*\(((?:[^()]|\([^()]*\))*)\)"
_STR_ARG = r"\b{}\s*=\s*[\"']([^\"']+)[\"']"


def _calls(text, func):
    return re.findall(_CALL.format(func), text, re.S)


def _arg(args, key):
    m = re.search(_STR_ARG.format(key), args)
    return m.group(1) if m else None


def _strip_comments(text):
    out, quote, i = [], None, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return _strip_comments(f.read())
    except OSError:
        return ""


def debian_modules():
    found = {}
    for mod in glob.glob(os.path.join(DEBIAN_MODULES, "**", "MODULE.bazel"), recursive=True):
        for args in _calls(_read(mod), "module"):
            name = _arg(args, "name")
            if name and name not in found:
                found[name] = os.path.dirname(mod)
    return found


def already_overridden():
    names = set()
    for rc in SYSTEM_RCS:
        for m in re.finditer(r"--override_module[= ]([A-Za-z0-9_.\-]+)=", _read(rc)):
            names.add(m.group(1))
    return names


def main(workspace):
    debian = debian_modules()
    skip = already_overridden()
    root_text = _read(os.path.join(workspace, "MODULE.bazel"))
    local = {}
    for args in _calls(root_text, "local_path_override"):
        name, path = _arg(args, "module_name"), _arg(args, "path")
        if name and path:
            local[name] = os.path.normpath(os.path.join(workspace, path))
    wanted = {}
    seen = set()
    queue = [(workspace, True)]
    while queue:
        moddir, is_root = queue.pop()
        if moddir in seen:
            continue
        seen.add(moddir)
        for args in _calls(_read(os.path.join(moddir, "MODULE.bazel")), "bazel_dep"):
            name = _arg(args, "name")
            if not name:
                continue
            if not is_root and re.search(r"\bdev_dependency\s*=\s*True", args):
                continue
            if name in local:
                queue.append((local[name], False))
            elif name in debian:
                if name not in skip:
                    wanted[name] = debian[name]
                queue.append((debian[name], False))
    for name in sorted(wanted):
        print("common --override_module=%s=%s" % (name, wanted[name]))


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]))
