#!/usr/bin/env bash
# Prepares (once, cached) the benchmark inputs for tools/bench/layer_bench.sh:
#   $CACHE/site-packages : pip install --target of numpy pandas scipy fastapi pydantic sqlalchemy requests
#   $CACHE/small         : synthetic tree of 20,000 small files (deterministic contents)
# CACHE defaults to /var/cache/rules_pyimage/bench (outside the repository).
set -euo pipefail
CACHE="${PYIMAGE_BENCH_CACHE:-/var/cache/rules_pyimage/bench}"
mkdir -p "$CACHE"
PY="${PYTHON:-python3}"

if [[ ! -f "$CACHE/site-packages.stamp" ]]; then
  rm -rf "$CACHE/site-packages"
  "$PY" -m pip install --quiet --no-compile --disable-pip-version-check \
    --target "$CACHE/site-packages" \
    numpy pandas scipy fastapi pydantic sqlalchemy requests
  # pip leaves no .pyc with --no-compile; drop any __pycache__ anyway so runs compare like with like.
  find "$CACHE/site-packages" -name __pycache__ -type d -prune -exec rm -rf {} +
  date -u +%FT%TZ > "$CACHE/site-packages.stamp"
fi

if [[ ! -f "$CACHE/small.stamp" ]]; then
  rm -rf "$CACHE/small"
  "$PY" - "$CACHE/small" <<'PYEOF'
import os, sys, random
root = sys.argv[1]
rng = random.Random(20000)
words = [b"import os\n", b"def f(x):\n    return x + 1\n", b"# comment line\n", b"CONST = 42\n",
         b"class A:\n    pass\n", b"print('hello')\n"]
for i in range(20000):
    d = os.path.join(root, "pkg%03d" % (i // 200), "mod%02d" % ((i // 20) % 10))
    os.makedirs(d, exist_ok=True)
    n = rng.randint(5, 120)
    with open(os.path.join(d, "file%05d.py" % i), "wb") as f:
        f.write(b"".join(rng.choice(words) for _ in range(n)))
PYEOF
  date -u +%FT%TZ > "$CACHE/small.stamp"
fi
echo "site-packages: $(find "$CACHE/site-packages" -type f | wc -l) files, $(du -sh "$CACHE/site-packages" | cut -f1)"
echo "small:         $(find "$CACHE/small" -type f | wc -l) files, $(du -sh "$CACHE/small" | cut -f1)"
