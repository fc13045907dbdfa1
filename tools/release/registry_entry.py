"""Writes one module version into a Bazel registry folder, from the .bcr/ templates.

usage: registry_entry.py BCR_DIR REGISTRY VERSION MODULE_BAZEL ARCHIVE_URL INTEGRITY PREFIX

REGISTRY/bazel_registry.json, REGISTRY/modules/rules_pyimage/metadata.json (the
template plus VERSION), and REGISTRY/modules/rules_pyimage/VERSION/ with the
module's MODULE.bazel, source.json (the template, its url/integrity filled in)
and presubmit.yml: the same files a Bazel Central Registry entry holds. Point
Bazel at it with --registry=file://REGISTRY.
"""

import json
import os
import shutil
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dump(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def main(bcr, registry, version, module_bazel, url, integrity, prefix):
    mod_dir = os.path.join(registry, "modules", "rules_pyimage")
    ver_dir = os.path.join(mod_dir, version)
    os.makedirs(ver_dir, exist_ok=True)
    dump({"mirrors": []}, os.path.join(registry, "bazel_registry.json"))

    metadata = load(os.path.join(bcr, "metadata.template.json"))
    metadata["versions"] = sorted(set(metadata.get("versions", [])) | {version})
    dump(metadata, os.path.join(mod_dir, "metadata.json"))

    source = load(os.path.join(bcr, "source.template.json"))
    strip_prefix = source.get("strip_prefix", "").replace("{VERSION}", version)
    if strip_prefix != prefix:
        sys.exit("registry_entry.py: .bcr/source.template.json strip_prefix gives %r, the archive has %r" % (strip_prefix, prefix))
    source.update(url=url, integrity=integrity, strip_prefix=strip_prefix)
    dump(source, os.path.join(ver_dir, "source.json"))

    shutil.copyfile(module_bazel, os.path.join(ver_dir, "MODULE.bazel"))
    shutil.copyfile(os.path.join(bcr, "presubmit.yml"), os.path.join(ver_dir, "presubmit.yml"))


if __name__ == "__main__":
    main(*sys.argv[1:])
