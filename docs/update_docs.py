"""`tools/bazel run //docs:update`: copies the generated API docs over docs/rules.md."""

import os
import shutil
import sys

dest = os.path.join(os.environ["BUILD_WORKSPACE_DIRECTORY"], "docs", "rules.md")
shutil.copyfile(sys.argv[1], dest)
os.chmod(dest, 0o644)
print("updated docs/rules.md")
