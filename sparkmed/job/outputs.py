"""The output directory: written into a staging sibling and renamed into place only when complete.

Layout of a fit (``sparkmed fit``/``select-k``) output directory::

    medoids/        Parquet, k rows: cluster, medoid_id, features (array<double>), size, cost, + the medoid rows'
                    original columns (when an id column is set)
    assignments/    Parquet, one row per input row: [id], cluster, distance, [output.assignment_columns];
                    Hive-partitioned by cluster (cluster=0/, cluster=1/ ...) unless output.partitioning = none
    model/          the saved KMedoidsModel (KMedoidsModel.load)
    metrics.json    k, n, cost, mean cost, silhouette, rounds, per-phase seconds, versions, config echo
    report.html     + report/*.png (when matplotlib is importable)

Why staging + rename: a failed or killed run must leave no partial output and must not damage the previous
good output. ``<out>.tmp-<uuid>`` is a sibling (same filesystem, so the rename is atomic); with overwrite the
old directory is moved aside only after the new one is complete, and deleted after the new one is in place.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger("sparkmed")


class Staging:
    """A ``<out>.tmp-<uuid>`` directory next to ``out``; ``commit()`` renames it into place, ``abort()`` removes it."""

    def __init__(self, out: Path, overwrite: bool):
        self.out = out
        self.overwrite = overwrite
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.dir = out.parent / f"{out.name}.tmp-{uuid.uuid4().hex[:12]}"
        self.dir.mkdir()

    def commit(self) -> None:
        """Move the finished staging directory to ``out`` (replacing an old one only if ``overwrite``)."""
        old = None
        if self.out.exists():
            if not self.overwrite:  # someone created it while we ran
                from sparkmed.errors import InputError

                raise InputError(f"output path {str(self.out)!r} appeared during the run; not overwriting it")
            old = self.out.parent / f"{self.out.name}.old-{uuid.uuid4().hex[:12]}"
            os.rename(self.out, old)
        try:
            os.rename(self.dir, self.out)
        except OSError:
            if old is not None:
                os.rename(old, self.out)  # put the previous good output back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        log.info("output committed to %s", self.out)

    def abort(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(o)
    return str(o)


def _clean(o: Any) -> Any:
    """NaN/inf are not JSON: write them as null."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    return o


def write_json(path: Path, data: dict) -> None:
    text = json.dumps(_clean(json.loads(json.dumps(data, default=_json_default))), indent=2, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8")


def assignments_frame(model, df, id_col: str | None, extra_cols: list[str]):
    """id, cluster, distance (+ extra columns) for every row: the model's transform, lazily."""
    from pyspark.sql import functions as F

    model = model.copy({model.predictionCol: "_sm_cluster", model.distanceCol: "_sm_distance"})
    cols = ([F.col(id_col)] if id_col else []) + [F.col("_sm_cluster").alias("cluster"),
                                                  F.col("_sm_distance").alias("distance")]
    cols += [F.col(c) for c in extra_cols if c != id_col]
    return model.transform(df).select(*cols)


def write_assignments(frame, path: Path, n_rows: int, k: int, partitioning: str, rows_per_file: int) -> dict:
    """Write assignments as Parquet; returns how (files, partitioning) for metrics.json.

    ``repartition(files)`` is a round-robin shuffle of the narrow (id, cluster, distance) rows: it decouples the
    number of output files from the input's partitioning and keeps the assignment UDF running on every input
    partition in parallel (``coalesce`` would serialise it). By-cluster directories let readers prune to one
    cluster; with many clusters they would mean many tiny files, hence ``auto`` = by cluster only for k <= 64.
    """
    files = max(1, math.ceil(n_rows / rows_per_file))
    by_cluster = partitioning == "cluster" or (partitioning == "auto" and k <= 64)
    writer = frame.repartition(files).write.mode("error")
    if by_cluster:
        writer = writer.partitionBy("cluster")
    writer.parquet(str(path))
    return {"tasks": files, "partitioned_by": "cluster" if by_cluster else None}


def medoids_frame(spark, model, df, id_col: str | None):
    """k rows: cluster, medoid_id, features, size, cost, plus the medoid rows' original columns when ids exist."""
    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    s = model.summary if model.hasSummary else None
    med = model.medoids()
    ids = model.medoidIds()
    k = len(med)
    pdf = pd.DataFrame({
        "cluster": list(range(k)),
        "medoid_id": [str(i) if i is not None else None for i in (ids or [None] * k)],
        "features": [list(map(float, row)) for row in med],
        "size": [float(v) for v in s.clusterSizes] if s else [None] * k,
        "cost": [float(v) for v in s.clusterCosts] if s else [None] * k,
    })
    schema = T.StructType([
        T.StructField("cluster", T.IntegerType(), False),
        T.StructField("medoid_id", T.StringType(), True),
        T.StructField("features", T.ArrayType(T.DoubleType()), False),
        T.StructField("size", T.DoubleType(), True),
        T.StructField("cost", T.DoubleType(), True),
    ])
    table = spark.createDataFrame(pdf, schema=schema)
    # The medoids' original rows (one pass, k rows); clashing names get an input_ prefix.
    rows = model.medoidRows(df, clusterCol="_sm_cluster").dropDuplicates(["_sm_cluster"])
    rows = rows.select("_sm_cluster",
                       *[F.col(f"`{c}`").alias(f"input_{c}" if c in table.columns else c) for c in df.columns])
    return (table.join(rows, table["cluster"] == rows["_sm_cluster"], "left").drop("_sm_cluster")
            .orderBy("cluster"))
