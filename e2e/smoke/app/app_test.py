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
        self.assertIn("python: 3.11.", out)
        # The registered toolchain's interpreter (the tree from tools/image), not the host's.
        self.assertRegex(out, r"executable: \S*pyimage_python311/python/bin/python3\.11")
        for row in [
            "| certifi            | 2024.08.30 |",
            "| charset_normalizer | 3.4.0      |",
            "| colorama           | 0.4.6      |",
            "| idna               | 3.10       |",
            "| packaging          | 24.2       |",
            "| requests           | 2.32.3     |",
            "| six                | 1.16.0     |",
            "| tabulate           | 0.9.0      |",
            "| urllib3            | 2.2.3      |",
        ]:
            self.assertIn(row, out)
        self.assertIn("request: https://xn--bcher-kva.example/api/layers?q=smoke", out)
        self.assertIn("idna: xn--bcher-kva.example", out)
        self.assertIn("charset: utf_8", out)
        self.assertRegex(out, r"certifi bundle: \S+/certifi/cacert\.pem \(present\)")
        self.assertIn("status: ok", out)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
