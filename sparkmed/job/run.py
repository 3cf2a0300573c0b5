"""The three job commands (fit, select-k, assign): checks, Spark session, fit, outputs, commit.

Order matters: everything that can be checked without Spark (config, input/model paths, output directory,
optional extras) is checked first, so a bad invocation fails in about a second with exit code 2. That
includes the output rules of ``io.check_output_path`` (never the input or the model, never inside or around
them, ``--overwrite`` only over a previous sparkmed output) and taking the output's lock (``outputs.Staging``:
a second run on the same output fails at once). Then the staging directory is created; from there on any
failure removes it, and only a complete output is renamed into place.

Nothing written carries a secret: metrics.json, the MLflow params, report.html and the log lines go through
``redact.redact`` (secret-looking Spark/reader settings, URI user-info, and their values wherever they
appear); the command line itself is not recorded (the redacted config echo says everything it said).
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sparkmed.job import config as C
from sparkmed.job import io
from sparkmed.job.labelling import labelling_model
from sparkmed.job.outputs import (
    Staging,
    assignments_frame,
    medoids_frame,
    output_marker,
    write_assignments,
    write_json,
)
from sparkmed.job.progress import Phases, watch_spark
from sparkmed.job.redact import install_log_filter, redact, secrets_of

log = logging.getLogger("sparkmed")


def expected_phases(command: str, cfg: dict) -> int:
    """Rough number of progress lines a run prints (sizes the console bar; exceeding it is harmless)."""
    per_fit = 5 + cfg["model"]["max_iter"]
    if command == "assign":
        return 5
    fits = len(cfg["select_k"]["ks"]) if command == "select-k" else 1
    return 2 + fits * per_fit + 5 + (command == "fit" and bool(cfg["model"]["init_model"]))


def start_spark(cfg: dict, submitted: bool):
    """Under spark-submit: ``getOrCreate`` (master and resources come from spark-submit). Otherwise a local
    session (``spark.master`` local[...]) or a client of the given master."""
    from pyspark.sql import SparkSession

    sc = cfg["spark"]
    extra = dict(sc["conf"])
    if sc["shuffle_partitions"]:
        extra["spark.sql.shuffle.partitions"] = str(sc["shuffle_partitions"])
    if submitted or not sc["master"]:
        if submitted and cfg["spark"]["master"] != C.SCHEMA["spark"]["master"].default:
            log.warning("spark.master=%s ignored: under spark-submit the master comes from --master",
                        sc["master"])
        builder = SparkSession.builder.appName(sc["app_name"])
        for key, value in extra.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        # spark-submit's default log4j level is INFO: keep the console to sparkmed's progress and warnings.
        with contextlib.suppress(Exception):  # Spark Connect has no sparkContext
            session.sparkContext.setLogLevel("WARN")
        return session
    from sparkmed.session import console_log4j_option, local_session, with_java_option

    # sparkmed's own command starts this driver: its console configuration drops Spark's start-up notes,
    # unless --log-level DEBUG asks for everything.
    quiet = logging.getLogger("sparkmed").getEffectiveLevel() > logging.DEBUG
    extra.setdefault("spark.ui.showConsoleProgress", "false")  # sparkmed draws its own progress
    if sc["master"].startswith("local"):
        return local_session(
            sc["master"], sc["app_name"],
            shuffle_partitions=sc["shuffle_partitions"] or max(4, 2 * (os.cpu_count() or 2)),
            driver_memory=sc["driver_memory"] or None, extra_conf=extra, quiet_start=quiet,
        )
    if quiet:
        extra = with_java_option(extra, console_log4j_option())
    builder = SparkSession.builder.master(sc["master"]).appName(sc["app_name"])
    if sc["driver_memory"]:
        builder = builder.config("spark.driver.memory", sc["driver_memory"])
    for key, value in extra.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def versions(spark) -> dict[str, str]:
    import numba
    import numpy
    import pandas
    import pyarrow

    import sparkmed

    return {"sparkmed": sparkmed.__version__, "spark": spark.version, "python": platform.python_version(),
            "numba": numba.__version__, "numpy": numpy.__version__, "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__}


def _plain(o: Any) -> Any:
    return asdict(o) if is_dataclass(o) else (o._asdict() if hasattr(o, "_asdict") else dict(vars(o)))


def model_metrics(model) -> dict[str, Any]:
    """The training summary as plain JSON-able values."""
    s = model.summary
    return {
        "k": int(s.k), "n": int(s.numRows), "cost": float(s.trainingCost), "mean_cost": float(s.meanCost),
        "silhouette": float(s.medoidSilhouette), "cluster_sizes": [float(v) for v in s.clusterSizes],
        "cluster_costs": [float(v) for v in s.clusterCosts], "medoid_ids": model.medoidIds(),
        "rounds": [_plain(r) for r in s.rounds], "rounds_count": len(s.rounds),
        "refine_mode": getattr(s, "refineMode", None), "refine_passes": [_plain(p) for p in s.refinePasses],
        "refine_passes_count": len(s.refinePasses),
        "fit_phases_seconds": {k: round(float(v), 3) for k, v in s.timings.items()},
        **({"drift": s.drift} if getattr(s, "drift", None) else {}),
    }


def run(command: str, cfg: dict, *, submitted: bool = False) -> dict[str, Any]:
    """Run one command end to end; returns the metrics written to metrics.json. Raises InputError (exit 2)
    for bad config/input/paths and anything else (exit 1) for runtime failures, leaving no output behind."""
    secrets = secrets_of(cfg)
    install_log_filter(secrets)
    C.check_for(command, cfg)
    inp, outc = cfg["input"], cfg["output"]
    protected: dict[str, str] = {}
    if inp["path"]:
        io.check_input_path(inp["path"])
        protected["input.path"] = inp["path"]
        inp = {**inp, "path": io.spark_path(inp["path"])}  # ~ expanded for Spark too
    model_dir = None
    if command == "assign":
        model_dir = io.model_path(cfg["assign"]["model"])
        protected["assign.model"] = cfg["assign"]["model"]
    init_model = None
    if command == "fit" and cfg["model"]["init_model"]:
        init_model = io.model_path(cfg["model"]["init_model"], "model.init_model")
        protected["model.init_model"] = cfg["model"]["init_model"]
    if command == "assign" and cfg["assign"]["stream"]:
        return _stream(cfg, inp, model_dir, protected, submitted)
    remote = io.local_path(outc["path"]) is None  # hdfs:, s3a:, abfss: ...: checked once Spark runs
    out = outc["path"] if remote else io.check_output_path(outc["path"], outc["overwrite"], protected)
    report_skip = None
    if command != "assign" and outc["report"]:
        from sparkmed.job.report import matplotlib_available

        report_skip = matplotlib_available()
        if report_skip:
            log.warning("report skipped: %s", report_skip)
    elif command != "assign":
        report_skip = "disabled (output.report = false)"

    started = datetime.now(UTC)
    staging = None if remote else Staging(out, outc["overwrite"], marker=output_marker(command))
    if staging is not None:
        log.info("staging output in %s", staging.dir)
    phases = Phases()
    spark = None
    tables = None
    try:
        spark = phases.run("session", start_spark, cfg, submitted)
        watch_spark(spark)
        if staging is None:
            from sparkmed.job.hadoop_outputs import HadoopStaging

            staging = phases.run("prepare output", HadoopStaging, spark, out, outc["overwrite"],
                                 output_marker(command), outc["commit"], protected)
            out = staging.out
            log.info("staging output in %s", staging.spark_dir)
        if outc["table"]:
            from sparkmed.job.tables import TableStaging

            kinds = (["medoids"] if command != "assign" else []) + (["assignments"] if outc["assignments"] else [])
            tables = TableStaging(spark, outc["table"], outc["table_format"], outc["overwrite"], kinds)
        if model_dir is not None or init_model is not None:  # a fit output given remotely: use its model/
            model_dir = model_dir and io.spark_model_path(spark, model_dir, "assign.model")
            init_model = init_model and io.spark_model_path(spark, init_model, "model.init_model")
        df = phases.run("read", io.read_input, spark, inp)
        run_cfg = {**cfg, "input": inp}
        if command == "assign":
            metrics = _assign(spark, df, run_cfg, model_dir, staging, phases)
        else:
            metrics = _fit(spark, df, run_cfg, command, staging, phases, report_skip, init_model)
        metrics.update({
            "command": command, "status": "ok",
            "input": {"path": inp["path"] or None, "table": inp["table"] or None, "format": inp["format"]},
            "output": str(out),
            "phases_seconds": phases.seconds,
            "spark": {"master": spark.conf.get("spark.master", None), "app_id": spark.conf.get("spark.app.id", None),
                      "submitted": submitted},
            "versions": versions(spark),
            "started_at": started.isoformat(), "finished_at": datetime.now(UTC).isoformat(),
            "config": cfg,
        })
        if tables is not None:  # copies of the staged Parquet, swapped in after the directory commit
            phases.run("stage tables", stage_tables, spark, tables, staging.spark_dir, metrics)
            metrics["tables"] = dict(tables.names)
        write_json(staging.dir / "metrics.json", redact(metrics, secrets))
        if cfg["mlflow"]["enabled"]:
            from sparkmed.job.mlflow_log import log_run

            metrics["mlflow"] = phases.run("mlflow", log_run, cfg, metrics, staging.dir, secrets)
            write_json(staging.dir / "metrics.json", redact(metrics, secrets))
        staging.commit()
        if tables is not None:
            phases.run("commit tables", tables.commit)
        return metrics
    except BaseException:
        if staging is not None:
            staging.abort()
        if tables is not None:
            tables.abort()
        raise
    finally:
        if spark is not None and not submitted:
            spark.stop()


def stage_tables(spark, tables, sdir: str, metrics: dict) -> None:
    """The staging tables, from the Parquet the run staged in ``sdir`` (the assignments keep their layout)."""
    if "medoids" in tables.names:
        tables.stage("medoids", spark.read.parquet(f"{sdir}/medoids"))
    if "assignments" in tables.names:
        by = (metrics.get("assignments") or {}).get("partitioned_by")
        tables.stage("assignments", spark.read.parquet(f"{sdir}/assignments"), partition_by=by)


def _stream(cfg: dict, inp: dict, model_dir: str, protected: dict[str, str], submitted: bool) -> dict[str, Any]:
    """``sparkmed assign --stream`` (see ``stream``): no staging, the file sink's log commits each batch. A local
    output is locked (``outputs.OutputLock``) for the life of the query: one stream per output."""
    from sparkmed.job.stream import run_stream, stream_source

    outc, a = cfg["output"], cfg["assign"]
    local = io.local_path(outc["path"])
    lock = None
    if local is not None:
        from sparkmed.job.outputs import OutputLock

        lock = OutputLock(Path(os.path.realpath(local)))
        local.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    started = datetime.now(UTC)
    phases = Phases()
    spark = None
    try:
        spark = phases.run("session", start_spark, cfg, submitted)
        watch_spark(spark)
        model_dir = io.spark_model_path(spark, model_dir, "assign.model")
        df = phases.run("read", stream_source, spark, inp, a["max_files_per_trigger"])
        out = io.spark_path(outc["path"])
        metrics = phases.run("stream", run_stream, spark, df, {**cfg, "input": inp}, model_dir, out, protected,
                             phases)
        metrics.update({"command": "assign", "status": "ok", "output": metrics.pop("output", out),
                        "phases_seconds": phases.seconds, "versions": versions(spark),
                        "started_at": started.isoformat(), "finished_at": datetime.now(UTC).isoformat()})
        return metrics
    finally:
        if spark is not None and not submitted:
            spark.stop()
        if lock is not None:
            lock.release()


def _fit(spark, df, cfg: dict, command: str, staging, phases: Phases, report_skip: str | None,
         init_model: str | None = None) -> dict:
    """Fit and write model/, medoids/, assignments/ (Spark, into ``staging.spark_dir``) and selection.json and the
    report (the driver, into ``staging.dir``)."""
    from sparkmed import KMedoids, KMedoidsModel

    out, sdir = staging.dir, staging.spark_dir

    inp, outc = cfg["input"], cfg["output"]
    feature_params = io.resolve_features(df, inp["features"], cfg["model"]["metric"], io.describe_input(inp))
    io.check_column(df, inp["id"], "input.id")
    io.check_column(df, inp["weight"], "input.weight")
    for c in outc["assignment_columns"]:
        io.check_column(df, c, "output.assignment_columns")
    params = {**C.kmedoids_params(cfg), **feature_params}
    if inp["id"]:
        params["idCol"] = inp["id"]
    if inp["weight"]:
        params["weightCol"] = inp["weight"]
    extra: dict[str, Any] = {}
    selection = None
    if command == "select-k":
        from sparkmed.ml.select_k import select_k

        params.pop("k")
        result = phases.run("select-k", select_k, df, list(cfg["select_k"]["ks"]), **params)
        model = result.model
        selection = [dict(row) for row in result.table]
        extra = {"best_k": int(result.best_k), "selection": selection}
        write_json(out / "selection.json", {"best_k": int(result.best_k), "table": selection})
    else:
        est = KMedoids(**params)
        if init_model:  # a warm start (the refit's drift goes to metrics.json); its metric must be a registry one
            est.setInitialModel(phases.run("load initial model", KMedoidsModel.load, init_model))
        model = phases.run("fit", est.fit, df)
    metrics = {**model_metrics(model), **extra}
    log.info("fit: k=%d n=%d cost=%.6g mean=%.6g silhouette=%.4f", metrics["k"], metrics["n"], metrics["cost"],
             metrics["mean_cost"], metrics["silhouette"])

    phases.run("write model", model.write().save, f"{sdir}/model")
    phases.run("write medoids",
               lambda: medoids_frame(spark, model, df, inp["id"] or None).coalesce(1).write.parquet(
                   f"{sdir}/medoids"))
    if outc["assignments"]:
        extra_cols = list(outc["assignment_columns"]) or ([] if inp["id"] else list(inp["features"]))
        frame = assignments_frame(model, df, inp["id"] or None, extra_cols)
        metrics["assignments"] = phases.run("write assignments", write_assignments, frame, f"{sdir}/assignments",
                                            metrics["n"], metrics["k"], outc["partitioning"], outc["rows_per_file"])
    if report_skip is None:
        from sparkmed.job.report import sample_points, write_report

        def report() -> list[str]:
            x, labels = sample_points(model, df, feature_params, metrics["n"], outc["report_sample"],
                                      cfg["model"]["seed"])
            metrics["report_sample_rows"] = len(labels)
            return write_report(out, {**metrics, "command": command, "phases_seconds": phases.seconds}, x, labels,
                                model.medoids(), selection, secrets_of(cfg))

        metrics["report"] = {"html": "report.html", "plots": phases.run("report", report)}
    else:
        metrics["report"] = {"skipped": report_skip}
    return metrics


def _assign(spark, df, cfg: dict, model_dir: str, staging, phases: Phases) -> dict:
    """Label new data with a saved model: assignments/ plus per-cluster counts and distances in metrics.json.

    The input's feature width must be the model's: for columns (inputCols) checked before any job, for one
    array/vector column by the same aggregation that counts the rows (dense models only: sparse, set and
    Gower rows have variable widths by design).
    """
    from pyspark.sql import functions as F

    from sparkmed.ml.plan import feature_spec

    outc = cfg["output"]
    sdir = staging.spark_dir
    model, id_col = labelling_model(df, cfg, model_dir, phases)
    spec = feature_spec(model)
    dense = model.getEncoding().kind == "dense"
    dim = int(model.medoids().shape[1])
    width_col = spec.featuresCol if dense and not spec.inputCols else None
    n = phases.run("count", count_rows, df, width_col, dim, id_col, model_dir)
    k = int(model.medoids().shape[0])
    frame = assignments_frame(model, df, id_col, list(outc["assignment_columns"]))
    how = phases.run("write assignments", write_assignments, frame, f"{sdir}/assignments", n, k,
                     outc["partitioning"], outc["rows_per_file"])

    def stats() -> list:
        written = spark.read.parquet(f"{sdir}/assignments")
        return written.groupBy("cluster").agg(F.count("*").alias("n"), F.sum("distance").alias("cost")).collect()

    rows = {r["cluster"]: r for r in phases.run("statistics", stats)}
    sizes = [int(rows[c]["n"]) if c in rows else 0 for c in range(k)]
    costs = [float(rows[c]["cost"] or 0.0) if c in rows else 0.0 for c in range(k)]
    assigned = sum(sizes)
    return {
        "k": k, "n": int(n), "assigned": assigned, "unassigned": int(rows[None]["n"]) if None in rows else 0,
        "cost": sum(costs), "mean_cost": sum(costs) / assigned if assigned else None,
        "cluster_sizes": sizes, "cluster_costs": costs, "medoid_ids": model.medoidIds(),
        "model": model_dir, "metric": model.getMetric(), "assignments": how,
    }


def count_rows(df, width_col: str | None, dim: int, id_col: str | None, model_dir: str) -> int:
    """The number of rows; with ``width_col`` (one array/vector feature column) the same aggregation takes the
    min and max width of its non-null values, and a width other than ``dim`` raises InputError naming the
    column, the model's dimension and an example row (a second, ``limit(1)`` job, only then)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType

    from sparkmed.data.columns import col as column
    from sparkmed.data.columns import is_vector

    dtype = df.schema[width_col].dataType if width_col else None
    if dtype is None or not (isinstance(dtype, ArrayType) or is_vector(dtype)):
        return int(df.count())
    col = column(width_col)
    arr = vector_to_array(col) if is_vector(dtype) else col
    width = F.when(col.isNotNull(), F.size(arr))
    row = df.agg(F.count(F.lit(1)).alias("n"), F.min(width).alias("lo"), F.max(width).alias("hi")).first()
    if row["lo"] is not None and (row["lo"] != dim or row["hi"] != dim):
        example = df.where(width != dim).select(*([column(id_col)] if id_col else []),
                                                 width.alias("_sm_width")).first()
        which = f"row {id_col}={example[id_col]!r}" if id_col else "the first such row"
        raise io.InputError(f"feature column {width_col!r} (config key 'input.features') has widths "
                            f"{row['lo']}..{row['hi']} but the model {model_dir!r} has dimension {dim}: "
                            f"{which} has width {example['_sm_width']}")
    return int(row["n"])
