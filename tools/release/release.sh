#!/usr/bin/env bash
# Cuts a rules_pyimage release into OUTDIR (docs/release.md):
#
#   tools/release/release.sh --base-url URL X.Y.Z OUTDIR
#
#   pyimage-X.Y.Z-<platform>       the `pyimage` tool, one per platform this machine
#                                  can build (x86_64 Linux: statically linked)
#   rules_pyimage-X.Y.Z.tar.gz     the module's files (prefix rules_pyimage-X.Y.Z/),
#                                  its py/private/versions.bzl naming the binaries above
#   versions.bzl                   that table, to commit as py/private/versions.bzl
#   SHA256SUMS, INTEGRITY          sha256sum lines; `sha256-<base64> NAME` lines
#   registry/                      a Bazel registry entry for X.Y.Z made from .bcr/
#                                  (MODULE.bazel, source.json, presubmit.yml, metadata.json)
#
# URL is where the release files will be downloaded from (binaries and archive:
# URL/<file name>), e.g. https://github.com/OWNER/rules_pyimage/releases/download/vX.Y.Z.
# Options: --platforms P1,P2 (default: every platform this machine can build);
# --archive-url U (source.json's url; default URL/rules_pyimage-X.Y.Z.tar.gz);
# --prebuilt DIR: also ship the pyimage-X.Y.Z-<platform> files in DIR (built by this
# script on other machines with --platforms) in the table and the archive.
# Environment: PYIMAGE_RELEASE_TARGET_DIR, cargo's target dir for the release builds
# (default <checkout>/target/release-dist); SOURCE_DATE_EPOCH (default: the last
# commit's time) for the archive's mtimes.
#
# Same sources + same Rust toolchain => byte-identical files, wherever the checkout,
# the target dir, CARGO_HOME and RUSTUP_HOME are.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../.." && pwd -P)"

die() {
  printf 'release.sh: error: %s\n' "$*" >&2
  exit 1
}
log() { printf 'release.sh: %s\n' "$*" >&2; }
usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

BASE_URL="" ARCHIVE_URL="" PLATFORMS="" PREBUILT_DIR=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --base-url) BASE_URL="${2:?--base-url needs a value}"; shift 2 ;;
    --base-url=*) BASE_URL="${1#*=}"; shift ;;
    --archive-url) ARCHIVE_URL="${2:?--archive-url needs a value}"; shift 2 ;;
    --archive-url=*) ARCHIVE_URL="${1#*=}"; shift ;;
    --prebuilt) PREBUILT_DIR="${2:?--prebuilt needs a value}"; shift 2 ;;
    --prebuilt=*) PREBUILT_DIR="${1#*=}"; shift ;;
    --platforms) PLATFORMS="${2:?--platforms needs a value}"; shift 2 ;;
    --platforms=*) PLATFORMS="${1#*=}"; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[ "${#ARGS[@]}" = 2 ] || { usage >&2; die "expected X.Y.Z OUTDIR"; }
VERSION="${ARGS[0]}"
OUT="${ARGS[1]}"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "version '$VERSION' is not X.Y.Z (optionally -suffix)"
[ -n "$BASE_URL" ] || die "--base-url is required: where the release files will be downloaded from, e.g.
  --base-url https://github.com/OWNER/rules_pyimage/releases/download/v$VERSION"
BASE_URL="${BASE_URL%/}"
ARCHIVE="rules_pyimage-$VERSION.tar.gz"
[ -n "$ARCHIVE_URL" ] || ARCHIVE_URL="$BASE_URL/$ARCHIVE"
command -v cargo >/dev/null || die "cargo is not on PATH (the release builds pyimage from rust/)"
command -v python3 >/dev/null || die "python3 is not on PATH"
command -v gzip >/dev/null || die "gzip is not on PATH"

host_platforms() {
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) echo x86_64-unknown-linux-gnu ;;
    Linux/aarch64) echo aarch64-unknown-linux-gnu ;;
    Darwin/x86_64) echo x86_64-apple-darwin ;;
    Darwin/arm64) echo aarch64-apple-darwin ;;
    *) die "no release platform for $(uname -s)/$(uname -m)" ;;
  esac
}
[ -n "$PLATFORMS" ] || PLATFORMS="$(host_platforms)"
IFS=, read -r -a PLATFORM_LIST <<<"$PLATFORMS"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd -P)"
if [ -n "$PREBUILT_DIR" ]; then
  [ -d "$PREBUILT_DIR" ] || die "--prebuilt $PREBUILT_DIR is not a directory"
  PREBUILT_DIR="$(cd "$PREBUILT_DIR" && pwd -P)"
  [ "$PREBUILT_DIR" != "$OUT" ] || die "--prebuilt must name another directory than OUTDIR"
