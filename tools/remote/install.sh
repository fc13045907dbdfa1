#!/usr/bin/env bash
# Installs (once) the servers e2e/remote starts on loopback: nginx (WebDAV
# remote cache), BuildGrid 0.9.1 (REAPI cache + execution) with a private
# PostgreSQL 15, and buildbox (the worker) inside the harness's Debian
# unstable root. Run by the set-up hook tools/setup/60-remote.sh; idempotent,
# each part has its own stamp under $PYIMAGE_ROOT/stamps (a second run takes
# well under a second). Nothing is started here, and no system service is
# touched: tools/remote/start.sh starts private instances.
#
# Layout: $PYIMAGE_TOOLS/remote/nginx (bookworm's nginx .deb unpacked),
# $PYIMAGE_TOOLS/remote/buildgrid (venv made with Python >= 3.13),
# buildbox-worker and buildbox-run-hosttools in $PYIMAGE_ROOTFS/usr/bin.
#
# Environment: PYIMAGE_PYTHON313 = a Python >= 3.13 to make the venv with
# (default: python3.13/python3.14 on PATH, else the newest pyenv 3.13+).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$HERE/../lib/common.sh"
# shellcheck source=tools/remote/lib.sh
. "$HERE/lib.sh"

BUILDGRID_VERSION=0.9.1
NGINX_STAMP="nginx-v1"
BUILDGRID_STAMP="buildgrid-$BUILDGRID_VERSION-v1"
POSTGRES_STAMP="postgresql-15-v1"
BUILDBOX_STAMP="buildbox-v1"

mkdir -p "$REMOTE_TOOLS" "$PYIMAGE_LOGS"

# nginx: the bookworm package unpacked (no postinst, so no system service is
# installed or started); only its binary is used, with our own config.
install_nginx() {
  if pyimage_stamp_ok remote-nginx "$NGINX_STAMP" && [ -x "$NGINX_BIN" ]; then return 0; fi
  local t0=$SECONDS work log="$PYIMAGE_LOGS/remote-nginx.log"
  pyimage_log "installing nginx (bookworm .deb, unpacked under $REMOTE_TOOLS/nginx)"
  work="$(mktemp -d "$REMOTE_TOOLS/.nginx.XXXXXX")"
  if ! (cd "$work" && apt-get download -q nginx) >"$log" 2>&1; then
    (apt-get update -qq && cd "$work" && apt-get download -q nginx) >>"$log" 2>&1 || {
      tail -n 5 "$log" >&2
      rm -rf "$work"
      pyimage_die "apt-get download nginx failed (needs Debian bookworm apt sources); see $log"
    }
  fi
  dpkg-deb -x "$work"/nginx_*.deb "$work/root"
  if ! "$work/root/usr/sbin/nginx" -V >>"$log" 2>&1 || ! grep -q -- --with-http_dav_module "$log"; then
    ldd "$work/root/usr/sbin/nginx" >>"$log" 2>&1 || true
    rm -rf "$work"
    pyimage_die "the unpacked nginx does not run here or lacks the WebDAV module; see $log"
  fi
  rm -rf "$REMOTE_TOOLS/nginx"
  mv "$work/root" "$REMOTE_TOOLS/nginx"
  rm -rf "$work"
  pyimage_stamp_write remote-nginx "$NGINX_STAMP"
  pyimage_log "nginx ready in $((SECONDS - t0)) s"
}

# A Python >= 3.13 (BuildGrid 0.9.1 requires it; pip on an older Python
# silently picks BuildGrid 0.4.4 instead).
find_python313() {
  local c
  for c in "${PYIMAGE_PYTHON313:-}" python3.13 python3.14 \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]* 2>/dev/null | sort -rV | sed 's:$:/bin/python3:'); do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

