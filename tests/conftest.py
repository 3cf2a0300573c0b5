"""Shared pytest fixtures: one real local SparkSession for the whole run."""

from __future__ import annotations

import os
import sys

import pytest

import sparkmed  # noqa: F401  (first: sets numba's CPU target before any test module imports numba)

# Spark must bind to loopback and start executors' Python from this venv (see shared/SPARK_NOTES.md).
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
# Test JVMs (this one and every CLI subprocess) start with the quick C1-only JIT (sparkmed.session).
os.environ["SPARKMED_QUICK_JVM"] = "1"


@pytest.fixture(scope="session")
def spark():
    """A real `local[2]` SparkSession (UI off, few shuffle partitions), shared by all Spark tests."""
    from sparkmed.session import local_session

    session = local_session("local[2]", app_name="sparkmed-tests")
    yield session
    session.stop()