fi
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/rules_pyimage-release.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
# The archive's mtimes. The binaries are built with a fixed SOURCE_DATE_EPOCH
# instead: the C build of zstd reruns whenever it changes.
ARCHIVE_MTIME="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}"
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  log "warning: the checkout has uncommitted changes; they are part of this release"
fi

# ---- 1. the module's files, copied to a staging tree -------------------------------
# Allow-list: what a user of the module needs. No e2e/, no target/, no harness tests.
SRC="$STAGE/rules_pyimage-$VERSION"
git -C "$REPO" ls-files -z --cached -- \
  MODULE.bazel BUILD.bazel LICENSE README.md CHANGELOG.md Cargo.toml Cargo.lock \
  'docs/*.md' py rust tools/image/BUILD.bazel tools/image/extensions.bzl |
  while IFS= read -r -d '' f; do
    [ -f "$REPO/$f" ] || continue # deleted in the work tree
    mkdir -p "$SRC/$(dirname "$f")"
    cp -p "$REPO/$f" "$SRC/$f"
  done
[ -f "$SRC/MODULE.bazel" ] && [ -f "$SRC/LICENSE" ] || die "MODULE.bazel or LICENSE missing from $REPO"
# The module declares the release's version.
python3 - "$SRC/MODULE.bazel" "$VERSION" <<'PY'
import re, sys
path, version = sys.argv[1:]
text = open(path, encoding="utf-8").read()
new, n = re.subn(r'(module\(\s*name = "rules_pyimage",\s*version = )"[^"]*"', r'\g<1>"%s"' % version, text, count=1)
if n != 1:
    sys.exit("release.sh: MODULE.bazel: cannot find module(name = \"rules_pyimage\", version = ...)")
open(path, "w", encoding="utf-8").write(new)
PY

# ---- 2. the binaries, built from the staged sources --------------------------------
TARGET_DIR="${PYIMAGE_RELEASE_TARGET_DIR:-$REPO/target/release-dist}"
mkdir -p "$TARGET_DIR"
TARGET_DIR="$(cd "$TARGET_DIR" && pwd -P)"
# The Rust sources are built from a copy at a fixed path next to the target dir
# (mtimes kept), so a second release from the same checkout is an incremental
# no-op build; the path itself never reaches the binary (remapped).
BUILD_SRC="$TARGET_DIR.src"
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
RUSTUP_HOME_DIR="${RUSTUP_HOME:-$HOME/.rustup}"

build_platform() {
  local platform="$1" flags cflags
  # Paths that would otherwise end up in the binary (panic locations, C asserts)
  # are rewritten to fixed ones; no build id; one codegen unit, fat LTO, stripped.
  flags="--remap-path-prefix=$BUILD_SRC=/rules_pyimage --remap-path-prefix=$CARGO_HOME_DIR=/cargo"
  flags+=" --remap-path-prefix=$RUSTUP_HOME_DIR=/rustup --remap-path-prefix=$TARGET_DIR=/target"
  flags+=" -C link-arg=-Wl,--build-id=none"
  cflags="-ffile-prefix-map=$BUILD_SRC=/rules_pyimage -ffile-prefix-map=$CARGO_HOME_DIR=/cargo -ffile-prefix-map=$TARGET_DIR=/target"
  case "$platform" in
    *-linux-gnu) flags+=" -C target-feature=+crt-static" ;; # runs on any Linux libc
  esac
  # Cargo's mtime check can call a build of other sources fresh (another checkout, an
  # older commit): rebuild the pyimage crate unless the last build was of these sources.
  local stamp="$TARGET_DIR/$platform/.pyimage-sources" sources
  sources="$(tree_digest "$BUILD_SRC")"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$sources" ]; then
    rm -rf "$TARGET_DIR/$platform"/release/.fingerprint/pyimage-*
  fi
  log "cargo build --release --target $platform (target dir $TARGET_DIR)"
  (
    cd "$BUILD_SRC"
    # --target: RUSTFLAGS apply to the tool only, not to build scripts.
    RUSTFLAGS="$flags" CFLAGS="$cflags" SOURCE_DATE_EPOCH=315532800 \
      CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
      CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_PROFILE_RELEASE_DEBUG=0 \
      CARGO_PROFILE_RELEASE_INCREMENTAL=false CARGO_INCREMENTAL=0 \
      cargo build --release --locked -p pyimage --target "$platform" --target-dir "$TARGET_DIR"
  ) || die "cargo build for $platform failed (see above)"
  printf '%s\n' "$sources" >"$stamp"
  cp -f "$TARGET_DIR/$platform/release/pyimage" "$OUT/pyimage-$VERSION-$platform"
  chmod 0755 "$OUT/pyimage-$VERSION-$platform"
  case "$platform" in
    x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu)
      if command -v file >/dev/null && ! file -b "$OUT/pyimage-$VERSION-$platform" | grep -q 'static'; then
        die "pyimage-$VERSION-$platform is not statically linked: $(file -b "$OUT/pyimage-$VERSION-$platform")"
      fi
      ;;
  esac
}

