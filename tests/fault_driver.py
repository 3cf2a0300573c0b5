"""Driver script for the executor-loss test (``tests/test_faults.py``); run it as a SUBPROCESS.

Why a subprocess: the pytest process already hosts the ``local[2]`` session of the ``spark`` fixture and one
Python process cannot host two SparkContexts. This script starts its own session on a multi-executor master
(default ``local-cluster[2,1,1024]``: two executor JVMs, so one can be killed while the other takes over),
generates seeded data in the JVM (a pure function of the row id, so lost partitions are recomputed
identically), and fits ``KMedoids`` ``--fits`` times with the same seed on the same data. The memory-bound
test reuses it in ``local[2]`` with a small ``spark.driver.maxResultSize`` (``--conf``).

Everything the test needs is printed to stdout as one line each, flushed at once:

- ``SPARKMED_APP {"app_id": ..., "master": ...}`` once the session is up;
- ``SPARKMED_PROGRESS {"fit": i, "message": "phase validate+pack done in 1.2 s"}`` for every record of the
  ``sparkmed.progress`` logger (the test kills an executor when fit 2 reports "phase validate+pack done");
- ``SPARKMED_PROBE {"refused": ..., "error": ...}`` with ``--probe-full-collect``: whether a plain
  ``collect()`` of the full data failed (the control of ``tests/test_memory_bounds.py``);
- ``SPARKMED_RESULT {"fit": i, "medoid_ids": [...], "medoid_keys": [...], "cost": ..., "seconds": ...,
  "executors": [...]}`` after each fit (``executors``: the executor ids alive at the end of the fit).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

# Must be set before pyspark starts the JVM (see /work/shared/SPARK_NOTES.md).
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from datasets import generated_blobs  # noqa: E402,F401 - the JVM-generated data (shared with the fault tests)


def emit(tag: str, payload: dict) -> None:
    """One machine-readable line on stdout, flushed so the test sees it immediately."""
    print(f"{tag} {json.dumps(payload, sort_keys=True)}", flush=True)


class _ProgressPrinter(logging.Handler):
    """Forwards ``sparkmed.progress`` records to stdout, tagged with the current fit number."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.fit = 0

    def emit(self, record: logging.LogRecord) -> None:  # noqa: D102 - logging API
        emit("SPARKMED_PROGRESS", {"fit": self.fit, "message": record.getMessage()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", default="local-cluster[2,1,1024]")
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--dim", type=int, default=4)
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--fits", type=int, default=2)
    parser.add_argument("--sample-size", type=int, default=0, help="KMedoids sampleSize (0: default)")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                        help="extra Spark conf for the session (repeatable), e.g. spark.driver.maxResultSize=2m")
    parser.add_argument("--probe-full-collect", action="store_true",
                        help="after the fits, collect the full data once and report whether Spark refused it")
    args = parser.parse_args(argv)

    from sparkmed import KMedoids
    from sparkmed.session import local_session

    printer = _ProgressPrinter()
    progress = logging.getLogger("sparkmed.progress")
    progress.setLevel(logging.INFO)
    progress.addHandler(printer)

    conf = {"spark.executor.memory": "1g"} if args.master.startswith("local-cluster") else {}
    conf.update(kv.split("=", 1) for kv in args.conf)
    spark = local_session(args.master, "sparkmed-fault-test", shuffle_partitions=4, extra_conf=conf)
    sc = spark.sparkContext
    emit("SPARKMED_APP", {"app_id": sc.applicationId, "master": sc.master})
    try:
        df = generated_blobs(spark, args.rows, args.dim, args.k, args.partitions, args.seed)
        for i in range(1, args.fits + 1):
            printer.fit = i
            t0 = time.perf_counter()
            model = KMedoids(k=args.k, seed=args.seed, idCol="id", sampleSize=args.sample_size).fit(df)
            emit("SPARKMED_RESULT", {
                "fit": i,
                "medoid_ids": [int(v) for v in model.medoidIds()],
                "medoid_keys": [int(v) for v in model._medoid_keys],
                "cost": float(model.summary.trainingCost),
                "seconds": time.perf_counter() - t0,
                "executors": sorted(e for e in sc._jsc.sc().getExecutorIds().mkString(",").split(",") if e),
            })
        if args.probe_full_collect:
            # The control of the memory-bound test: the same session must refuse the full data.
            try:
                rows = len(df.collect())
                emit("SPARKMED_PROBE", {"refused": False, "rows": rows, "error": None})
            except Exception as exc:  # noqa: BLE001 - report whatever Spark raised
                emit("SPARKMED_PROBE", {"refused": True, "rows": None, "error": str(exc)[:2000]})
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
