"""Runs the 1.x-shaped binaries from Bazel's runfiles: each runs in its own venv with every package."""

import os
import subprocess
import sys
import unittest

BINARIES = {}


class Run(unittest.TestCase):
    def run_binary(self, name, *args):
        r = subprocess.run([BINARIES[name], *args], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_app_runs_in_its_venv(self):
        out = self.run_binary("app")
        self.assertIn("venv: True", out)
        self.assertRegex(out, r"prefix: .*/_main/app/_app\.venv\n")
        self.assertIn("from six: rules_python~~pip~pypi_314_six/site-packages/six.py", out)
        self.assertIn("jaraco namespace: 2", out)
        self.assertIn("shout: LAYERS", out)

    def test_app_sp_imports_from_its_venv(self):
        out = self.run_binary("app_sp")
        self.assertIn("from six: _main/app/_app_sp.venv/lib/python3.11/site-packages/six.py", out)

    def test_app_system_runs_without_a_venv(self):
        out = self.run_binary("app_system")
        self.assertIn("venv: False", out)
        self.assertIn("from six: rules_python~~pip~pypi_314_six/site-packages/six.py", out)

    def test_console_script(self):
        out = self.run_binary("tabulate", "a", "b")
        self.assertIn("tabulate | 0.9.0", out)
        self.assertIn("argv | a b", out)
        self.assertRegex(out, r"console script prefix: .*/_main/app/_tabulate\.venv\n")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        BINARIES[os.path.basename(arg)] = os.path.abspath(arg)
    unittest.main(argv=sys.argv[:1], verbosity=2)
