"""Checks a py_image_layer's report.json: the base layers and where they were counted.

Arguments: LAYERS SOURCE REPORT_FILE... (the `report` output group; its report.json is read)
"""

import json
import sys


def main(argv):
    layers, source = int(argv[0]), argv[1]
    path = [f for f in argv[2:] if f.endswith("report.json")][0]
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    base = report.get("base") or {}
    got = (report["totals"]["base_layers"], base.get("layers"), base.get("source"))
    want = (layers, layers, source)
    if got != want:
        print("%s: base (totals, counted, source) = %s, want %s" % (path, got, want))
        return 1
    if source != "base_layers" and not base.get("path"):
        print("%s: a base read from an image names its path: %s" % (path, base))
        return 1
    print("ok: %s: %d base layers from %s %s" % (path, layers, source, base.get("path", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
