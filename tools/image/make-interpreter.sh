#!/usr/bin/env bash
# Build (once) a relocatable CPython 3.11 tree from Debian bookworm's .debs:
#
#   tools/image/make-interpreter.sh          -> prints the tree's path
#
# Result: $PYIMAGE_IMAGE_CACHE/python3.11.v3/{bin/python3.11,bin/python3 -> python3.11,lib/python3.11/...,VERSION}
# (default cache: /var/cache/rules_pyimage/tools/image). CPython finds its
# standard library relative to the executable, so the tree works from any
# directory (e.g. inside Bazel runfiles or at /app/... in an image). The shared
# libraries it links (libc, libssl, libexpat, zlib, libffi, ...) come from the
# base root file system (tools/image/make-base.sh), not from this tree.
#
# Packages come from the host's apt (`apt-get download`), so the host must have
# bookworm sources (a bookworm host has). Idempotent: a second run only checks
# the stamp. PYIMAGE_INTERPRETER_REFRESH=1 rebuilds. The tree keeps its relative
# symlinks (Debian's _sysconfigdata link, and a bin/python3 -> python3.11 added
# here), as real runtime trees have them; the folder name carries the tree's
# revision so checkouts that expect an older tree keep theirs.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/image/common.sh
. "$HERE/common.sh"

PKGS=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib)
STEP_VERSION=interpreter-v3
NAME=python3.11.v3
OUT="$PYIMAGE_IMAGE_CACHE/$NAME"

# Every symlink of tree $1 must be relative and resolve to a file inside the tree.
check_links() {
  local tree link target real
  tree="$(realpath "$1")"
  while IFS= read -r -d '' link; do
    target="$(readlink "$link")"
    real="$(realpath -m "$link")"
    case "$target" in /*) img_die "symlink ${link#"$tree"/} -> $target is absolute: make it relative to the tree or remove it" ;; esac
    case "$real" in "$tree"/*) ;; *) img_die "symlink ${link#"$tree"/} -> $target leaves the tree" ;; esac
    [ -e "$real" ] || img_die "symlink ${link#"$tree"/} -> $target dangles"
  done < <(find "$tree" -type l -print0)
}

build() {
  if [ "${PYIMAGE_INTERPRETER_REFRESH:-0}" != 1 ] && img_stamp_ok "$NAME" "$STEP_VERSION" && [ -x "$OUT/bin/python3.11" ]; then
    return 0
  fi
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    img_die "make-interpreter.sh needs a Debian host (apt-get, dpkg-deb)"
  fi
  local work
  work="$(mktemp -d "$PYIMAGE_IMAGE_CACHE/.python3.11.XXXXXX")"
  trap 'rm -rf "${work:-/nonexistent}"; trap - RETURN' RETURN
  mkdir -p "$work/debs" "$work/x" "$work/tree/bin" "$work/tree/lib"
  img_log "downloading ${PKGS[*]} (apt-get download)"
  local p
  for p in "${PKGS[@]}"; do
    (cd "$work/debs" && apt-get download -q "$p" >/dev/null 2>"$work/apt.err") || {
      cat "$work/apt.err" >&2
      img_die "apt-get download $p failed (does this host have Debian bookworm apt sources? run 'apt-get update')"
    }
  done
  for p in "$work"/debs/*.deb; do dpkg-deb -x "$p" "$work/x"; done
  mv "$work/x/usr/bin/python3.11" "$work/tree/bin/python3.11"
  mv "$work/x/usr/lib/python3.11" "$work/tree/lib/python3.11"
  # sitecustomize.py links to /etc/python3.11/, outside the tree (it would
  # dangle in an image); the other links stay, and bin/python3 is added so the
  # tree has the usual unversioned name as a link.
  rm -f "$work/tree/lib/python3.11/sitecustomize.py"
  ln -s python3.11 "$work/tree/bin/python3"
  check_links "$work/tree"
  find "$work/tree" -name __pycache__ -prune -exec rm -rf {} +
  # Versions of the packages used, for the record.
  # shellcheck disable=SC2016
  for p in "$work"/debs/*.deb; do dpkg-deb --showformat='${Package} ${Version}\n' -W "$p"; done | LC_ALL=C sort >"$work/tree/VERSION"
  # Sanity: the tree runs and finds its standard library by itself.
  "$work/tree/bin/python3.11" -I -c 'import sys, os, json, ssl, sqlite3, ctypes, decimal, uuid, hashlib, zlib, lzma, bz2, encodings.idna; assert sys.prefix == os.path.dirname(os.path.dirname(sys.executable)), sys.prefix' ||
    img_die "the extracted interpreter does not work on this host"
  chmod -R u+rwX,go+rX,go-w "$work/tree"
  rm -rf "$OUT"
  mv "$work/tree" "$OUT"
  img_stamp_write "$NAME" "$STEP_VERSION"
  img_log "interpreter tree ready: $OUT ($(paste -sd';' "$OUT/VERSION"))"
}

img_with_lock build
printf '%s\n' "$OUT"
