#!/usr/bin/env bash
# Set-up hook (run by tools/setup.sh): Debian's `chromium` on the host, the headless
# browser the HTML layer report is checked in (e2e/smoke/test.sh: it loads the page,
# reads the DOM, looks for console errors and keeps a screenshot).
# Idempotent: a second run only checks the stamp and the binary.
set -euo pipefail
: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
: "${PYIMAGE_TOOLS:=$PYIMAGE_ROOT/tools}"
STEP_VERSION="chromium-v1"
STAMP="$PYIMAGE_TOOLS/chromium.stamp"
LOG="$PYIMAGE_ROOT/logs/chromium.log"

log() { printf '[pyimage-chromium] %s\n' "$*" >&2; }
die() {
  printf '[pyimage-chromium] ERROR: %s\n' "$*" >&2
  exit 1
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STEP_VERSION" ] && command -v chromium >/dev/null; then exit 0; fi
[ "$(id -u)" = 0 ] || die "needs root (apt-get install chromium)"
mkdir -p "$PYIMAGE_ROOT/logs" "$PYIMAGE_TOOLS"
start=$SECONDS
if ! command -v chromium >/dev/null; then
  log "installing chromium (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >>"$LOG" 2>&1 ||
    die "apt-get install chromium failed; see $LOG"
fi
version="$(chromium --version 2>>"$LOG")" || die "chromium does not run on this host; see $LOG"
printf '%s\n' "$STEP_VERSION" >"$STAMP"
log "$version ready in $((SECONDS - start)) s"
