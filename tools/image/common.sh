# shellcheck shell=bash
# Shared settings of the image helper scripts (tools/image/*.sh). Source it.
#
# Everything is cached under $PYIMAGE_IMAGE_CACHE, by default
# $PYIMAGE_ROOT/tools/image (PYIMAGE_ROOT defaults to /var/cache/rules_pyimage).
# That folder is inside the harness's tools/ folder, which tools/bazel bind-mounts
# read-only at the same path inside its Bazel root, so Bazel repository rules
# (tools/image/extensions.bzl) see the same paths as scripts on the host.
: "${PYIMAGE_ROOT:=/var/cache/rules_pyimage}"
PYIMAGE_ROOT="${PYIMAGE_ROOT%/}"
: "${PYIMAGE_IMAGE_CACHE:=$PYIMAGE_ROOT/tools/image}"
PYIMAGE_IMAGE_CACHE="${PYIMAGE_IMAGE_CACHE%/}"
export PYIMAGE_ROOT PYIMAGE_IMAGE_CACHE

img_log() { printf '[pyimage-image] %s\n' "$*" >&2; }
img_die() {
  printf '[pyimage-image] ERROR: %s\n' "$*" >&2
  exit 1
}

img_require_root() {
  [ "$(id -u)" = 0 ] || img_die "$1 needs root (debootstrap / file ownership); run it as root."
}

# Run "$@" holding an exclusive lock on the image cache.
# Re-entrant: a script called by another that holds the lock does not wait.
img_with_lock() {
  if [ -n "${PYIMAGE_IMAGE_LOCK_HELD:-}" ]; then
    "$@"
    return
  fi
  mkdir -p "$PYIMAGE_IMAGE_CACHE"
  (
    exec 8>>"$PYIMAGE_IMAGE_CACHE/.lock"
    flock 8
    export PYIMAGE_IMAGE_LOCK_HELD=1
    "$@"
  )
}

img_stamp_ok() { [ -f "$PYIMAGE_IMAGE_CACHE/$1.stamp" ] && [ "$(cat "$PYIMAGE_IMAGE_CACHE/$1.stamp")" = "$2" ]; }
img_stamp_write() { printf '%s\n' "$2" >"$PYIMAGE_IMAGE_CACHE/$1.stamp.tmp" && mv -f "$PYIMAGE_IMAGE_CACHE/$1.stamp.tmp" "$PYIMAGE_IMAGE_CACHE/$1.stamp"; }

# The Debian mirror: $PYIMAGE_DEBIAN_MIRROR (as for tools/setup.sh), else the one
# the host's apt uses (empty: let debootstrap pick its default).
img_debian_mirror() {
  if [ -n "${PYIMAGE_DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "${PYIMAGE_DEBIAN_MIRROR%/}"
    return
  fi
  {
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/*.sources 2>/dev/null
  } | sed 's:/*$::' | grep -E '/debian$' | head -n1 || true
}

# Deterministic tar of directory $1 into $2 (uncompressed): names sorted, no
# "./" prefix, mtime 0, numeric owners kept, no atime/ctime PAX records.
img_det_tar() {
  local dir="$1" out="$2"
  local -a top
  mapfile -t top < <(cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort)
  (cd "$dir" && LC_ALL=C tar --create --file="$out" --format=pax \
    --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime,delete=mtime' \
    --sort=name --mtime=@0 --numeric-owner --no-acls --no-xattrs --no-selinux \
    -- "${top[@]}")
}

# descriptor-like JSON for a gzip layer $1 whose uncompressed tar is $2.
img_descriptor() {
  local gz="$1" tar="$2"
  printf '{"schema": 1, "media_type": "application/vnd.oci.image.layer.v1.tar+gzip", "compression": "gzip", "digest": "sha256:%s", "size": %s, "diff_id": "sha256:%s", "uncompressed_size": %s}\n' \
    "$(sha256sum "$gz" | cut -d' ' -f1)" "$(stat -c %s "$gz")" \
    "$(sha256sum "$tar" | cut -d' ' -f1)" "$(stat -c %s "$tar")"
}
