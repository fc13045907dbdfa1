# shellcheck shell=bash disable=SC2034
# Paths shared by tools/remote/*.sh (source after tools/lib/common.sh).
REMOTE_TOOLS="$PYIMAGE_TOOLS/remote"
NGINX_BIN="$REMOTE_TOOLS/nginx/usr/sbin/nginx"
BGD_BIN="$REMOTE_TOOLS/buildgrid/bin/bgd"
PG_BIN="/usr/lib/postgresql/15/bin"

# Runs a command inside the harness root with a clean environment.
remote_in_root() {
  chroot "$PYIMAGE_ROOTFS" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
