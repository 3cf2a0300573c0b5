#!/usr/bin/env bash
# Create .venv (if missing) and install sparkmed with its test dependencies into it.
# Needs only python3 (3.11: the version pyproject.toml declares) and, for Spark, a Java 17 runtime on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
# Compile the numba kernels of a fit into the cache now, not in the first fit (~60 s per fresh Python worker):
# a small local fit through Spark (sparkmed.warmup). SPARKMED_SKIP_WARMUP=1 skips it.
if [ "${SPARKMED_SKIP_WARMUP:-0}" != "1" ]; then
  SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1} PYSPARK_PYTHON=$PWD/.venv/bin/python .venv/bin/sparkmed warmup
fi
echo "sparkmed: environment ready in .venv ($(.venv/bin/python --version))"
