#!/usr/bin/env bash
# Build the sparkmed wheel, install it into a fresh venv, warm its numba cache and venv-pack it to
# build/pack/env.tar.gz, for `spark-submit --archives build/pack/env.tar.gz#environment` (Spark's "Python
# package management" docs, venv-pack section).
#
# Why each step:
# - the executors need sparkmed and its numeric stack (numpy, numba, pyarrow, pandas) at the SAME versions as
#   the driver (cloudpickled closures and numpy arrays travel between them): they are pinned from .venv;
# - pyspark itself is NOT packed: every Spark executor already puts $SPARK_HOME/python/lib/pyspark.zip on its
#   Python workers' path (this saves ~450 MB of jars in the archive);
# - the wheel (scripts/build_wheel.sh) carries numba's cache per portable CPU level (x86-64-v4, v3), so
#   the unpacked archive loads the kernels on any executor of those levels instead of compiling them; a small local fit
#   whose Python workers ARE the new venv then checks that the executors import the packed sparkmed (and
#   compiles whatever the wheel lacked). Read-only unpacking: see sparkmed/numba_target.py.
#
# Usage: bash scripts/pack_env.sh [--force]     (re-uses an archive whose inputs have not changed)
# Env:   PACK_DIR (default build/pack), PYTHON (base interpreter, default: the one .venv was made from)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PACK_DIR=${PACK_DIR:-$ROOT/build/pack}
VENV_PY=$ROOT/.venv/bin/python
BASE_PY=${PYTHON:-$("$VENV_PY" -c 'import sys; print(sys._base_executable)')}
FORCE=${1:-}
mkdir -p "$PACK_DIR"

# Stamp of everything that goes into the archive: sources, pyproject and the pinned dependency versions.
PINS=$("$VENV_PY" - <<'EOF'
from importlib.metadata import version
print(" ".join(f"{p}=={version(p)}" for p in ("numpy", "numba", "llvmlite", "pyarrow", "pandas")))
EOF
)
STAMP=$( (cat pyproject.toml; echo "$PINS"; "$BASE_PY" --version; \
          find sparkmed -name '*.py' -print0 | sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1)
if [ "$FORCE" != "--force" ] && [ -f "$PACK_DIR/env.tar.gz" ] && [ "$(cat "$PACK_DIR/env.stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "pack_env: $PACK_DIR/env.tar.gz is up to date"
  exit 0
fi

t0=$(date +%s)
echo "pack_env: building the wheel"
rm -rf "$PACK_DIR/wheel" "$PACK_DIR/venv" "$PACK_DIR/env.tar.gz" "$PACK_DIR/env.stamp"
# build_wheel.sh: a clean copy of the sources, with numba's kernels compiled for each portable CPU level inside.
WHEEL_DIR="$PACK_DIR/wheel" VENV_PY="$VENV_PY" bash "$ROOT/scripts/build_wheel.sh"
WHEEL=$(ls "$PACK_DIR"/wheel/sparkmed-*.whl)

echo "pack_env: fresh venv with $(basename "$WHEEL") and $PINS"
"$BASE_PY" -m venv "$PACK_DIR/venv"
PIP=("$PACK_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
# shellcheck disable=SC2086
"${PIP[@]}" $PINS
"${PIP[@]}" --no-deps "$WHEEL"
echo "pack_env: installed at $(( $(date +%s) - t0 )) s"

echo "pack_env: warming the numba cache with a small local fit (workers = the new venv's python)"
WARM=$(mktemp -d)
# Run from an empty directory: `python -m pyspark.daemon` puts the cwd first on sys.path, and the repo's own
# sparkmed/ must not shadow the installed wheel in the workers.
(cd "$WARM" && SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$PACK_DIR/venv/bin/python" "$VENV_PY" - <<'EOF'
import numpy as np
import pandas as pd
from pyspark.sql import SparkSession

spark = (SparkSession.builder.master("local[2]").appName("sparkmed-pack-warmup")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
# The executors' kernels come from the packed wheel; make sure of it before warming.
where = spark.range(1).rdd.map(lambda _: __import__("sparkmed").__file__).collect()[0]
assert "/build/" in where or "pack" in where, where
from sparkmed import KMedoids  # driver side: the repo's editable install, same code

rng = np.random.default_rng(0)
x = np.concatenate([rng.normal(c, 1.0, size=(1500, 4)) for c in (-6, 0, 6)])
df = spark.createDataFrame(pd.DataFrame({"id": np.arange(len(x)), "features": list(x)})).repartition(2)
model = KMedoids(k=3, seed=1, idCol="id", distanceCol="distance").fit(df)
model.transform(df).agg({"distance": "sum"}).collect()
spark.stop()
print("warm-up fit cost", model.summary.trainingCost)
EOF
)
rm -rf "$WARM"
echo "pack_env: warmed at $(( $(date +%s) - t0 )) s"
NBI=$(find "$PACK_DIR/venv" -path '*sparkmed*' -name '*.nbi' | wc -l)
echo "pack_env: $NBI numba cache index files in the venv"

echo "pack_env: venv-pack"
# Test suites and headers are not needed on executors; level-1 gzip packs ~3x faster than the default for a few
# more MB (the archive travels over the cluster's network once per executor).
"$ROOT/.venv/bin/venv-pack" -q -p "$PACK_DIR/venv" -o "$PACK_DIR/env.tar.gz" --compress-level 1 \
  --exclude 'lib/python*/site-packages/pip/*' --exclude 'lib/python*/site-packages/*/tests/*' \
  --exclude 'lib/python*/site-packages/pyarrow/include/*' --exclude 'lib/python*/site-packages/pyarrow/src/*'
echo "pack_env: packed at $(( $(date +%s) - t0 )) s"
echo "$STAMP" > "$PACK_DIR/env.stamp"
echo "pack_env: $PACK_DIR/env.tar.gz ($(du -h "$PACK_DIR/env.tar.gz" | cut -f1)) in $(( $(date +%s) - t0 )) s"
