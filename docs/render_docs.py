"""Renders Bazel `starlark_doc_extract` text protos (ModuleInfo) as Markdown.

Stardoc's renderer is a java_binary whose Java tools cannot be fetched offline, so
docs/rules.md is produced by this small script from the same extracted data.

usage: render_docs.py OUT.md HEADER.md TITLE=MODULE.textproto...
"""

import codecs
import re
import sys

_TOKEN = re.compile(r'\s*(?:(\w+)\s*\{|(\})|(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|[^\s]+))')


def parse(text):
    """Parses protobuf text format into nested dicts of lists."""
    stack = [{}]
    pos = 0
    while True:
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise ValueError("cannot parse at %r" % text[pos : pos + 40])
            break
        pos = m.end()
        if m.group(1):
            child = {}
            stack[-1].setdefault(m.group(1), []).append(child)
            stack.append(child)
        elif m.group(2):
            stack.pop()
        else:
            value = m.group(4)
            if value.startswith('"'):
                value = codecs.escape_decode(value[1:-1].encode("latin-1"))[0].decode("utf-8")
            stack[-1].setdefault(m.group(3), []).append(value)
    return stack[0]


def one(d, key, default=""):
    return d.get(key, [default])[0]


def cell(text):
    text = text.strip().replace("|", "\\|")
    return "<br>".join(line for line in text.split("\n")) if text else ""


_TYPES = {
    "NAME": "name",
    "LABEL": "label",
    "LABEL_LIST": "list of labels",
    "STRING": "string",
    "STRING_LIST": "list of strings",
    "STRING_DICT": "dict of strings",
    "STRING_LIST_DICT": "dict: string -> list of strings",
    "INT": "int",
    "BOOLEAN": "bool",
    "LABEL_STRING_DICT": "dict: label -> string",
    "OUTPUT": "output",
}


def attributes(out, attrs):
    out.append("| Attribute | Description | Type | Mandatory | Default |")
    out.append("| :-- | :-- | :-- | :-- | :-- |")
    for a in attrs:
        name = one(a, "name")
        if name.startswith("_"):
            continue
        out.append(
            "| `%s` | %s | %s | %s | %s |"
            % (
                name,
                cell(one(a, "doc_string")),
                _TYPES.get(one(a, "type"), one(a, "type").lower()),
                "yes" if one(a, "mandatory") == "true" else "no",
                ("`%s`" % cell(one(a, "default_value"))) if one(a, "default_value") else "",
            )
        )
    out.append("")


def render(module, out):
    for r in module.get("rule_info", []):
        name = one(r, "rule_name")
        out.append("## `%s`\n" % name)
        out.append(one(r, "doc_string").strip() + "\n")
        attributes(out, r.get("attribute", []))
    for p in module.get("provider_info", []):
        out.append("## `%s`\n" % one(p, "provider_name"))
        out.append(one(p, "doc_string").strip() + "\n")
        fields = [f for f in p.get("field_info", []) if not one(f, "name").startswith("_")]
        if fields:
            out.append("| Field | Description |")
            out.append("| :-- | :-- |")
            for f in fields:
                out.append("| `%s` | %s |" % (one(f, "name"), cell(one(f, "doc_string"))))
            out.append("")
    for f in module.get("func_info", []):
        out.append("## `%s`\n" % one(f, "function_name"))
        out.append(one(f, "doc_string").strip() + "\n")
    for e in module.get("module_extension_info", []):
        out.append("## Module extension `%s`\n" % one(e, "extension_name"))
        out.append(one(e, "doc_string").strip() + "\n")
        for t in e.get("tag_class", []):
            out.append("### Tag `%s.%s`\n" % (one(e, "extension_name"), one(t, "tag_name")))
            if one(t, "doc_string"):
                out.append(one(t, "doc_string").strip() + "\n")
            attributes(out, t.get("attribute", []))


def main(argv):
    out_path, header, *modules = argv
    with open(header, encoding="utf-8") as f:
        out = [f.read().rstrip("\n"), ""]
    for spec in modules:
        title, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as f:
            module = parse(f.read())
        out.append("# %s\n" % title)
        if one(module, "module_docstring"):
            out.append(one(module, "module_docstring").strip() + "\n")
        render(module, out)
    text = "\n".join(out).rstrip("\n") + "\n"
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
