#!/usr/bin/env bash
# Build (once) the linux/arm64 counterparts of the e2e images' cache, from Debian
# bookworm's arm64 .debs, for e2e/multi's multi-arch image:
#
#   tools/image/make-arm64.sh          -> prints the cache folder
#
# Results under $PYIMAGE_ARM64_CACHE (default /var/cache/rules_pyimage/tools/image-arm64):
#   python3.11/    CPython 3.11 for aarch64, laid out like make-interpreter.sh's tree
#                  (bin/python3.11, lib/python3.11/...) from python3.11-minimal,
#                  libpython3.11-minimal and libpython3.11-stdlib (arm64)
#   base/layer.tar.gz, base/layer.json, base/PACKAGES
#                  the arm64 .debs of the packages of the amd64 base (make-base.sh's
#                  PACKAGES) unpacked with dpkg-deb -x (no maintainer scripts: the
#                  image only runs the interpreter), as one deterministic layer
#   qemu/qemu-aarch64-static   Debian bookworm's qemu-user-static (host arch), for
#                  running the arm64 image through binfmt_misc where the kernel lets us
#
# The .debs come from the harness root's apt ($PYIMAGE_ROOT/rootfs, which has
# bookworm sources) after `dpkg --add-architecture arm64` there. Idempotent: a
# second run only checks the stamps. PYIMAGE_ARM64_REFRESH=1 rebuilds.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/image/common.sh
. "$HERE/common.sh"
: "${PYIMAGE_ROOTFS:=$PYIMAGE_ROOT/rootfs}"
: "${PYIMAGE_ARM64_CACHE:=$PYIMAGE_ROOT/tools/image-arm64}"
PYIMAGE_ARM64_CACHE="${PYIMAGE_ARM64_CACHE%/}"
export PYIMAGE_ARM64_CACHE
SUITE=bookworm
PY_PKGS=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib)
STEP_VERSION="arm64-v1 $SUITE ${PY_PKGS[*]} qemu-user-static"
OUT="$PYIMAGE_ARM64_CACHE"

# the root's apt knows arm64 packages (its lists are refreshed once, under the root's lock)
root_apt_arm64() {
  [ -x "$PYIMAGE_ROOTFS/usr/bin/apt-get" ] || img_die "no harness root at $PYIMAGE_ROOTFS (run tools/setup.sh first)"
  if ! chroot "$PYIMAGE_ROOTFS" dpkg --print-foreign-architectures | grep -qx arm64 ||
    ! chroot "$PYIMAGE_ROOTFS" apt-cache show "python3.11-minimal:arm64/$SUITE" >/dev/null 2>&1; then
    img_log "dpkg --add-architecture arm64 + apt-get update in $PYIMAGE_ROOTFS"
    chroot "$PYIMAGE_ROOTFS" dpkg --add-architecture arm64
    flock "$PYIMAGE_ROOT/lock" chroot "$PYIMAGE_ROOTFS" apt-get update -qq >&2 ||
      img_die "apt-get update in $PYIMAGE_ROOTFS failed"
  fi
}

# download_debs DIR PKG...: `apt-get download` in the root, into DIR (under the root).
download_debs() {
  local dir="$1" rel
  shift
  rel="${dir#"$PYIMAGE_ROOTFS"}"
  chroot "$PYIMAGE_ROOTFS" env -C "$rel" apt-get download -q "$@" >"$dir/apt.log" 2>&1 || {
    cat "$dir/apt.log" >&2
    img_die "apt-get download $* failed in $PYIMAGE_ROOTFS"
  }
  rm -f "$dir/apt.log"
}

elf_machine() { od -An -t u2 -j 18 -N 2 "$1" | tr -d ' '; }

