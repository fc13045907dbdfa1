"""The e2e/limits budget app: its 200 generated packages are what the layers hold."""

import bud_pkg_199  # noqa: F401  (imports its dependencies in turn)

print("ok")
