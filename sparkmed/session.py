"""Building a local SparkSession configured the way sparkmed's demo, tests and benchmarks need it.

Library code never creates sessions: it uses the DataFrame's own session (``df.sparkSession``), which
is what works under Spark Connect too. This module is for the entry points that must start Spark.
"""

from __future__ import annotations

import os
import sys

from sparkmed.spark_compat import pyspark_version

pyspark_version()  # a clear ImportError when pyspark is missing or older than 3.5

from pyspark.sql import SparkSession  # noqa: E402

# The C1-only JIT starts a local JVM ~4 s sooner but runs long jobs several times slower (measured here,
# 3M rows: KMeans(k=20, 20 iterations) > 7 min instead of 47 s; KMedoids.fit 52 s instead of 32 s), so it is
# only for short-lived test sessions: the test suite sets SPARKMED_QUICK_JVM=1 (inherited by its CLI runs).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
QUICK_JVM_ENV = "SPARKMED_QUICK_JVM"


def console_log4j_option() -> str:
    """``-Dlog4j2.configurationFile=...`` for sparkmed's own console configuration (``sparkmed/conf``):
    Spark's warnings stay, its start-up notes go."""
    from importlib.resources import files

    path = files("sparkmed") / "conf" / "log4j2-console.properties"
    return f"-Dlog4j2.configurationFile=file:{path}"


def with_java_option(conf: dict[str, str], option: str) -> dict[str, str]:
    """``conf`` with ``option`` appended to ``spark.driver.extraJavaOptions`` (the caller's options kept)."""
    out = dict(conf)
    current = out.get("spark.driver.extraJavaOptions", "").strip()
    out["spark.driver.extraJavaOptions"] = f"{current} {option}".strip()
    return out


def local_session(
    master: str = "local[2]",
    app_name: str = "sparkmed",
    *,
    shuffle_partitions: int = 4,
    driver_memory: str | None = None,
    extra_conf: dict[str, str] | None = None,
    quick_start: bool | None = None,
    quiet_start: bool = False,
) -> SparkSession:
    """Start (or reuse) a local SparkSession bound to 127.0.0.1 with the UI off.

    Executors' Python is this interpreter (``PYSPARK_PYTHON``), Arrow fallbacks are disabled so Arrow
    problems surface instead of silently running slow paths. ``quick_start`` (default: the environment
    variable ``SPARKMED_QUICK_JVM=1``) starts the JVM with the cheap JIT tier only: for tests, never for work.
    ``quiet_start`` uses sparkmed's console log4j2 configuration (:func:`console_log4j_option`).
    """
    if quick_start is None:
        quick_start = os.environ.get(QUICK_JVM_ENV) == "1"
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
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    conf = dict(extra_conf or {})
    if quick_start:
        conf = with_java_option(conf, QUICK_JVM)
    if quiet_start:
        conf = with_java_option(conf, console_log4j_option())
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
