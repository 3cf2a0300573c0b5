#!/usr/bin/env bash
# Create .venvs/pyspark-<version>: a venv with that pyspark installed FIRST, then sparkmed (editable) with its
# test, report and mlflow extras — as on a platform that provides its own pyspark. Fails if installing
# sparkmed replaced that pyspark. Idempotent: an existing, complete venv is reused.
# Used by tests/test_spark_lines.py (the compatibility suite); usage: scripts/spark_line_env.sh 3.5.9
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:?usage: scripts/spark_line_env.sh <pyspark version>}
PY=${PYTHON:-python3}
VENV=.venvs/pyspark-$VERSION
if [ -f "$VENV/.complete" ]; then echo "$VENV"; exit 0; fi
rm -rf "$VENV"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --upgrade pip
# 4.x wheels ship the Spark Connect server, so those venvs get the Connect client too (3.5's server is on Maven).
case "$VERSION" in
  3.*) "${PIP[@]}" "pyspark==$VERSION" ;;
  *) "${PIP[@]}" "pyspark[connect]==$VERSION" ;;
esac
"${PIP[@]}" -e ".[test,report,mlflow]"
GOT=$("$VENV/bin/python" -c "import pyspark; print(pyspark.__version__)")
if [ "$GOT" != "$VERSION" ]; then
  echo "installing sparkmed replaced pyspark $VERSION with $GOT" >&2; exit 1
fi
touch "$VENV/.complete"
echo "$VENV"
