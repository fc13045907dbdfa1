#!/usr/bin/env bash
# Build (once) the minimal base root file system of the e2e images and its
# deterministic layer:
#
#   tools/image/make-base.sh            -> prints the cache folder
#
# Results under $PYIMAGE_IMAGE_CACHE/base/ (default cache:
# /var/cache/rules_pyimage/tools/image):
#   rootfs/        debootstrap --variant=minbase bookworm + the shared libraries
#                  the interpreter tree (make-interpreter.sh) links; no Python
#   layer.tar.gz   that root as one layer: names sorted, no "./" prefix, mtime 0,
#                  numeric owners, no device nodes, gzip without name/mtime
#   layer.json     {digest, diff_id, size, ...} of layer.tar.gz
#   PACKAGES       the Debian packages in it (name version)
#
# Uses the host's Debian mirror (from its apt sources) or debootstrap's default.
# Idempotent: a second run only checks the stamp. PYIMAGE_BASE_REFRESH=1 rebuilds.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/image/common.sh
. "$HERE/common.sh"

SUITE=bookworm
# What python3.11-minimal, libpython3.11-minimal and libpython3.11-stdlib depend
# on (dpkg-deb -I), minus what minbase already has; checked with ldd below.
LIBS=(libexpat1 zlib1g libssl3 libffi8 libsqlite3-0 libbz2-1.0 liblzma5 
  libncursesw6 libtinfo6 libreadline8 libuuid1 libdb5.3 libnsl2 libtirpc3 libcrypt1
  media-types ca-certificates)
STEP_VERSION="base-v1 $SUITE ${LIBS[*]}"
OUT="$PYIMAGE_IMAGE_CACHE/base"

build() {
  if [ "${PYIMAGE_BASE_REFRESH:-0}" != 1 ] && img_stamp_ok base "$STEP_VERSION" && [ -f "$OUT/layer.tar.gz" ]; then
    return 0
  fi
  img_require_root make-base.sh
  command -v debootstrap >/dev/null || img_die "debootstrap is missing (apt-get install debootstrap)"
  local work mirror
  work="$(mktemp -d "$PYIMAGE_IMAGE_CACHE/.base.XXXXXX")"
  trap 'rm -rf --one-file-system "${work:-/nonexistent}"; trap - RETURN' RETURN
  mirror="$(img_debian_mirror)"
  img_log "debootstrap --variant=minbase $SUITE (about 1 min; log: $work/debootstrap.log)"
  # shellcheck disable=SC2086
  if ! debootstrap --variant=minbase --include="$(
    IFS=,
    echo "${LIBS[*]}"
  )" "$SUITE" "$work/rootfs" $mirror >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    img_die "debootstrap failed (network to the Debian archive?)"
  fi
  local r="${work:?}/rootfs"
  # The trim below deletes "$r"/dev/* and friends: never let it reach the host's.
  [[ $r == /*/rootfs && -d $r/etc ]] || img_die "refusing to trim an unexpected root: '$r'"
  # shellcheck disable=SC2016
  chroot "$r" dpkg-query -W -f '${Package} ${Version}\n' | LC_ALL=C sort >"$work/PACKAGES"
  # Trim what an image never needs, and anything volatile.
  rm -rf --one-file-system "${r:?}"/dev/* "$r"/proc/* "$r"/sys/* "$r"/run/* "$r"/tmp/* \
    "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old "$r"/var/cache/ldconfig/aux-cache \
    "$r"/var/lib/apt/lists/* "$r"/var/log/* "$r"/var/tmp/* \
    "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
    "$r"/usr/share/lintian/* "$r"/var/lib/dpkg/*-old "$r"/etc/*- "$r"/etc/machine-id
  : >"$r/etc/machine-id"
  # Password-change dates are "days since 1970" of the build: pin them.
  local f
  for f in "$r/etc/shadow" "$r/etc/gshadow"; do
    [ -f "$f" ] || continue
    awk -F: 'BEGIN { OFS = ":" } FILENAME ~ /\/shadow$/ && NF >= 3 { $3 = "0" } { print }' "$f" >"$f.new"
    cat "$f.new" >"$f" && rm -f "$f.new"
  done
  # No device nodes, fifos or sockets in a layer.
  find "$r" \( -type b -o -type c -o -type p -o -type s \) -delete
  if [ -e "$r/usr/bin/python3" ] || [ -e "$r/usr/bin/python3.11" ]; then img_die "the base must not contain a Python"; fi
  # The interpreter tree must run on this base: import every extension module
  # inside a chroot of it (a copy of the tree under /tmp, removed afterwards).
  local py
  py="$("$HERE/make-interpreter.sh")"
  mkdir -p "$r/tmp/py"
  cp -a "$py/." "$r/tmp/py/"
  if ! chroot "$r" /tmp/py/bin/python3.11 -I -c '
import importlib, os, sys
d = os.path.join(sys.prefix, "lib", "python3.11", "lib-dynload")
bad = []
for f in sorted(os.listdir(d)):
    name = f.split(".")[0]
    try:
        importlib.import_module(name)
    except Exception as e:
        bad.append("%s: %s" % (name, e))
import ssl, sqlite3, ctypes, decimal, uuid, hashlib, zlib, lzma, bz2, json
print("\n".join(bad)); sys.exit(1 if bad else 0)
' >&2; then
    img_die "the interpreter tree does not run on the base (missing shared libraries above)"
  fi
  rm -rf "$r/tmp/py"
  img_det_tar "$r" "$work/layer.tar"
  # The layer is a pure function of the tree: a second tar must be identical.
  img_det_tar "$r" "$work/layer.check.tar"
  cmp -s "$work/layer.tar" "$work/layer.check.tar" || img_die "two tars of the same base tree differ (non-deterministic tar)"
  rm -f "$work/layer.check.tar"
  gzip -n -6 -c "$work/layer.tar" >"$work/layer.tar.gz"
  img_descriptor "$work/layer.tar.gz" "$work/layer.tar" >"$work/layer.json"
  rm -rf --one-file-system "$OUT"
  mkdir -p "$OUT"
  mv "$work/rootfs" "$work/layer.tar.gz" "$work/layer.json" "$work/PACKAGES" "$OUT/"
  img_stamp_write base "$STEP_VERSION"
  img_log "base layer ready: $OUT/layer.tar.gz ($(du -h "$OUT/layer.tar.gz" | cut -f1), $(wc -l <"$OUT/PACKAGES") packages)"
}

img_with_lock build
printf '%s\n' "$OUT"
