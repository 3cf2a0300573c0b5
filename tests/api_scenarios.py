"""pyspark.ml scenarios run twice: on the classic local session (tests/test_api_classic.py) and through a
real Spark Connect server (tests/connect/, started by tests/test_connect.py in its own process).

Each scenario takes a SparkSession and a temporary directory and asserts everything itself, so both modes
check exactly the same behaviour.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sparkmed import InputError, KMedoids, KMedoidsModel, MedoidSilhouetteEvaluator, select_k
from sparkmed.ml.evaluation import silhouette


def planted_blobs(k: int, n_per: int = 150, d: int = 2, seed: int = 0) -> np.ndarray:
    """k well-separated Gaussian blobs: centres on a grid 12 apart, unit-free spread 0.6."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(k)))
    centres = np.array([(12.0 * (i % side), 12.0 * (i // side)) for i in range(k)])
    if d > 2:
        centres = np.hstack([centres, np.zeros((k, d - 2))])
    return np.vstack([rng.normal(c, 0.6, size=(n_per, d)) for c in centres])


def frame(spark, x: np.ndarray, partitions: int = 3):
    """id (long), a, b (double) columns and a ``features`` array<double> column."""
    pdf = pd.DataFrame({"id": np.arange(len(x), dtype=np.int64), "a": x[:, 0], "b": x[:, 1],
                        "features": list(x.astype(np.float64))})
    return spark.createDataFrame(pdf).repartition(partitions)


def naive_silhouettes(x: np.ndarray, medoids: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(mean medoid silhouette, mean simplified silhouette for ``labels``), Euclidean, by brute force."""
    d = np.sqrt(((x[:, None, :] - medoids[None, :, :]) ** 2).sum(axis=2))
    srt = np.sort(d, axis=1)
    medoid = np.where(srt[:, 1] > 0, 1 - srt[:, 0] / np.where(srt[:, 1] > 0, srt[:, 1], 1), 0.0)
    a = d[np.arange(len(x)), labels]
    other = d.copy()
    other[np.arange(len(x)), labels] = np.inf
    b = other.min(axis=1)
    simplified = np.where(np.maximum(a, b) > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(medoid.mean()), float(simplified.mean())


def scenario_pipeline_save_load(spark, tmp: Path) -> None:
    """VectorAssembler → StandardScaler → KMedoids in a Pipeline: fit, save (also over an existing path),
    load, transform identically; ClusteringEvaluator and our evaluator agree on well-separated data."""
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    df = frame(spark, planted_blobs(3, seed=1)).drop("features")
    pipe = Pipeline(stages=[
        VectorAssembler(inputCols=["a", "b"], outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features"),
        KMedoids(k=3, seed=5, idCol="id", distanceCol="dist"),
    ])
    fitted = pipe.fit(df)
    before = fitted.transform(df).select("id", "prediction", "dist").orderBy("id").toPandas()
    assert sorted(before["prediction"].value_counts().tolist()) == [150, 150, 150]
    path = str(tmp / "pipeline_model")
    fitted.write().save(path)
    fitted.write().overwrite().save(path)  # replacing an existing save must work in both modes
    loaded = PipelineModel.load(path)
    after = loaded.transform(df).select("id", "prediction", "dist").orderBy("id").toPandas()
    pd.testing.assert_frame_equal(before, after)
    km = loaded.stages[-1]
    assert isinstance(km, KMedoidsModel)
    np.testing.assert_array_equal(km.medoids(), fitted.stages[-1].medoids())
    assert km.medoidIds() == fitted.stages[-1].medoidIds()
    assert km.getK() == 3 and km.getIdCol() == "id" and km.getDistanceCol() == "dist"
    preds = loaded.transform(df)
    spark_sil = ClusteringEvaluator(featuresCol="features", predictionCol="prediction").evaluate(preds)
    ours = MedoidSilhouetteEvaluator().evaluate(preds)
    assert spark_sil > 0.9 and ours > 0.9  # different definitions (squared Euclidean vs medoid), both high
    Pipeline.load(_save_unfitted(pipe, tmp))  # the unfitted pipeline (with the estimator) round-trips too


def _save_unfitted(pipe, tmp: Path) -> str:
    path = str(tmp / "pipeline")
    pipe.write().overwrite().save(path)
    return path


def scenario_model_save_load_errors(spark, tmp: Path) -> None:
    """A model round-trips alone; occupied, missing, foreign and corrupted paths give clear InputErrors."""
    df = frame(spark, planted_blobs(4, seed=2))
    model = KMedoids(k=4, seed=1, idCol="id").fit(df)
    path = str(tmp / "model")
    model.save(path)
    with pytest.raises(InputError, match="already exists"):
        model.save(path)
    model.write().overwrite().save(path)
    again = KMedoidsModel.load(path)
    np.testing.assert_array_equal(again.medoids(), model.medoids())
    np.testing.assert_array_equal(again.medoidKeys(), model.medoidKeys())
    assert again.uid == model.uid and again.getSeed() == 1 and not again.hasSummary
    assert again.computeCost(df) == pytest.approx(model.summary.trainingCost, rel=1e-9)
    with pytest.raises(InputError, match="no saved sparkmed model"):
        KMedoidsModel.load(str(tmp / "does-not-exist"))
    est_path = str(tmp / "estimator")
    KMedoids(k=4, metric="manhattan").save(est_path)
    assert KMedoids.load(est_path).getMetric() == "manhattan"
    with pytest.raises(InputError, match="holds a sparkmed.KMedoids, not a sparkmed.KMedoidsModel"):
        KMedoidsModel.load(est_path)
    bad = tmp / "corrupted"
    (bad / "metadata").mkdir(parents=True)
    (bad / "metadata" / "part-00000").write_text('{"class": "sparkmed.estimator.KMedoidsModel", "uid": ')
    with pytest.raises(InputError, match="not valid JSON"):
        KMedoidsModel.load(str(bad))


def scenario_evaluator_matches_naive(spark, tmp: Path) -> None:
    """Medoid and simplified silhouette from the Evaluator / function equal a brute-force computation."""
    x = planted_blobs(5, n_per=60, seed=3) + np.random.default_rng(9).normal(scale=2.0, size=(300, 2))
    df = frame(spark, x, partitions=4)
    model = KMedoids(k=5, seed=2, idCol="id").fit(df)
    preds = model.transform(df)
    labels = preds.orderBy("id").select("prediction").toPandas()["prediction"].to_numpy()
    med_sil, simp_sil = naive_silhouettes(x, model.medoids(), labels)
    assert MedoidSilhouetteEvaluator().evaluate(preds) == pytest.approx(med_sil, rel=1e-9)
    assert MedoidSilhouetteEvaluator(metricName="simplifiedSilhouette").evaluate(preds) == pytest.approx(
        simp_sil, rel=1e-9)
    assert model.summary.medoidSilhouette == pytest.approx(med_sil, rel=1e-9)
    shifted = (labels + 1) % 5  # a deliberately wrong assignment: only the simplified silhouette sees it
    pdf = pd.DataFrame({"id": np.arange(len(x)), "features": list(x), "other": shifted.astype(np.int32)})
    odf = spark.createDataFrame(pdf)
    _, simp_other = naive_silhouettes(x, model.medoids(), shifted)
    got = silhouette(odf, model.medoids(), criterion="simplifiedSilhouette", predictionCol="other")
    assert got == pytest.approx(simp_other, rel=1e-9) and got < 0
    with pytest.raises(InputError, match="carries no sparkmed medoids"):
        MedoidSilhouetteEvaluator(predictionCol="other").evaluate(odf)


def scenario_select_k_planted(spark, tmp: Path) -> None:
    """select_k finds the planted k of well-separated blobs; its model is a full fit for that k."""
    for k, seed in ((3, 11), (5, 12), (8, 13)):
        df = frame(spark, planted_blobs(k, n_per=80, seed=seed))
        result = select_k(df, range(2, 11), seed=seed, idCol="id")
        assert result.best_k == k, result.table
        assert [row["k"] for row in result.table] == list(range(2, 11))
        best = max(result.table, key=lambda row: row["silhouette"])
        assert best["k"] == k
        assert result.model.getK() == k and len(result.model.medoids()) == k
        assert result.model.summary.medoidSilhouette >= best["silhouette"] - 1e-9


def scenario_medoid_rows(spark, tmp: Path) -> None:
    """medoidRows returns the medoids' original rows with all columns and their cluster."""
    df = frame(spark, planted_blobs(3, seed=4))
    model = KMedoids(k=3, seed=3, idCol="id").fit(df)
    rows = model.medoidRows(df).orderBy("cluster").toPandas()
    assert list(rows.columns) == ["cluster", "id", "a", "b", "features"]
    assert rows["cluster"].tolist() == [0, 1, 2]
    assert [str(v) for v in rows["id"]] == model.medoidIds()
    np.testing.assert_array_equal(np.stack(rows["features"].to_numpy()), model.medoids())


def scenario_sets_and_gower(spark, tmp: Path) -> None:
    """Encoded features (a set column with jaccard, a mixed table with gower) fit, save, load and evaluate."""
    rng = np.random.default_rng(6)
    items = [[f"t{i % 2}_{j}" for j in rng.choice(8, size=4, replace=False)] for i in range(120)]
    sets = spark.createDataFrame(pd.DataFrame({"id": np.arange(120), "items": items}))
    model = KMedoids(k=2, metric="jaccard", featuresCol="items", idCol="id", seed=1).fit(sets)
    assert sorted(int(i) % 2 for i in model.medoidIds()) == [0, 1]
    path = str(tmp / "sets_model")
    model.write().overwrite().save(path)
    loaded = KMedoidsModel.load(path)
    a = model.transform(sets).orderBy("id").select("prediction").toPandas()
    b = loaded.transform(sets).orderBy("id").select("prediction").toPandas()
    pd.testing.assert_frame_equal(a, b)
    assert MedoidSilhouetteEvaluator().evaluate(loaded.transform(sets)) == pytest.approx(
        model.summary.medoidSilhouette, rel=1e-9)
    table = pd.DataFrame({"id": np.arange(90), "x": np.repeat([0.0, 10.0, 20.0], 30) + rng.normal(0, 1, 90),
                          "c": np.repeat(["a", "b", "c"], 30), "flag": np.repeat([True, False, True], 30)})
    mixed = spark.createDataFrame(table)
    gm = KMedoids(k=3, metric="gower", inputCols=["x", "c", "flag"], idCol="id", seed=2).fit(mixed)
    assert sorted(int(i) // 30 for i in gm.medoidIds()) == [0, 1, 2]


SCENARIOS = [
    scenario_pipeline_save_load,
    scenario_model_save_load_errors,
    scenario_evaluator_matches_naive,
    scenario_select_k_planted,
    scenario_medoid_rows,
    scenario_sets_and_gower,
]
