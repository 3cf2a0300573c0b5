"""What must come out identical on every supported pyspark line (tests/test_spark_lines.py).

``line_results(spark)`` fits the cross-mode data and seed of ``test_determinism`` with the features as a
``Vector``, an ``array<double>`` and ``inputCols``, plus a Gower fit on a mixed table (its category codes are
JVM hashes) and a ``select_k``, and records per fit the medoid ids/keys, the costs, ``transform``'s label
counts, ``computeCost`` and the evaluator's medoid silhouette. The child process of each older line writes
it to ``$SPARKMED_SPARK_LINE_JSON``; the full suite's process (newest pyspark) computes it again and compares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F
from test_determinism import CROSS_MODE_FIT, CROSS_MODE_PARTITIONS, cross_mode_table, fit_record

from sparkmed import KMedoids, MedoidSilhouetteEvaluator, select_k

LINES = ("3.5.9", "4.0.5")
"""The newest release of each older pyspark line the compatibility suite runs on (the full suite runs on the
newest pyspark of the ``dev`` extra)."""
RESULTS_ENV = "SPARKMED_SPARK_LINE_JSON"


def mixed_table() -> pd.DataFrame:
    """90 rows in 3 groups: a numeric, a nominal and a boolean column (Gower)."""
    rng = np.random.default_rng(6)
    return pd.DataFrame({"id": np.arange(90, dtype=np.int64),
                         "x": np.repeat([0.0, 10.0, 20.0], 30) + rng.normal(0, 1, 90),
                         "c": np.repeat(["a", "b", "c"], 30), "flag": np.repeat([True, False, True], 30)})


def record(model, df) -> dict:
    """``fit_record`` plus what transform, computeCost and the evaluator give on the training data."""
    out = fit_record(model)
    predictions = model.transform(df)
    counts = predictions.groupBy("prediction").count().orderBy("prediction").collect()
    out["prediction_counts"] = [[int(r["prediction"]), int(r["count"])] for r in counts]
    out["compute_cost"] = float(model.computeCost(df))
    out["silhouette"] = float(MedoidSilhouetteEvaluator().evaluate(predictions))
    return out


def line_results(spark) -> dict:
    """Every fit of the module doc, as JSON-serialisable records."""
    from pyspark.ml.functions import array_to_vector

    arrays = spark.createDataFrame(cross_mode_table()).repartition(CROSS_MODE_PARTITIONS)
    vectors = arrays.select("id", "w", array_to_vector("features").alias("features"))
    columns = arrays.select("id", "w", *(F.col("features")[i].alias(f"x{i}") for i in range(3)))
    results = {}
    for name, df, extra in (("vector", vectors, {}), ("array", arrays, {}),
                            ("inputCols", columns, {"inputCols": ["x0", "x1", "x2"]})):
        results[name] = record(KMedoids(**CROSS_MODE_FIT, **extra).fit(df), df)
    mixed = spark.createDataFrame(mixed_table()).repartition(2)
    gower = KMedoids(k=3, metric="gower", inputCols=["x", "c", "flag"], idCol="id", seed=2).fit(mixed)
    results["gower"] = record(gower, mixed)
    chosen = select_k(arrays, range(2, 8), seed=5, idCol="id", weightCol="w", sampleSize=600, numSamples=2)
    table = [[r["k"], r["cost"], r["silhouette"]] for r in chosen.table]
    results["select_k"] = {"best_k": chosen.best_k, "table": table, "model": fit_record(chosen.model)}
    return results


def assert_same_results(line: dict, newest: dict, what: str) -> None:
    """Identical medoids, ids, keys, sizes and label counts; every cost and silhouette equal to 1e-9 relative."""
    assert sorted(line) == sorted(newest), what
    for name, a in line.items():
        b = newest[name]
        if name == "select_k":
            assert a["best_k"] == b["best_k"], f"{what} select_k: best k {a['best_k']} vs {b['best_k']}"
            assert [r[0] for r in a["table"]] == [r[0] for r in b["table"]], what
            np.testing.assert_allclose([r[1:] for r in a["table"]], [r[1:] for r in b["table"]], rtol=1e-9,
                                       err_msg=f"{what} select_k table")
            a, b = a["model"], b["model"]
        for key in ("medoid_ids", "medoid_keys", "cluster_sizes", "medoids", "prediction_counts"):
            if key in b:
                assert a[key] == b[key], f"{what} {name}: {key} {a[key]} vs {b[key]}"
        for key in ("cost", "mean_cost", "compute_cost", "silhouette"):
            if key in b:
                assert a[key] == pytest.approx(b[key], rel=1e-9), f"{what} {name}: {key} {a[key]!r} vs {b[key]!r}"
