#!/usr/bin/env bash
# Set-up hook (run by tools/setup.sh): the servers e2e/remote starts on
# loopback — nginx, BuildGrid + PostgreSQL 15, buildbox in the harness root
# (tools/remote/install.sh; idempotent, its own stamps).
set -euo pipefail
REPO="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}"
bash "$REPO/tools/remote/install.sh"