build_python() {
  local work="$1" p
  mkdir -p "$work/py" "$work/pyx" "$work/tree/bin" "$work/tree/lib"
  download_debs "$work/py" "${PY_PKGS[@]/%/:arm64/$SUITE}"
  for p in "$work"/py/*.deb; do dpkg-deb -x "$p" "$work/pyx"; done
  mv "$work/pyx/usr/bin/python3.11" "$work/tree/bin/python3.11"
  mv "$work/pyx/usr/lib/python3.11" "$work/tree/lib/python3.11"
  # as make-interpreter.sh: no symlinks, no bytecode, no host sysconfig data
  rm -f "$work/tree/lib/python3.11/sitecustomize.py" "$work/tree/lib/python3.11/_sysconfigdata__linux_aarch64-linux-gnu.py"
  find "$work/tree" -type l -delete
  find "$work/tree" -name __pycache__ -prune -exec rm -rf {} +
  # shellcheck disable=SC2016
  for p in "$work"/py/*.deb; do dpkg-deb --showformat='${Package}:${Architecture} ${Version}\n' -W "$p"; done | LC_ALL=C sort >"$work/tree/VERSION"
  [ "$(elf_machine "$work/tree/bin/python3.11")" = 183 ] || img_die "python3.11 from the arm64 .debs is not an aarch64 ELF file"
  chmod -R u+rwX,go+rX,go-w "$work/tree"
}

build_base() {
  local work="$1" p r
  r="$work/rootfs"
  local -a names
  [ -d "$PYIMAGE_IMAGE_CACHE/base/rootfs/var/lib/dpkg" ] || img_die "no amd64 base at $PYIMAGE_IMAGE_CACHE/base (run tools/image/make-base.sh first)"
  # arm64 builds of the amd64 base's arch-dependent packages, the same Architecture: all ones
  mapfile -t names < <(dpkg-query --admindir="$PYIMAGE_IMAGE_CACHE/base/rootfs/var/lib/dpkg" -W \
    -f '${Package} ${Architecture}\n' | awk -v s="$SUITE" '{ print $1 ($2 == "all" ? "" : ":arm64") "/" s }')
  mkdir -p "$work/base" "$r" "$work/layer"
  download_debs "$work/base" "${names[@]}"
  for p in "$work"/base/*.deb; do dpkg-deb -x "$p" "$r"; done
  rm -rf --one-file-system "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* \
    "$r"/usr/share/locale/* "$r"/usr/share/lintian/*
  # shellcheck disable=SC2016
  for p in "$work"/base/*.deb; do dpkg-deb --showformat='${Package} ${Version}\n' -W "$p"; done | LC_ALL=C sort >"$work/layer/PACKAGES"
  mkdir -p "$r/tmp" "$r/root"
  chmod 1777 "$r/tmp"
  img_det_tar "$r" "$work/layer/layer.tar"
  gzip -n -9 -c "$work/layer/layer.tar" >"$work/layer/layer.tar.gz"
  img_descriptor "$work/layer/layer.tar.gz" "$work/layer/layer.tar" >"$work/layer/layer.json"
  rm -f "$work/layer/layer.tar"
}

build_qemu() {
  local work="$1"
  mkdir -p "$work/qemu" "$work/qemux"
  (cd "$work/qemu" && apt-get download -q qemu-user-static >"$work/qemu.log" 2>&1) || {
    cat "$work/qemu.log" >&2
    img_die "apt-get download qemu-user-static failed (host apt)"
  }
  dpkg-deb -x "$work"/qemu/*.deb "$work/qemux"
  mkdir -p "$work/qemu-out"
  cp "$work/qemux/usr/bin/qemu-aarch64-static" "$work/qemu-out/"
  # shellcheck disable=SC2016
  dpkg-deb --showformat='${Package} ${Version}\n' -W "$work"/qemu/*.deb >"$work/qemu-out/VERSION"
}

build() {
  if [ "${PYIMAGE_ARM64_REFRESH:-0}" != 1 ] && [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STEP_VERSION" ]; then
    return 0
  fi
  img_require_root make-arm64.sh
  root_apt_arm64
  local work
  mkdir -p "$OUT"
  work="$(mktemp -d "$PYIMAGE_ROOTFS/tmp/arm64-image.XXXXXX")"
  trap 'rm -rf --one-file-system "${work:-/nonexistent}"; trap - RETURN' RETURN
  build_python "$work"
  build_base "$work"
  build_qemu "$work"
  rm -rf --one-file-system "$OUT/python3.11" "$OUT/base" "$OUT/qemu"
  mv "$work/tree" "$OUT/python3.11"
  mv "$work/layer" "$OUT/base"
  mv "$work/qemu-out" "$OUT/qemu"
  printf '%s\n' "$STEP_VERSION" >"$OUT/stamp"
  img_log "arm64 cache ready: $OUT ($(paste -sd';' "$OUT/python3.11/VERSION"); base $(wc -l <"$OUT/base/PACKAGES") packages)"
}

img_with_lock build
printf '%s\n' "$OUT"