install_buildgrid() {
  if pyimage_stamp_ok remote-buildgrid "$BUILDGRID_STAMP" && [ -x "$BGD_BIN" ]; then return 0; fi
  local t0=$SECONDS py log="$PYIMAGE_LOGS/remote-buildgrid.log" venv="$REMOTE_TOOLS/buildgrid"
  py="$(find_python313)" || pyimage_die "BuildGrid $BUILDGRID_VERSION needs Python >= 3.13 and none was found
  (looked at \$PYIMAGE_PYTHON313, python3.13/python3.14 on PATH, ~/.pyenv/versions/3.13+).
  Install one (e.g. 'pyenv install 3.13') or set PYIMAGE_PYTHON313=/path/to/python3.13."
  pyimage_log "installing BuildGrid $BUILDGRID_VERSION (PyPI) into $venv with $py (about a minute)"
  # Built at its final path (a venv records its own path); the stamp marks it complete.
  rm -rf "$venv"
  if ! { "$py" -m venv "$venv" &&
    "$venv/bin/pip" install -q --disable-pip-version-check "buildgrid==$BUILDGRID_VERSION"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -rf "$venv"
    pyimage_die "pip install buildgrid==$BUILDGRID_VERSION failed; see $log"
  fi
  "$BGD_BIN" --help >/dev/null 2>&1 || pyimage_die "BuildGrid was installed but $BGD_BIN does not run; see $log"
  pyimage_stamp_write remote-buildgrid "$BUILDGRID_STAMP"
  pyimage_log "BuildGrid ready in $((SECONDS - t0)) s"
}

# PostgreSQL 15 server binaries (initdb, pg_ctl, postgres) for BuildGrid's
# scheduler. Installed with the system service kept stopped (policy-rc.d);
# e2e/remote only ever runs a private cluster.
install_postgres() {
  if pyimage_stamp_ok remote-postgres "$POSTGRES_STAMP" && [ -x "$PG_BIN/initdb" ]; then return 0; fi
  local log="$PYIMAGE_LOGS/remote-postgres.log" added_policy=0
  if [ ! -x "$PG_BIN/initdb" ]; then
    pyimage_log "installing PostgreSQL 15 server binaries (apt-get install postgresql-15; service not started)"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 755 /usr/sbin/policy-rc.d
      added_policy=1
    fi
    local ok=1
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15; } >"$log" 2>&1 || ok=0
    if [ "$added_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    [ "$ok" = 1 ] || {
      tail -n 20 "$log" >&2
      pyimage_die "apt-get install postgresql-15 failed; see $log"
    }
  fi
  id postgres >/dev/null 2>&1 || pyimage_die "PostgreSQL is installed but there is no 'postgres' user to run a private cluster as"
  pyimage_stamp_write remote-postgres "$POSTGRES_STAMP"
}

# buildbox (worker + runners) from Debian unstable: it needs glibc >= 2.38,
# so it goes into the harness root, where the worker runs.
install_buildbox() {
  if pyimage_stamp_ok remote-buildbox "$BUILDBOX_STAMP" && [ -x "$PYIMAGE_ROOTFS/usr/bin/buildbox-worker" ]; then return 0; fi
  [ -x "$PYIMAGE_ROOTFS/usr/bin/apt-get" ] || pyimage_die "the harness root $PYIMAGE_ROOTFS is missing: run tools/setup.sh first"
  pyimage_with_lock install_buildbox_locked
}

install_buildbox_locked() {
  local t0=$SECONDS log="$PYIMAGE_LOGS/remote-buildbox.log" was_mounted=0 ok=1
  pyimage_log "installing buildbox (Debian unstable) into the harness root (log: $log)"
  if pyimage_is_mounted "$PYIMAGE_ROOTFS/proc"; then was_mounted=1; fi
  pyimage_mount_system
  {
    remote_in_root apt-get update &&
      remote_in_root apt-get install -y buildbox &&
      remote_in_root apt-get clean
  } >"$log" 2>&1 || ok=0
  if [ "$was_mounted" = 0 ] && [ -z "$(pyimage_pids_in_root)" ]; then pyimage_unmount_all; fi
  [ "$ok" = 1 ] || {
    tail -n 20 "$log" >&2
    pyimage_die "apt-get install buildbox inside the root failed; see $log"
  }
  [ -x "$PYIMAGE_ROOTFS/usr/bin/buildbox-run-hosttools" ] || pyimage_die "buildbox is installed but buildbox-run-hosttools is missing"
  pyimage_stamp_write remote-buildbox "$BUILDBOX_STAMP"
  pyimage_log "buildbox ready in $((SECONDS - t0)) s"
}

pyimage_require_root_user
install_nginx
install_postgres
install_buildbox
install_buildgrid
