"""Runs the e2e/limits app and checks that it imported all 130 packages."""

import subprocess
import sys

out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
print(out.strip())
sys.exit(0 if "imported 130 packages: lim-pkg-000 .. lim-pkg-129" in out else 1)
