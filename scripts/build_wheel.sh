#!/usr/bin/env bash
# Build dist/sparkmed-<version>-py3-none-any.whl with numba's compiled kernels inside it, so that a fresh
# install (pip install of the wheel, Databricks %pip install, a packed venv) loads them instead of compiling
# ~50 s of kernels in every Python worker of its first fit.
#
# Why each step:
# - the wheel is built from a clean copy of the sources: this tree's own __pycache__ holds whatever development
#   runs compiled (host-CPU entries, stale line numbers), which must not ship;
# - the copy's cache is filled by `sparkmed warmup` (a small real fit through local Spark: the executors'
#   serial kernels and the driver's) once for each portable CPU level this machine has (x86-64-v4, x86-64-v3),
#   the targets sparkmed compiles for at run time (sparkmed.numba_target): numba keys cached code by CPU name
#   and features, and a named level with an empty feature list is one key every machine of that level shares
#   (this machine must have at least v3: checked; without AVX-512 the wheel ships v3 only);
# - the run happens in an empty directory with PYTHONPATH on the copy, so the driver and the Python workers
#   import the copy (pyspark's daemon puts the cwd first on sys.path), and the script fails if the copy's
#   cache stayed empty.
# The cached code loads where the Python minor version and the numba version equal the build's (numba checks
# both); elsewhere numba compiles as before, correctly, at the cold cost.
#
# Usage: bash scripts/build_wheel.sh          Env: WHEEL_DIR (default dist), WARMUP_METRICS (default euclidean)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${WHEEL_DIR:-$ROOT/dist}
VENV_PY=${VENV_PY:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/src
mkdir -p "$SRC" "$WORK/run" "$OUT"
tar -c --exclude=__pycache__ --exclude='*.pyc' sparkmed pyproject.toml README.md LICENSE | tar -x -C "$SRC"

t0=$(date +%s)
# One warm-up per portable CPU level this machine has (at least x86-64-v3): numba keeps them side by side.
LEVELS=$(PYTHONPATH="$SRC" "$VENV_PY" -c "
import sys
from sparkmed.numba_target import LEVELS, chosen_cpu
have = [level for level in LEVELS if chosen_cpu(level) == level]
if 'x86-64-v3' not in have:
    sys.exit('build_wheel: this CPU lacks the x86-64-v3 features: its cache would not be portable')
print(' '.join(have))")
METRICS=()
for m in ${WARMUP_METRICS:-euclidean}; do METRICS+=(--metric "$m"); done
for level in $LEVELS; do
  echo "build_wheel: warming the kernels for $level"
  (cd "$WORK/run" && env -u NUMBA_CACHE_DIR -u NUMBA_CPU_NAME -u NUMBA_CPU_FEATURES SPARKMED_NUMBA_CPU="$level" \
    PYTHONPATH="$SRC" SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} PYSPARK_PYTHON="$VENV_PY" \
    "$VENV_PY" -m sparkmed.cli warmup "${METRICS[@]}")
done
shopt -s nullglob
CACHED=("$SRC"/sparkmed/kernels/__pycache__/*.nbi)
if [ ${#CACHED[@]} -eq 0 ]; then
  echo "build_wheel: the warm-up left no numba cache in the copy ($SRC/sparkmed/kernels/__pycache__)" >&2
  exit 1
fi
rm -f "$OUT"/sparkmed-*.whl
"$VENV_PY" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$OUT" "$SRC"
WHEEL=$(ls "$OUT"/sparkmed-*.whl)
echo "build_wheel: $WHEEL ($(du -h "$WHEEL" | cut -f1), ${#CACHED[@]} cached kernels for $LEVELS) in $(( $(date +%s) - t0 )) s"