# sha256 over the relative paths and contents of every file under $1.
tree_digest() {
  python3 - "$1" <<'PY'
import hashlib, os, sys
root, h = sys.argv[1], hashlib.sha256()
for dirpath, dirnames, filenames in sorted(os.walk(root)):
    dirnames.sort()
    for name in sorted(filenames):
        path = os.path.join(dirpath, name)
        h.update(os.path.relpath(path, root).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
print(h.hexdigest())
PY
}

sri() { python3 -c 'import base64, hashlib, sys; print("sha256-" + base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$1"; }

rm -f "$OUT"/pyimage-"$VERSION"-*
(
  # One release build at a time per target dir (they share $BUILD_SRC).
  if command -v flock >/dev/null; then
    exec 8>>"$TARGET_DIR.lock"
    flock 8
  fi
  rm -rf "$BUILD_SRC"
  mkdir -p "$BUILD_SRC"
  cp -pR "$SRC/Cargo.toml" "$SRC/Cargo.lock" "$SRC/rust" "$BUILD_SRC/"
  for p in "${PLATFORM_LIST[@]}"; do build_platform "$p"; done
)

# Binaries of other platforms, built elsewhere.
ALL_PLATFORMS=("${PLATFORM_LIST[@]}")
if [ -n "$PREBUILT_DIR" ]; then
  for f in "$PREBUILT_DIR"/pyimage-"$VERSION"-*; do
    [ -f "$f" ] || continue
    p="${f##*/pyimage-"$VERSION"-}"
    case " ${ALL_PLATFORMS[*]} " in *" $p "*) continue ;; esac
    grep -q "\"$p\":" "$REPO/py/private/repos.bzl" || die "$f: unknown platform $p (not in PLATFORMS of py/private/repos.bzl)"
    cp -f "$f" "$OUT/pyimage-$VERSION-$p"
    chmod 0755 "$OUT/pyimage-$VERSION-$p"
    ALL_PLATFORMS+=("$p")
  done
fi

# ---- 3. the versions table, in the archive and next to it ---------------------------
ENTRIES="$STAGE/entries.txt"
: >"$ENTRIES"
for p in "${ALL_PLATFORMS[@]}"; do
  printf '%s %s %s\n' "$p" "$BASE_URL/pyimage-$VERSION-$p" "$(sri "$OUT/pyimage-$VERSION-$p")" >>"$ENTRIES"
done
python3 "$HERE/versions_table.py" "$REPO/py/private/versions.bzl" "$VERSION" "$ENTRIES" >"$SRC/py/private/versions.bzl"
cp "$SRC/py/private/versions.bzl" "$OUT/versions.bzl"

# ---- 4. the source archive ------------------------------------------------------------
python3 "$HERE/make_archive.py" "$STAGE" "rules_pyimage-$VERSION" "$ARCHIVE_MTIME" | gzip -n -9 >"$OUT/$ARCHIVE"

# ---- 5. checksums and the registry entry ------------------------------------------------
(
  cd "$OUT"
  files=("$ARCHIVE")
  for p in "${ALL_PLATFORMS[@]}"; do files+=("pyimage-$VERSION-$p"); done
  sha256sum "${files[@]}" >SHA256SUMS
  for f in "${files[@]}"; do printf '%s %s\n' "$(sri "$f")" "$f"; done >INTEGRITY
)
rm -rf "$OUT/registry"
python3 "$HERE/registry_entry.py" "$REPO/.bcr" "$OUT/registry" "$VERSION" "$SRC/MODULE.bazel" \
  "$ARCHIVE_URL" "$(sri "$OUT/$ARCHIVE")" "rules_pyimage-$VERSION"

log "done: $OUT"
cat "$OUT/INTEGRITY"
