"""Runs tests/connect/ (the pyspark.ml scenarios through a real local Spark Connect server) in its own process.

A classic and a Connect session cannot share one Python process, and this process already holds the
classic ``local[2]`` session; the child pytest starts the Connect server, runs the same scenarios as
``test_api_classic.py`` and reports each one; a failure shows the child's output.

Determinism across modes: the child also fits the cross-mode data and seed of ``test_determinism.py`` under
Connect and writes the result to the JSON file named by ``$SPARKMED_CONNECT_DETERMINISM_JSON``; this process
fits the same data classically and requires identical medoids and costs (1e-9 relative).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_determinism import CROSS_MODE_ENV, assert_same_fit, cross_mode_fit

pytestmark = pytest.mark.connect

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def connect_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The child pytest over tests/connect/ (once per module): (completed process, the Connect fit's JSON)."""
    pytest.importorskip("grpc", reason="Spark Connect client needs pyspark[connect] (in the dev extra)")
    result = tmp_path_factory.mktemp("connect") / "connect_fit.json"
    env = {**os.environ, "SPARKMED_CONNECT_RUN": "1", "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
           CROSS_MODE_ENV: str(result)}
    env.pop("SPARK_REMOTE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(TESTS / "connect"), "-q", "-p", "no:cacheprovider", "--rootdir",
         str(TESTS.parent)],
        env=env, capture_output=True, text=True, timeout=900, cwd=TESTS.parent,
    )
    return proc, result


def test_scenarios_through_spark_connect(connect_run):
    proc, _ = connect_run
    out = proc.stdout[-15000:] + proc.stderr[-5000:]
    assert proc.returncode == 0, out
    assert " passed" in proc.stdout and "failed" not in proc.stdout, out


@pytest.mark.spark
def test_connect_fit_equals_classic_fit(spark, connect_run):
    """Same data + seed: Spark Connect and classic give identical medoid ids, keys, sizes and costs."""
    proc, result = connect_run
    assert result.exists(), "the Connect process wrote no fit result\n" + proc.stdout[-5000:] + proc.stderr[-3000:]
    connect = json.loads(result.read_text())
    classic = cross_mode_fit(spark)
    assert_same_fit(connect, classic, "Spark Connect vs classic")
    print(f"[determinism] connect vs classic: medoid ids {classic['medoid_ids']}; cost {connect['cost']!r} vs "
          f"{classic['cost']!r}")  # shown with -rP / -s
