"""Building a local SparkSession configured the way sparkmed's demo, tests and benchmarks need it.

Library code never creates sessions: it uses the DataFrame's own session (``df.sparkSession``), which
is what works under Spark Connect too. This module is for the entry points that must start Spark.
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

_FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def local_session(
    master: str = "local[2]",
    app_name: str = "sparkmed",
    *,
    shuffle_partitions: int = 4,
    driver_memory: str | None = None,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """Start (or reuse) a local SparkSession bound to 127.0.0.1 with the UI off.

    Executors' Python is this interpreter (``PYSPARK_PYTHON``), Arrow fallbacks are disabled so Arrow
    problems surface instead of silently running slow paths, and the JVM starts with the cheap JIT tier.
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.fallback.enabled", "false")
        .config("spark.driver.extraJavaOptions", _FAST_JVM)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    for key, value in (extra_conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
