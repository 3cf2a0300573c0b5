"""Fit k-medoids to N rows (default 20M) with a 1 GB driver, and print the time and the driver's peak memory.

The point: the driver holds only samples and k × d medoids, never the data. So the data are generated in the
JVM (``spark.range`` + hash-based features: each value is a function of the seed, the row id and the
coordinate; nothing passes through the driver), the driver gets ``spark.driver.memory=1g``, and the fit runs
on ``local-cluster[2,1,2048]`` — two real executor JVMs of 2 GB each, so the data live in executors and not
in the driver JVM as they would in ``local`` mode (``--master local[2]`` is accepted for comparison).

Prints phase progress, then one line ``MEMORY_BOUND_RESULT {json}`` with the rows, settings, wall times,
cost, and the peak resident set size (``VmHWM``) of the driver's Python process (and its RSS just before the
big fit, after a small warm-up fit has loaded every import and compiled kernel), of the driver JVM and of
each executor JVM (read from /proc before the session stops; Linux only).

    .venv/bin/python scripts/memory_bound_fit.py                 # 20M rows, d=8, k=10
    .venv/bin/python scripts/memory_bound_fit.py --rows 2000000  # what tests/test_memory_bounds.py runs
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import generated_blobs  # noqa: E402,F401 - the JVM-generated data (shared with the fault tests)


def _proc_status(pid: int, field: str) -> int | None:
    """A ``kB`` field of /proc/<pid>/status (e.g. VmHWM, the peak RSS) in bytes, or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> list[str]:
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
    except OSError:
        return []


def _descendants(root: int) -> list[int]:
    """All live descendants of process ``root`` (from /proc/*/stat parent links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def memory_report(app_id: str) -> dict:
    """Peak RSS (bytes) of this Python driver, of its driver JVM and of the application's executor JVMs."""
    me = os.getpid()
    py_peak = _proc_status(me, "VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    driver_jvm, executors = None, {}
    for pid in _descendants(me):
        args = _cmdline(pid)
        if "org.apache.spark.deploy.SparkSubmit" in args and driver_jvm is None:
            driver_jvm = pid
        if "org.apache.spark.executor.CoarseGrainedExecutorBackend" in args:
            opts = dict(zip(args, args[1:], strict=False))
            if opts.get("--app-id") == app_id:
                executors[opts.get("--executor-id", str(pid))] = _proc_status(pid, "VmHWM")
    return {
        "driver_python_peak_rss": py_peak,
        "driver_jvm_pid": driver_jvm,
        "driver_jvm_peak_rss": None if driver_jvm is None else _proc_status(driver_jvm, "VmHWM"),
        "executor_jvm_peak_rss": executors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=0, help="0: one per 500k rows, at least 4")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--master", default="local-cluster[2,1,2048]")
    parser.add_argument("--driver-memory", default="1g")
    parser.add_argument("--executor-memory", default="2g")
    parser.add_argument("--warmup-rows", type=int, default=20_000,
                        help="fit this many rows first, so imports and compiled kernels are loaded before "
                             "the driver's RSS is taken as the baseline of the big fit (0: no warm-up)")
    parser.add_argument("--max-result-size", default="64m",
                        help="spark.driver.maxResultSize: a cap far below the data, enforced by Spark")
    args = parser.parse_args(argv)

    from sparkmed import KMedoids
    from sparkmed.session import local_session

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    progress = logging.getLogger("sparkmed.progress")
    progress.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    progress.addHandler(handler)
    progress.propagate = False

    partitions = args.partitions or max(4, args.rows // 500_000)
    conf = {"spark.driver.maxResultSize": args.max_result_size}
    if args.master.startswith("local-cluster"):
        conf["spark.executor.memory"] = args.executor_memory
    t0 = time.perf_counter()
    spark = local_session(args.master, "sparkmed-memory-bound", driver_memory=args.driver_memory, extra_conf=conf)
    session_s = time.perf_counter() - t0
    app_id = spark.sparkContext.applicationId
    print(f"session {args.master} ({app_id}) in {session_s:.1f} s; driver memory {args.driver_memory}, "
          f"executor memory {conf.get('spark.executor.memory', '(local mode: the driver)')}", flush=True)
    try:
        if args.warmup_rows:
            t1 = time.perf_counter()
            small = generated_blobs(spark, args.warmup_rows, args.dim, args.k, 2, args.seed + 1)
            KMedoids(k=args.k, seed=args.seed, idCol="id").fit(small)
            print(f"warm-up fit of {args.warmup_rows} rows in {time.perf_counter() - t1:.1f} s", flush=True)
        rss_before_fit = _proc_status(os.getpid(), "VmRSS")
        df = generated_blobs(spark, args.rows, args.dim, args.k, partitions, args.seed)
        t1 = time.perf_counter()
        model = KMedoids(k=args.k, seed=args.seed, idCol="id").fit(df)
        fit_s = time.perf_counter() - t1
        summary = model.summary
        result = {
            "rows": summary.numRows, "dim": args.dim, "k": args.k, "partitions": partitions,
            "master": args.master, "driver_memory": args.driver_memory,
            "executor_memory": conf.get("spark.executor.memory"), "max_result_size": args.max_result_size,
            "session_seconds": round(session_s, 1), "fit_seconds": round(fit_s, 1),
            "timings": {k: round(v, 1) for k, v in summary.timings.items()},
            "cost": summary.trainingCost, "medoid_ids": [int(v) for v in model.medoidIds()],
            "driver_python_rss_before_fit": rss_before_fit,
            **memory_report(app_id),
        }
    finally:
        spark.stop()
    mib = 2**20
    print(f"{result['rows']:,} rows d={args.dim} k={args.k}: fit {fit_s:.1f} s; peak RSS: driver Python "
          f"{result['driver_python_peak_rss'] / mib:.0f} MiB, driver JVM "
          f"{(result['driver_jvm_peak_rss'] or 0) / mib:.0f} MiB, executors "
          f"{ {e: round((v or 0) / mib) for e, v in result['executor_jvm_peak_rss'].items()} } MiB", flush=True)
    print("MEMORY_BOUND_RESULT " + json.dumps(result, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
