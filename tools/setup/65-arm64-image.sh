#!/usr/bin/env bash
# Set-up hook (run by tools/setup.sh): the linux/arm64 image cache of e2e/multi's
# multi-arch image (tools/image/make-arm64.sh: CPython 3.11 for aarch64 and an arm64
# base layer from Debian bookworm's arm64 .debs, fetched with the harness root's apt
# after `dpkg --add-architecture arm64` there, and qemu-aarch64-static). Idempotent:
# the script keeps a stamp. Runs after 50-image-cache.sh (it reads the amd64 base's
# package list). Bazel repository rules of e2e/multi read the cache, so it must exist
# before the first `bazel test //...` there.
set -euo pipefail
REPO="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}"
if [ -f "$REPO/tools/image/make-arm64.sh" ]; then
  bash "$REPO/tools/image/make-arm64.sh" >/dev/null
fi
