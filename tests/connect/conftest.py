"""A real Spark Connect session for the scenarios in this folder.

These tests run only in their own pytest process (``tests/test_connect.py`` starts it with
``SPARKMED_CONNECT_RUN=1``): a classic and a Connect session cannot both come from ``SparkSession.builder``
in one process. ``SparkSession.builder.remote("local[2]")`` starts a local Spark Connect server (the
server jar ships in the pip pyspark) bound to 127.0.0.1 and connects to it over gRPC.
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: api_scenarios

if os.environ.get("SPARKMED_CONNECT_RUN") != "1":
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.remote("local[2]")  # binds to SPARK_LOCAL_IP; static confs can't be set here
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    assert type(session).__module__.startswith("pyspark.sql.connect"), type(session)
    yield session
    session.stop()
