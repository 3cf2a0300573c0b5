"""The distributed fit on a real local SparkSession: quality vs full FasterPAM, determinism, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from spark_data import blobs, to_df

from sparkmed import InputError, KMedoids

pytestmark = pytest.mark.spark


def naive_nearest(x: np.ndarray, medoids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(((x[:, None, :] - medoids[None, :, :]) ** 2).sum(axis=2))
    return d.argmin(axis=1), d.min(axis=1)


@pytest.fixture(scope="module")
def blob_data():
    return blobs(5000, 4, 10, seed=3)


@pytest.fixture(scope="module")
def blob_df(spark, blob_data):
    return to_df(spark, blob_data, partitions=3).cache()


def test_fit_within_one_percent_of_full_fasterpam(blob_df, blob_data):
    kmedoids = pytest.importorskip("kmedoids")
    from scipy.spatial.distance import pdist, squareform

    k = 10
    diss = squareform(pdist(blob_data))
    ref = min(
        kmedoids.fasterpam(diss, k, init="random", random_state=s, n_cpu=1).loss for s in range(3)
    )
    model = KMedoids(k=k, seed=7).fit(blob_df)
    cost = model.summary.trainingCost
    assert cost <= ref * 1.01, (cost, ref)
    # medoids are real rows of the input
    meds = model.medoids()
    for m in meds:
        assert np.min(np.abs(blob_data - m).sum(axis=1)) == 0.0
    # reported cost is the true full-data cost of those medoids
    _, dist = naive_nearest(blob_data, meds)
    assert cost == pytest.approx(dist.sum(), rel=1e-9)
    assert model.summary.meanCost == pytest.approx(dist.mean(), rel=1e-9)
    assert sum(model.summary.clusterSizes) == pytest.approx(len(blob_data))


def test_same_seed_same_medoids_across_partitionings(spark, blob_data):
    x = blob_data[:2000]
    results = []
    for parts in (1, 3, 16):
        df = to_df(spark, x, partitions=parts)
        model = KMedoids(k=6, seed=11, refinePasses=3).fit(df)
        results.append((model.medoids(), model.summary.trainingCost))
    rerun = KMedoids(k=6, seed=11, refinePasses=3).fit(to_df(spark, x, partitions=3))
    results.append((rerun.medoids(), rerun.summary.trainingCost))
    for meds, cost in results[1:]:
        np.testing.assert_array_equal(meds, results[0][0])
        assert cost == pytest.approx(results[0][1], rel=1e-12)


def test_transform_matches_naive_nearest_medoid(blob_df, blob_data):
    model = KMedoids(k=5, seed=1, refinePasses=2, distanceCol="dist").fit(blob_df)
    out = model.transform(blob_df).select("id", "prediction", "dist").toPandas().sort_values("id")
    labels, dist = naive_nearest(blob_data, model.medoids())
    np.testing.assert_array_equal(out["prediction"].to_numpy(), labels)
    np.testing.assert_allclose(out["dist"].to_numpy(), dist, rtol=1e-12)
    assert model.predict(blob_data[0]) == labels[0]


def test_transform_gives_nulls_for_unusable_rows_in_the_same_batch(spark, blob_df, blob_data):
    """Null, NaN, infinite and wrongly sized rows next to good rows in one Arrow batch: null prediction and
    distance for those rows (they never reach the kernel, which refuses NaN), exact answers for the rest."""
    model = KMedoids(k=5, seed=1, refinePasses=2, distanceCol="dist").fit(blob_df)
    good = blob_data[:6]
    rows = [(0, good[0].tolist()), (1, None), (2, [np.nan] * blob_data.shape[1]), (3, good[1].tolist()),
            (4, [np.inf] + good[2][1:].tolist()), (5, good[3][:-1].tolist()), (6, good[4].tolist())]
    df = spark.createDataFrame(rows, "id long, features array<double>").coalesce(1)
    out = model.transform(df).orderBy("id").collect()
    labels, dist = naive_nearest(good[[0, 1, 4]], model.medoids())
    assert [r["prediction"] for r in out] == [labels[0], None, None, labels[1], None, None, labels[2]]
    assert [r["dist"] is None for r in out] == [False, True, True, False, True, True, False]
    np.testing.assert_allclose([out[i]["dist"] for i in (0, 3, 6)], dist, rtol=1e-12)


def test_heavy_duplicates_and_k_equal_distinct(spark):
    rng = np.random.default_rng(0)
    distinct = rng.normal(size=(6, 3))
    x = distinct[rng.integers(0, 6, size=3000)]
    model = KMedoids(k=6, seed=2, refinePasses=2).fit(to_df(spark, x, with_id=False))
    assert model.summary.trainingCost == pytest.approx(0.0, abs=1e-12)
    got = {tuple(r) for r in model.medoids()}
    assert got == {tuple(r) for r in distinct}


def test_sample_with_fewer_than_k_distinct_points(spark):
    # 2 big groups + 3 rare points: small samples rarely contain all 5 distinct points
    x = np.vstack([np.zeros((2000, 2)), np.ones((2000, 2)), [[5.0, 5.0]], [[9.0, 0.0]], [[0.0, 9.0]]])
    model = KMedoids(k=5, seed=3, sampleSize=20, refinePasses=5).fit(to_df(spark, x))
    assert model.summary.trainingCost >= 0.0
    assert len(model.medoids()) == 5


def test_one_dimensional_data(spark):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 1, 1000), rng.normal(20, 1, 1000), rng.normal(40, 1, 1000)])[:, None]
    model = KMedoids(k=3, seed=4, refinePasses=3).fit(to_df(spark, x))
    centers = np.sort(model.medoids()[:, 0])
    np.testing.assert_allclose(centers, [0, 20, 40], atol=0.5)


def test_weights_equal_duplication(spark):
    rng = np.random.default_rng(9)
    x = blobs(600, 2, 4, seed=9)
    w = rng.integers(1, 4, size=len(x)).astype(float)
    weighted = KMedoids(k=4, seed=5, weightCol="w", refinePasses=3).fit(to_df(spark, x, weights=w))
    _, dist = naive_nearest(x, weighted.medoids())
    assert weighted.summary.trainingCost == pytest.approx(float((w * dist).sum()), rel=1e-9)
    assert sum(weighted.summary.clusterSizes) == pytest.approx(w.sum())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 1}, "k must be ≥ 2"),
        ({"k": 3, "metric": "nope"}, "unknown metric 'nope'"),
        ({"k": 3, "refine": "sometimes"}, "refine 'sometimes'"),
        ({"k": 3, "sampleSize": 2}, "sampleSize"),
        ({"k": 3, "sampleSize": 100000}, "maxSampleMemoryMB"),
        ({"k": 3, "featuresCol": "missing"}, "featuresCol 'missing'"),
        ({"k": 3, "metric": "haversine"}, "haversine"),
    ],
)
def test_bad_parameters_fail_early(blob_df, kwargs, match):
    with pytest.raises(InputError, match=match):
        KMedoids(**kwargs).fit(blob_df)


def test_bad_data_is_named(spark):
    import pandas as pd

    def df_of(rows):
        # plain Python rows: a pandas round trip would turn NaN into null
        return spark.createDataFrame(list(enumerate(rows)), "id long, features array<double>")

    with pytest.raises(InputError, match=r"NaN or infinite.*position\(s\) \[0\].*id=1"):
        KMedoids(k=2, idCol="id").fit(df_of([[0.0, 1.0], [float("nan"), 1.0], [2.0, 2.0]]))
    with pytest.raises(InputError, match="NaN or infinite"):
        KMedoids(k=2).fit(df_of([[0.0, 1.0], [float("-inf"), 1.0], [2.0, 2.0]]))
    with pytest.raises(InputError, match="ragged"):
        KMedoids(k=2).fit(df_of([[0.0, 1.0], [1.0], [2.0, 2.0]]))
    with pytest.raises(InputError, match="null"):
        KMedoids(k=2).fit(df_of([[0.0, 1.0], None, [2.0, 2.0]]))
    with pytest.raises(InputError, match="empty"):
        KMedoids(k=2).fit(df_of([[0.0, 1.0]]).limit(0))
    with pytest.raises(InputError, match="distinct points"):
        KMedoids(k=3).fit(df_of([[0.0, 1.0], [0.0, 1.0], [2.0, 2.0]]))
    cols = spark.createDataFrame(pd.DataFrame({"a": [1.0, None, 3.0], "b": [1.0, 2.0, 3.0]}))
    with pytest.raises(InputError, match="'a'"):
        KMedoids(k=2, inputCols=["a", "b"]).fit(cols)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithm": "clarans"},
        {"algorithm": "alternating", "init": "kmedoids++"},
        {"algorithm": "pam", "init": "build", "sampleSize": 300},
        {"refine": "medoids"},
        {"refine": "none"},
        {"metric": "manhattan"},
    ],
)
def test_algorithms_and_refine_modes_report_true_costs(spark, kwargs):
    from scipy.spatial.distance import cdist

    x = blobs(1500, 3, 5, seed=12)
    model = KMedoids(k=5, seed=6, refinePasses=3, **kwargs).fit(to_df(spark, x))
    metric = {"manhattan": "cityblock"}.get(kwargs.get("metric", "euclidean"), "euclidean")
    dist = cdist(x, model.medoids(), metric=metric).min(axis=1)
    assert model.summary.trainingCost == pytest.approx(dist.sum(), rel=1e-9)
    assert model.summary.refineMode == kwargs.get("refine", "swaps")
    if kwargs.get("refine") == "none":
        assert model.summary.refinePasses == []
    # refinement never ends worse than the best sample-based medoids (interacting swaps are verified)
    assert model.summary.trainingCost <= model.summary.rounds[-1].best_cost * (1 + 1e-9)
