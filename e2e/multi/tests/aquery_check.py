"""Checks `bazel aquery --output=jsonproto` of e2e/multi's mixed tier (run by test.sh).

Usage: aquery_check.py AQUERY.json MIN_TAGGED

Every PyImageLayer / PyImageMerge action writing a `.tar.zst` (the web group's package
fragments and their merge) carries the `no-remote-cache` execution requirement, no other
action does, and at least MIN_TAGGED actions carry it.
"""

import json
import sys


def main(path, min_tagged):
    with open(path) as f:
        d = json.load(f)
    artifacts = {a["id"]: a["pathFragmentId"] for a in d.get("artifacts", [])}
    fragments = {f["id"]: f for f in d.get("pathFragments", [])}

    def path_of(fid):
        parts = []
        while fid:
            frag = fragments[fid]
            parts.append(frag["label"])
            fid = frag.get("parentId")
        return "/".join(reversed(parts))

    tagged = 0
    bad = []
    for action in d.get("actions", []):
        outs = [path_of(artifacts[o]) for o in action["outputIds"]]
        tar = [o for o in outs if not o.endswith(".json")][0]
        tags = sorted(kv["key"] for kv in action.get("executionInfo", []))
        want = ["no-remote-cache"] if tar.endswith(".tar.zst") else []
        print("%-13s %-60s %s" % (action["mnemonic"], tar.rsplit("/", 2)[-2] + "/" + tar.rsplit("/", 1)[-1], tags))
        if tags != want:
            bad.append("%s %s: tags %s, want %s" % (action["mnemonic"], tar, tags, want))
        tagged += bool(tags)
    if bad:
        print("\n".join(bad))
        return 1
    if tagged < min_tagged:
        print("only %d tagged actions, want at least %d" % (tagged, min_tagged))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
