#!/usr/bin/env bash
# Set-up hook (run by tools/setup.sh): the e2e images' cached base layer and
# interpreter tree (tools/image/*.sh, each idempotent with its own stamp).
# Bazel repository rules in the e2e workspaces read that cache, so it must
# exist before the first `bazel test //...` there.
set -euo pipefail
REPO="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}"
for s in make-interpreter.sh make-base.sh; do
  if [ -f "$REPO/tools/image/$s" ]; then
    bash "$REPO/tools/image/$s" >/dev/null
  fi
done
