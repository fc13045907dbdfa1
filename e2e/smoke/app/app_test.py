"""Runs the smoke app binary and checks its output."""

import os
import subprocess
import sys
import unittest


class AppTest(unittest.TestCase):
    def test_app_output(self):
        binary = os.path.abspath(sys.argv[1])
        out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
        lines = out.splitlines()
        self.assertEqual(lines[0], "Hello from rules_pyimage smoke!")
        self.assertIn("| colorama  | 0.4.6     |", out)
        self.assertIn("| packaging | 24.2      |", out)
        self.assertIn("| tabulate  | 0.9.0     |", out)
        self.assertIn("newest version: 24.2", out)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
