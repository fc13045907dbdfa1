"""Runs `service check` with the built binary and checks its answers."""

import os
import subprocess
import sys
import unittest


class ServiceTest(unittest.TestCase):
    def test_check(self):
        binary = os.path.abspath(sys.argv[1])
        run = subprocess.run([binary, "check"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        out = run.stdout
        self.assertEqual(out.splitlines()[0], "rules_pyimage oci example service")
        # The registered toolchain's interpreter (the tree from tools/image), not the host's.
        self.assertRegex(out, r"executable: \S*pyimage_python311/python/bin/python3\.11")
        for line in [
            "imports: 10 modules ok",
            'GET /health -> 200 {"status": "ok"}',
            'GET /stats?values=3,1,4,1,5,9,2,6 -> 200 {"count": 8, "mean": 3.875, "quartiles": [1.75, 3.5, 5.25], "std": 2.748376}',
            'GET /fit?x=0,1,2,3&y=1,3,5,7 -> 200 {"intercept": 1.0, "slope": 2.0}',
            "GET /stats?values=1,x -> 400 {\"error\": \"not a number series: '1,x'",
            "GET /missing -> 404",
            '"numpy-config --version": "2.2.6"',
            '"jaraco namespace portions": 2',
            '"distributions": {"backports.tarfile": "1.2.0", "jaraco.context": "6.0.1", "jaraco.functools": "4.1.0", "more-itertools": "11.2.1", "numpy": "2.2.6"}',
            "status: ok",
        ]:
            self.assertIn(line, out)
        # numpy's OpenBLAS comes from the wheel's bundled numpy.libs/.
        self.assertRegex(out, r"bundled library: \S+/site-packages/numpy\.libs/libscipy_openblas64_-\w+\.so")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
