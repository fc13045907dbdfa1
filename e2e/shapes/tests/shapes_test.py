"""The rules_python 1.x shapes in e2e/shapes' layers, on top of the shared image invariants.

    shapes_test.py --plan PLAN.json --order LAYER_LIST [--site-packages-links]
        [--system-python NAME]... [--first-party GROUP] --runfiles LISTING --base BASE LAYER...

Besides tools/testing/invariants.py (every runfile in exactly one layer, no path in
two layers, links resolve, ...): the spoke repositories carry the Python version
(`rules_python~~pip~pypi_314_<name>`); each distribution's files sit in the layer of
its tier group (certifi's `*.pem` split off); every binary's `_<bin>.venv/` tree and
`_<bin>_stage2_bootstrap.py` are in the app layer (or in the first-party group
`--first-party` of `//app/...`, with the launchers' copies in the runfiles), the venv's `bin/python3.11` a
relative link to the interpreter layer's executable; the generated namespace
`__init__.py` ships with each distribution of the namespace; with
`--site-packages-links`, every link in the venv's site-packages resolves to a file of
a pip layer. A `--system-python` binary (1.x's Python stub launcher) has no venv, and
Bazel's empty `site-packages/__init__.py` of each wheel repository (1.x repositories
have none) is in the app layer.
"""

import argparse
import json
import posixpath
import sys

import invariants

SPOKE = "rules_python~~pip~pypi_314_"

# distribution -> tier group of its files (image/BUILD.bazel); certifi's *.pem: "certs"
GROUPS = {
    "certifi": "pip",
    "jaraco_functools": "jaraco",
    "jaraco_text": "jaraco",
    "six": "six",
    "tabulate": "pip",
    "typing_extensions": "pip",
}
PLAN = [
    ("interpreter", "python", []),
    ("pip_group", "jaraco", ["jaraco-functools", "jaraco-text"]),
    ("pip_group", "six", ["six"]),
    ("pip_group", "certs", ["certifi"]),
    ("pip_squashed", "pip", ["certifi", "tabulate", "typing-extensions"]),
    ("app", "app", []),
]
OPTS = None


