"""Invariants of the smoke image's layers that no snapshot regeneration can silence.

Arguments: --root /app --runfiles LISTING --base BASE_LAYER LAYER...
(LISTING comes from `runfiles_listing`, @rules_pyimage//tools/testing:listing.bzl,
computed from the binary's runfiles object, independently of rules_pyimage's own code.)
The shared image invariants (tools/testing/invariants.py: every runfile in exactly one
layer, nothing else, no path in two layers, links resolve, no bytecode, owners and
mtimes) plus the smoke image's own: its layers, the interpreter tree's kept link, the
interpreter, pip and base files.
"""

import invariants


class Invariants(invariants.Invariants):
    def test_layers_exist(self):
        self.assertGreaterEqual(len(self.layers), 4, [n for n, _, _ in self.layers])

    def test_interpreter_keeps_its_links(self):
        # the interpreter tree's bin/python3 -> python3.11 is a link, not a second copy
        links = {}
        for _, entries, _ in self.layers:
            for path, ti in entries.items():
                if path.endswith("/python/bin/python3"):
                    links[path] = ti.linkname if ti.issym() else "(%s, not a link)" % ("file" if ti.isreg() else ti.type)
        self.assertEqual(list(links.values()), ["python3.11"], links)

    def test_interpreter_and_pip_files_present(self):
        paths = self.all_paths()
        rf = self.root + "/.runfiles/"
        self.assertTrue(any(p.startswith(rf) and p.endswith("/python/bin/python3.11") for p in paths))
        self.assertTrue(any(p.endswith("/site-packages/requests/__init__.py") for p in paths))
        self.assertIn("/usr/lib/x86_64-linux-gnu/libssl.so.3", paths)
        self.assertNotIn("/usr/bin/python3", paths, "the base must not bring a python")


if __name__ == "__main__":
    invariants.main()
