#!/usr/bin/env bash
# Layer-writing benchmark: pyimage vs GNU tar, bsdtar, tar|gzip -6, tar|pigz -6, tar|zstd -3 -T0,
# and pyimage merge of 20 per-package layers vs re-tarring them. Prints medians, sizes and
# ratios side by side; results and the command are recorded in docs/performance.md.
#
#   tools/bench/layer_bench.sh            # all cases, RUNS=5 timed runs each after 1 warm-up
#   RUNS=3 tools/bench/layer_bench.sh     # fewer runs
#   PYIMAGE_BENCH_CACHE=/tmp/b tools/bench/layer_bench.sh   # other cache dir (default /var/cache/rules_pyimage/bench)
#
# Needs: cargo, python3 with pip (first run only), hyperfine, GNU tar, bsdtar, gzip, pigz, zstd
# (Debian: apt-get install hyperfine libarchive-tools pigz zstd).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
CACHE="${PYIMAGE_BENCH_CACHE:-/var/cache/rules_pyimage/bench}"
RUNS="${RUNS:-5}"
export PYIMAGE_BENCH_CACHE="$CACHE"

for tool in hyperfine tar bsdtar gzip pigz zstd python3; do
  command -v "$tool" >/dev/null || { echo "layer_bench: missing $tool (apt-get install hyperfine libarchive-tools pigz zstd)" >&2; exit 1; }
done

"$here/prepare_trees.sh"
(cd "$repo" && cargo build --release --quiet --bin pyimage)
BIN="$repo/target/release/pyimage"

W="$CACHE/work"
rm -rf "$W"
mkdir -p "$W/json" "$W/out"
O="$W/out"
SP="$CACHE/site-packages"

# Same determinism work for GNU tar as pyimage does: sorted names, numeric owner 0, fixed mtime.
GTAR="tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime"

bench() { # bench NAME TREE_LABEL -- hyperfine args...
  local name="$1"; shift
  hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$W/json/$name.json" "$@" >"$W/json/$name.log" 2>&1 \
    || { cat "$W/json/$name.log" >&2; exit 1; }
}

sizes_file="$W/json/sizes.txt"
: >"$sizes_file"
size_of() { stat -c %s "$1"; }

for tree in site-packages small; do
  src="$CACHE/$tree"
  echo "== $tree: $(find "$src" -type f | wc -l) files, $(du -sb "$src" | cut -f1) bytes" >&2
  P="$BIN layer --tree $src=/app/site-packages"
  bench "$tree-none" \
    -n "pyimage none" "$P --compression none --output $O/p.tar --descriptor $O/p.json" \
    -n "GNU tar" "$GTAR -cf $O/t.tar -C $src ." \
    -n "bsdtar" "bsdtar --uid 0 --gid 0 -cf $O/b.tar -C $src ."
  echo "$tree none pyimage $(size_of "$O/p.tar")" >>"$sizes_file"
  echo "$tree none tar $(size_of "$O/t.tar")" >>"$sizes_file"
  echo "$tree none bsdtar $(size_of "$O/b.tar")" >>"$sizes_file"

  bench "$tree-gzip" \
    -n "pyimage gzip-6" "$P --compression gzip --level 6 --output $O/p.tar.gz --descriptor $O/pg.json" \
    -n "pyimage gzip-6 1 thread" "$P --compression gzip --level 6 --threads 1 --output $O/p1.tar.gz --descriptor $O/pg1.json" \
    -n "tar | gzip -6" "$GTAR -cf - -C $src . | gzip -6 -n > $O/t.tar.gz" \
    -n "tar | pigz -6" "$GTAR -cf - -C $src . | pigz -6 -n > $O/t.pigz.tar.gz"
  echo "$tree gzip pyimage $(size_of "$O/p.tar.gz")" >>"$sizes_file"
  echo "$tree gzip pyimage-1t $(size_of "$O/p1.tar.gz")" >>"$sizes_file"
  echo "$tree gzip gzip $(size_of "$O/t.tar.gz")" >>"$sizes_file"
  echo "$tree gzip pigz $(size_of "$O/t.pigz.tar.gz")" >>"$sizes_file"

  bench "$tree-zstd" \
    -n "pyimage zstd-3" "$P --compression zstd --level 3 --output $O/p.tar.zst --descriptor $O/pz.json" \
    -n "tar | zstd -3 -T0" "$GTAR -cf - -C $src . | zstd -q -3 -T0 > $O/t.tar.zst"
  echo "$tree zstd pyimage $(size_of "$O/p.tar.zst")" >>"$sizes_file"
  echo "$tree zstd zstd $(size_of "$O/t.tar.zst")" >>"$sizes_file"
done

# Merge: the 20 largest top-level entries of site-packages, each with its *.dist-info, as 20
# per-package gzip layers built beforehand (not timed); then merge them vs build the same
# content again from the sources.
mapfile -t pkgs < <(cd "$SP" && du -s --block-size=1 -- */ 2>/dev/null | sed 's:/$::' | grep -v -e '\.dist-info$' -e '^bin$' | sort -k1,1nr -k2 | head -20 | cut -f2)
merge_args=()
retar_args=()
retar_dirs=()
for p in "${pkgs[@]}"; do
  base="${p%/}"
  trees=(--tree "$SP/$base=/app/site-packages/$base")
  retar_dirs+=("$base")
  # Its dist-info directories (name-version.dist-info, case-insensitive prefix match).
  while IFS= read -r di; do
    [[ -n "$di" ]] || continue
    trees+=(--tree "$SP/$di=/app/site-packages/$di")
    retar_dirs+=("$di")
  done < <(find "$SP" -mindepth 1 -maxdepth 1 -type d -iname "${base}-*.dist-info" -printf '%f\n' | LC_ALL=C sort)
  "$BIN" layer "${trees[@]}" --package "$base" --compression gzip --level 6 \
    --output "$W/pkg-$base.tar.gz" --descriptor "$W/pkg-$base.json"
  merge_args+=("$W/pkg-$base.tar.gz=$W/pkg-$base.json")
  retar_args+=("${trees[@]}")
done
printf '%s\n' "${merge_args[@]}" >"$W/merge.args"
echo "== merge of ${#pkgs[@]} per-package layers: ${pkgs[*]}" >&2
bench "merge" \
  -n "pyimage merge 20" "$BIN merge --output $O/m.tar.gz --descriptor $O/m.json ${merge_args[*]}" \
  -n "pyimage re-tar 20 (gzip-6)" "$BIN layer ${retar_args[*]} --compression gzip --level 6 --output $O/r.tar.gz --descriptor $O/r.json" \
  -n "tar | gzip -6 of the 20" "$GTAR -cf - -C $SP ${retar_dirs[*]} | gzip -6 -n > $O/rt.tar.gz" \
  -n "tar | pigz -6 of the 20" "$GTAR -cf - -C $SP ${retar_dirs[*]} | pigz -6 -n > $O/rp.tar.gz"
echo "merge merge pyimage $(size_of "$O/m.tar.gz")" >>"$sizes_file"
echo "merge retar pyimage $(size_of "$O/r.tar.gz")" >>"$sizes_file"

# The merged layer must read the same as the re-tarred one in GNU tar.
if ! diff <(tar -tzf "$O/m.tar.gz" | sort) <(tar -tzf "$O/r.tar.gz" | sort) >/dev/null; then
  echo "layer_bench: merged and re-tarred layers list different paths" >&2
fi

python3 "$here/summarize.py" "$W/json" "$CACHE"