class Shapes(invariants.Invariants):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(OPTS.plan) as f:
            cls.plan = json.load(f)
        cls.rf = cls.root + "/.runfiles/"
        with open(OPTS.order) as f:
            order = [posixpath.basename(line.strip()) for line in f if line.strip()]
        by_name = {name: entries for name, entries, _ in cls.layers}
        cls.layer_of = {}  # non-directory path -> group
        for name, layer in zip(order, cls.plan["layers"]):
            entries = by_name[name]
            for path, ti in entries.items():
                if not ti.isdir():
                    cls.layer_of[path] = layer["group"]
        assert len(order) == len(cls.plan["layers"]) == len(cls.layers), (order, cls.plan["layers"])

    def test_plan(self):
        got = [(l["kind"], l["group"], sorted(l["packages"])) for l in self.plan["layers"]]
        want = PLAN[:-1] + [("first_party", OPTS.first_party, ["//app/..."])] + PLAN[-1:] if OPTS.first_party else PLAN
        self.assertEqual(got, want)
        self.assertEqual(self.plan["deps"]["jaraco-text"], ["jaraco-functools"], "a dependency through the hub's alias")

    def test_spoke_repositories_carry_the_python_version(self):
        repos = {p[len(self.rf):].split("/")[0] for p in self.layer_of if p.startswith(self.rf + "rules_python~")}
        self.assertEqual(repos, {SPOKE + d for d in GROUPS})

    def test_each_distribution_in_its_group(self):
        wrong = []
        for path, group in sorted(self.layer_of.items()):
            if not path.startswith(self.rf + SPOKE):
                continue
            dist, _, rel = path[len(self.rf + SPOKE):].partition("/")
            if rel in ("__init__.py", "site-packages/__init__.py"):
                continue  # Bazel's empty files (test_bazel_empty_inits_in_the_app_layer)
            want = "certs" if dist == "certifi" and path.endswith(".pem") else GROUPS[dist]
            if group != want or "/site-packages/" not in path:
                wrong.append("%s: in %s, want %s/site-packages" % (path, group, want))
        self.assertEqual(wrong, [])
        self.assertIn(self.rf + SPOKE + "six/site-packages/six.py", self.layer_of, "a single-module distribution")
        self.assertNotIn(self.rf + SPOKE + "six/site-packages/six-1.17.0.dist-info/RECORD", self.layer_of)

    def test_namespace_init_ships_with_each_distribution(self):
        for dist in ["jaraco_functools", "jaraco_text"]:
            path = self.rf + SPOKE + dist + "/site-packages/jaraco/__init__.py"
            self.assertEqual(self.layer_of.get(path), "jaraco", path)

    def script_launchers(self):
        return [n for n in self.launchers if n not in OPTS.system_python]

    def test_bazel_empty_inits_in_the_app_layer(self):
        inits = ["/__init__.py", "/site-packages/__init__.py"] if OPTS.system_python else []
        got = {
            p: g
            for p, g in self.layer_of.items()
            if p.startswith(self.rf + SPOKE) and p[len(self.rf + SPOKE):].partition("/")[2] in ("__init__.py", "site-packages/__init__.py")
        }
        want = {self.rf + SPOKE + d + i: "app" for d in GROUPS for i in inits}
        self.assertEqual(got, want)

    def test_system_python_binaries_have_no_venv(self):
        for name in OPTS.system_python:
            self.assertIn(name, self.launchers)
            venv = [p for p in self.layer_of if "/_%s.venv/" % name in p or p.endswith("_%s_stage2_bootstrap.py" % name)]
            self.assertEqual(venv, [])

    def test_venv_and_stage2_bootstrap_in_the_app_layer(self):
        for name in self.script_launchers():
            pkg = self.rf + "_main/app/"
            venv = pkg + "_%s.venv/" % name
            want = [
                pkg + name,
                pkg + "_%s_stage2_bootstrap.py" % name,
                venv + "pyvenv.cfg",
                venv + "bin/python3.11",
                venv + "lib/python3.11/site-packages/bazel.pth",
                venv + "lib/python3.11/site-packages/_bazel_site_init.py",
            ]
            group = OPTS.first_party or "app"
            self.assertEqual({p: self.layer_of.get(p) for p in want}, {p: group for p in want})
            self.assertEqual(self.layer_of.get(self.root + "/" + name), "app", "the launcher")

    def test_venv_python_links_to_the_interpreter_layer(self):
        paths = self.all_paths()
        for name in self.script_launchers():
            link = self.rf + "_main/app/_%s.venv/bin/python3.11" % name
            ti = paths[link]
            self.assertTrue(ti.issym(), "%s must stay a symlink" % link)
            self.assertFalse(ti.linkname.startswith("/"), ti.linkname)
            target = self.resolve(link, paths)
            self.assertEqual(self.layer_of.get(target), "python", "%s -> %s" % (link, target))
            self.assertTrue(paths[target].isreg() and posixpath.basename(target) == "python3.11", target)

    def test_venv_site_packages_links(self):
        paths = self.all_paths()
        site = [
            p for name in self.script_launchers()
            for p in self.layer_of
            if p.startswith(self.rf + "_main/app/_%s.venv/lib/python3.11/site-packages/" % name)
            and paths[p].issym()
        ]
        if not OPTS.site_packages_links:
            self.assertEqual(site, [], "no venv site-packages links without venv_site_packages")
            return
        self.assertIn(self.rf + "_main/app/_app_sp.venv/lib/python3.11/site-packages/six.py", site)
        bad = [
            "%s -> %s (%s)" % (p, t, self.layer_of.get(t))
            for p in site
            for t in [self.resolve(p, paths)]
            if self.layer_of.get(t) not in ("jaraco", "six", "certs", "pip") or not t.startswith(self.rf + SPOKE)
        ]
        self.assertEqual(bad, [])


def main():
    global OPTS
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", required=True)
    ap.add_argument("--order", required=True, help="layer_list of the layers in image order")
    ap.add_argument("--site-packages-links", action="store_true")
    ap.add_argument("--system-python", action="append", default=[], help="a binary with 1.x's system_python bootstrap")
    ap.add_argument("--first-party", default="", help="the tier's first-party group of //app/...")
    OPTS, rest = ap.parse_known_args()
    invariants.main(rest)


if __name__ == "__main__":
    main()
