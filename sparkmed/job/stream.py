"""``sparkmed assign --stream``: label new rows continuously with Structured Streaming, exactly once.

Source: the files of ``input.path`` (a directory; the schema is read once from the files already there, or
given as ``input.schema``) or the table ``input.table``. Sink: Parquet files in ``output.path`` (id,
cluster, distance, [output.assignment_columns]; by cluster directory as in a batch assign). The checkpoint
(``assign.checkpoint``) records which source files each micro-batch read, and the file sink's own log
(``<output>/_spark_metadata``) records which files each committed batch wrote. Together they make the
labelling exactly once across failures and restarts: a batch interrupted by a kill is redone from the same
files after a restart, and the files it had half written are not in the sink's log, so Spark's readers never
see them (read the output with Spark, or with a reader that honours ``_spark_metadata``).

Triggers (``assign.trigger``): ``available-now`` labels everything not yet labelled and stops (a scheduled
job); ``processing-time`` runs until stopped, one micro-batch every ``assign.interval``.

Rules, checked before the query starts: the output and the checkpoint may not be, lie inside or contain
the input or the model (or each other); an existing output must be this stream's sink (it has
``_spark_metadata``) and then the checkpoint must exist too, since a new checkpoint would restart batch ids
that the sink's log already holds, and Spark would silently skip them. ``--overwrite`` does not apply: to
start over, remove the output and the checkpoint.

After the run, ``<output>/_sparkmed_stream.json`` holds this run's numbers (batches, rows, cost), taken from
``observe`` on the labelled rows: no second pass.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sparkmed.errors import InputError

log = logging.getLogger("sparkmed")

TRIGGERS = ("available-now", "processing-time")
RUN_RECORD = "_sparkmed_stream.json"


def stream_source(spark, inp: dict[str, Any], max_files: int):
    """The streaming input DataFrame: a table, or the files of a directory with a schema read from the files
    already there (or ``input.schema``)."""
    from sparkmed.job.io import describe_input, read_input

    where = describe_input(inp)
    if inp["table"]:
        return spark.readStream.table(inp["table"])
    schema = inp["schema"] or read_input(spark, inp).schema
    reader = spark.readStream.format(inp["format"]).options(**inp["options"]).schema(schema)
    if max_files:
        reader = reader.option("maxFilesPerTrigger", max_files)
    try:
        return reader.load(inp["path"])
    except Exception as exc:  # noqa: BLE001 - an unusable stream source is a bad input
        raise InputError(f"cannot stream {where}: {str(exc).strip().splitlines()[0][:300]}") from None


def check_stream_paths(fs, out: str, checkpoint: str, protected: dict[str, str]) -> None:
    """The rules of the module docstring, on qualified URIs (``fs``: a ``hadoop_outputs.HadoopFS``)."""
    from sparkmed.job.hadoop_outputs import check_no_overlap

    check_no_overlap(fs, out, {**protected, "assign.checkpoint": checkpoint}, "output.path")
    check_no_overlap(fs, checkpoint, protected, "assign.checkpoint")
    if fs.exists(out) and fs.names(out):
        if not fs.exists(f"{out}/_spark_metadata"):
            raise InputError(f"output path {out!r} exists and is not the sink of a sparkmed stream (no "
                             "_spark_metadata): choose another output directory (config key 'output.path')")
        if not fs.exists(checkpoint):
            raise InputError(f"output path {out!r} is the sink of an earlier stream but the checkpoint "
                             f"{checkpoint!r} does not exist: a new checkpoint would relabel and lose batches; "
                             "give that stream's checkpoint, or remove the output to start over (config key "
                             "'assign.checkpoint')")


def run_stream(spark, df, cfg: dict, model_dir: str, out: str, protected: dict[str, str], phases) -> dict:
    """Start the labelling query and wait for it (available-now) or until stopped; returns this run's metrics."""
    from pyspark.sql import functions as F

    from sparkmed.job.hadoop_outputs import HadoopFS
    from sparkmed.job.labelling import labelling_model
    from sparkmed.job.outputs import assignments_frame, json_text, partitioned_by_cluster

    a, outc = cfg["assign"], cfg["output"]
    fs = HadoopFS(spark, out)
    out, checkpoint = fs.qualify(out), fs.qualify(a["checkpoint"])
    check_stream_paths(fs, out, checkpoint, protected)
    model, id_col = labelling_model(df, cfg, model_dir, phases)
    k = int(model.medoids().shape[0])
    frame = assignments_frame(model, df, id_col, list(outc["assignment_columns"]))
    frame = frame.observe("sparkmed", F.count(F.lit(1)).alias("rows"), F.sum("distance").alias("cost"),
                          F.sum(F.when(F.col("cluster").isNull(), 1).otherwise(0)).alias("unassigned"))
    writer = (frame.writeStream.format("parquet").option("checkpointLocation", checkpoint)
              .queryName(f"sparkmed-assign-{int(time.time())}"))
    if partitioned_by_cluster(outc["partitioning"], k):
        writer = writer.partitionBy("cluster")
    writer = (writer.trigger(availableNow=True) if a["trigger"] == "available-now"
              else writer.trigger(processingTime=a["interval"]))
    query = writer.start(out)
    log.info("stream %s: labelling %s into %s (checkpoint %s, trigger %s)", query.name, cfg["input"]["path"] or
             cfg["input"]["table"], out, checkpoint, a["trigger"])
    batches: dict[int, dict[str, float]] = {}
    try:
        while True:
            done = query.awaitTermination(2)
            for p in query.recentProgress:
                batch = int(p["batchId"])
                seen = (p.get("observedMetrics") or {}).get("sparkmed")
                if batch in batches or not p.get("numInputRows") and seen is None:
                    continue
                row = {"rows": int(seen["rows"]) if seen else int(p["numInputRows"]),
                       "cost": float(seen["cost"] or 0.0) if seen else 0.0,
                       "unassigned": int(seen["unassigned"] or 0) if seen else 0}
                batches[batch] = row
                log.info("stream batch %d: %d rows labelled, cost %.6g", batch, row["rows"], row["cost"])
            if done:
                break
    finally:
        if query.isActive:
            query.stop()
    if query.exception() is not None:
        raise RuntimeError(f"stream {query.name} failed: {str(query.exception()).strip()[:2000]}")
    rows = sum(b["rows"] for b in batches.values())
    cost = sum(b["cost"] for b in batches.values())
    metrics = {"output": out, "k": k, "n": rows, "cost": cost, "mean_cost": cost / rows if rows else None,
               "unassigned": sum(b["unassigned"] for b in batches.values()), "batches": len(batches),
               "batch_ids": sorted(batches), "model": model_dir, "metric": model.getMetric(),
               "stream": {"checkpoint": checkpoint, "trigger": a["trigger"], "interval": a["interval"]},
               "assignments": {"partitioned_by": "cluster" if partitioned_by_cluster(outc["partitioning"], k)
                               else None}}
    record = f"{out}/{RUN_RECORD}"
    if fs.exists(record):
        fs.delete(record)
    fs.write_text(record, json_text(metrics))
    return metrics
