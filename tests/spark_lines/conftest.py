"""Tests that run only inside the compatibility suite's child pytest (``tests/test_spark_lines.py`` starts it
in a venv of an older pyspark line with ``SPARKMED_SPARK_LINE_RUN=1``); the ``spark`` fixture is the one of
``tests/conftest.py``."""

from __future__ import annotations

import os

if os.environ.get("SPARKMED_SPARK_LINE_RUN") != "1":
    collect_ignore_glob = ["test_*.py"]
