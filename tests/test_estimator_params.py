"""KMedoids / KMedoidsModel as pyspark.ml citizens: Params, copy, summary, predict, tuning, select_k errors."""

from __future__ import annotations

import pytest
from api_scenarios import frame, planted_blobs

from sparkmed import InputError, KMedoids, MedoidSilhouetteEvaluator, select_k

pytestmark = pytest.mark.spark

DEFAULTS = {
    "k": 2, "metric": "euclidean", "p": 2.0, "algorithm": "fasterpam", "init": "lab", "maxIter": 3,
    "numSamples": 5, "sampleSize": 0, "refine": "swaps", "refinePasses": 10, "refineCandidates": 0,
    "maxSampleMemoryMB": 1024.0, "seed": 0, "featuresCol": "features", "predictionCol": "prediction",
}


def test_param_defaults_getters_setters_and_docs():
    km = KMedoids()
    for name, value in DEFAULTS.items():
        assert km.getOrDefault(name) == value, name
        getter = getattr(km, "get" + name[0].upper() + name[1:])
        assert getter() == value, name
    assert km.getIdCol() is None and km.getDistanceCol() is None
    setters = {"k": 7, "metric": "manhattan", "p": 3.0, "algorithm": "pam", "init": "build", "maxIter": 2,
               "numSamples": 4, "sampleSize": 500, "refine": "none", "refinePasses": 3, "refineCandidates": 64,
               "maxSampleMemoryMB": 64.0, "seed": 9, "featuresCol": "f", "predictionCol": "c", "idCol": "i",
               "weightCol": "w", "distanceCol": "d", "inputCols": ["x", "y"]}
    for name, value in setters.items():
        assert getattr(km, "set" + name[0].upper() + name[1:])(value) is km
        assert km.getOrDefault(name) == value
    text = km.explainParams()
    for name in [*DEFAULTS, "idCol", "weightCol", "distanceCol", "inputCols"]:
        assert f"{name}:" in text
    assert KMedoids(k=5, seed=3).setParams(k=6).getK() == 6


def test_copy_is_independent():
    km = KMedoids(k=4)
    other = km.copy({km.k: 9})
    assert other.getK() == 9 and km.getK() == 4 and other.uid == km.uid


def test_type_conversion_and_errors_name_the_param(spark):
    assert KMedoids(k=3.0).getK() == 3
    with pytest.raises(TypeError):
        KMedoids(k="three")
    df = frame(spark, planted_blobs(3, n_per=30))
    with pytest.raises(InputError, match="k must be ≥ 2"):
        KMedoids(k=1).fit(df)
    with pytest.raises(InputError, match="metric"):
        KMedoids(k=2, metric="nope").fit(df)


@pytest.fixture(scope="module")
def fitted(spark):
    x = planted_blobs(4, n_per=100, seed=21)
    df = frame(spark, x).cache()
    return x, df, KMedoids(k=4, seed=2, idCol="id", distanceCol="dist").fit(df)


def test_summary_fields(fitted):
    x, df, model = fitted
    s = model.summary
    assert model.hasSummary and s.k == 4 and s.numRows == len(x)
    assert sum(s.clusterSizes) == len(x) and sorted(s.clusterSizes) == [100, 100, 100, 100]
    assert s.meanCost == pytest.approx(s.trainingCost / len(x))
    assert s.numIter == len(s.rounds) >= 1 and s.costPerRound == [r.best_cost for r in s.rounds]
    assert s.trainingCost <= s.costPerRound[-1] + 1e-9
    assert s.predictions.count() == len(x)
    assert s.cluster.columns == ["prediction"]
    assert set(s.timings) >= {"validate+pack", "sample", "statistics"}


def test_predict_and_compute_cost_agree_with_transform(fitted):
    from pyspark.ml.linalg import Vectors

    x, df, model = fitted
    out = model.transform(df).orderBy("id").toPandas()
    for i in (0, 150, 399):
        assert model.predict(x[i]) == out["prediction"][i]
        assert model.predict(Vectors.dense(x[i])) == out["prediction"][i]
    assert model.computeCost(df) == pytest.approx(out["dist"].sum(), rel=1e-9)
    assert model.computeCost(df) == pytest.approx(model.summary.trainingCost, rel=1e-9)


def test_cross_validator_picks_k_by_medoid_silhouette(fitted, spark):
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder

    _, df, _ = fitted
    km = KMedoids(seed=1, refine="none")
    grid = ParamGridBuilder().addGrid(km.k, [2, 4, 6]).build()
    cv = CrossValidator(estimator=km, estimatorParamMaps=grid, evaluator=MedoidSilhouetteEvaluator(), numFolds=2,
                        seed=3)
    best = cv.fit(df).bestModel
    assert best.getK() == 4


def test_select_k_rejects_bad_ks(fitted):
    _, df, _ = fitted
    with pytest.raises(InputError, match="ks is empty"):
        select_k(df, [])
    with pytest.raises(InputError, match="integers ≥ 2"):
        select_k(df, [1, 2, 3])
    with pytest.raises(InputError, match="integers ≥ 2"):
        select_k(df, [2, 3.5])
