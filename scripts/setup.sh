#!/usr/bin/env bash
# Create .venv (if missing) and install sparkmed with its test dependencies into it.
# Needs only python3 (>= 3.10) and, for Spark, a Java 17 runtime on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
echo "sparkmed: environment ready in .venv ($(.venv/bin/python --version))"
