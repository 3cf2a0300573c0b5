"""Runs tests/connect/ (the pyspark.ml scenarios through a real local Spark Connect server) in its own process.

A classic and a Connect session cannot share one Python process, and this process already holds the
classic ``local[2]`` session; the child pytest starts the Connect server, runs the same scenarios as
``test_api_classic.py`` and reports each one; a failure shows the child's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.connect

TESTS = Path(__file__).parent


def test_scenarios_through_spark_connect():
    pytest.importorskip("grpc", reason="Spark Connect client needs pyspark[connect] (in the dev extra)")
    env = {**os.environ, "SPARKMED_CONNECT_RUN": "1", "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    env.pop("SPARK_REMOTE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(TESTS / "connect"), "-q", "-p", "no:cacheprovider", "--rootdir",
         str(TESTS.parent)],
        env=env, capture_output=True, text=True, timeout=900, cwd=TESTS.parent,
    )
    out = proc.stdout[-15000:] + proc.stderr[-5000:]
    assert proc.returncode == 0, out
    assert " passed" in proc.stdout and "failed" not in proc.stdout, out
