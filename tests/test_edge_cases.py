"""Numerical edge cases of the fit, through the API (``KMedoids`` on the real ``spark`` session) and the kernels.

- all rows identical (k=2): a clear ``InputError`` naming the number of distinct points;
- two distinct rows (k=2): the medoids are exactly those two rows and the cost is 0;
- extreme magnitudes (~1e150 and ~1e-150, float64): results must be finite, the reported cost must be the
  naive numpy float64 cost of the medoids found, and — scaling by a power of two is exact in floating
  point — the medoids must be those of the same data at magnitude 1, with the cost scaled;
- a float32 features column (``array<float>``);
- d=1 and d=2000 (small n).

Known failures are ``xfail(strict=True)`` with the cause in the reason (the fix belongs in sparkmed/).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from spark_data import blobs, to_df

from sparkmed import InputError, KMedoids

pytestmark = pytest.mark.spark

BIG = 2.0**500  # ~3.3e150; a power of two, so x * BIG is exact and every distance scales exactly
SMALL = 2.0**-500  # ~3.1e-151

# The per-sample float32 matrix used to overflow / underflow at these magnitudes; kernels.fit.sample_matrix
# now rescales scale-homogeneous metrics by an exact power of two first (these tests were xfail before).


def naive_cost(x: np.ndarray, medoids: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Σ w·(euclidean distance to the nearest medoid), plain numpy float64."""
    d = np.sqrt(((x[:, None, :] - medoids[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    return float(d.sum() if weights is None else (weights * d).sum())


def assert_medoids_are_rows(x: np.ndarray, medoids: np.ndarray) -> None:
    for m in medoids:
        assert np.any(np.all(x == m, axis=1)), f"medoid {m[:5]} is not a row of the data"


# ---------------------------------------------------------------------------------------------------
# duplicates
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_id", [False, True], ids=["no-idCol", "idCol"])
def test_all_rows_identical_k2_is_a_clear_input_error(spark, with_id):
    x = np.tile([[1.5, -2.0, 3.0]], (500, 1))
    kwargs = {"idCol": "id"} if with_id else {}
    with pytest.raises(InputError, match=r"k=2 is larger than the number of distinct points \(1\)"):
        KMedoids(k=2, **kwargs).fit(to_df(spark, x, with_id=with_id))


@pytest.mark.parametrize("copies", [1, 400], ids=["2-rows", "2-points-x400"])
def test_two_distinct_rows_k2_are_the_medoids_with_zero_cost(spark, copies):
    pts = np.array([[0.25, -7.0], [3.0, 1e-3]])
    x = np.repeat(pts, copies, axis=0)
    model = KMedoids(k=2, seed=3, idCol="id").fit(to_df(spark, x, partitions=2))
    got = sorted(map(tuple, model.medoids()))
    assert got == sorted(map(tuple, pts))
    assert model.summary.trainingCost == 0.0
    assert sorted(model.summary.clusterSizes) == [copies, copies]


# ---------------------------------------------------------------------------------------------------
# extreme magnitudes
# ---------------------------------------------------------------------------------------------------

MAG_FIT = {"k": 4, "seed": 5, "idCol": "id", "sampleSize": 500, "refinePasses": 3}


@pytest.fixture(scope="module")
def mag_data() -> np.ndarray:
    return blobs(2000, 3, 4, seed=41)


@pytest.fixture(scope="module")
def unit_fit(spark, mag_data):
    model = KMedoids(**MAG_FIT).fit(to_df(spark, mag_data, partitions=3))
    return model.medoidIds(), model.summary.trainingCost


@pytest.mark.parametrize(
    "scale",
    [
        pytest.param(BIG, id="1e150"),
        pytest.param(SMALL, id="1e-150"),
    ],
)
def test_extreme_magnitude_fit_is_finite_and_reports_the_naive_cost(spark, mag_data, scale):
    x = mag_data * scale
    model = KMedoids(**MAG_FIT).fit(to_df(spark, x, partitions=3))
    med = model.medoids()
    cost = model.summary.trainingCost
    assert np.isfinite(med).all() and np.isfinite(cost) and cost > 0
    assert_medoids_are_rows(x, med)
    assert cost == pytest.approx(naive_cost(x, med), rel=1e-9)
    assert np.isfinite(model.summary.medoidSilhouette)


@pytest.mark.parametrize(
    "scale",
    [
        pytest.param(BIG, id="1e150"),
        pytest.param(SMALL, id="1e-150"),
    ],
)
def test_extreme_magnitude_fit_equals_the_unit_scale_fit(spark, mag_data, unit_fit, scale):
    ids1, cost1 = unit_fit
    model = KMedoids(**MAG_FIT).fit(to_df(spark, mag_data * scale, partitions=3))
    assert model.medoidIds() == ids1
    assert model.summary.trainingCost == pytest.approx(cost1 * scale, rel=1e-9)


@pytest.mark.parametrize(
    "scale",
    [
        pytest.param(BIG, id="1e150"),
        pytest.param(SMALL, id="1e-150"),
    ],
)
def test_kernel_sample_fit_is_scale_invariant(mag_data, scale):
    """The executor's per-sample fit (``cluster_points``) on x·2^±500 must equal the fit on x."""
    from sparkmed.kernels import cluster_points

    x = mag_data[:600]
    ref = cluster_points(x, 4, random_state=3)
    got = cluster_points(x * scale, 4, random_state=3)
    np.testing.assert_array_equal(np.sort(got.medoids), np.sort(ref.medoids))
    assert got.loss == pytest.approx(ref.loss * scale, rel=1e-9)


@pytest.mark.parametrize("scale", [BIG, SMALL], ids=["1e150", "1e-150"])
def test_kernel_full_data_passes_are_scale_invariant(mag_data, scale):
    """The float64 kernels of the full-data passes (assignment, scoring, swap deltas) scale exactly."""
    from sparkmed.kernels import cross, nearest_two, pairwise, score_candidates, swap_deltas

    x = mag_data
    med = x[[3, 500, 1000, 1500]]
    cands = np.stack([med, x[[10, 20, 30, 40]]])
    pool = x[[7, 77, 777, 1777, 1999]]

    lab1, dn1, ds1 = nearest_two(x, med, "euclidean")
    lab, dn, ds = nearest_two(x * scale, med * scale, "euclidean")
    np.testing.assert_array_equal(lab, lab1)
    np.testing.assert_array_equal(dn, dn1 * scale)
    np.testing.assert_array_equal(ds, ds1 * scale)
    assert np.isfinite(dn).all() and (dn[dn1 > 0] > 0).all()

    np.testing.assert_allclose(score_candidates(x * scale, cands * scale, "euclidean"),
                               score_candidates(x, cands, "euclidean") * scale, rtol=1e-12)
    base = swap_deltas(x, med, pool, "euclidean")
    got = swap_deltas(x * scale, med * scale, pool * scale, "euclidean")
    for a, b in zip(got, base, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b) * scale, rtol=1e-9, atol=0)

    np.testing.assert_array_equal(cross(x[:50] * scale, med * scale), cross(x[:50], med) * scale)
    np.testing.assert_array_equal(pairwise(x[:50] * scale, dtype=np.float64),
                                  pairwise(x[:50], dtype=np.float64) * scale)


# ---------------------------------------------------------------------------------------------------
# float32 input, tiny and huge dimension
# ---------------------------------------------------------------------------------------------------


def test_float32_array_column(spark):
    x32 = blobs(2000, 3, 4, seed=43).astype(np.float32)
    x = x32.astype(np.float64)  # the exact values Spark's cast to double produces
    pdf = pd.DataFrame({"id": np.arange(len(x32), dtype=np.int64), "features": list(x32)})
    df32 = spark.createDataFrame(pdf, "id long, features array<float>").repartition(3)
    assert df32.schema["features"].dataType.simpleString() == "array<float>"
    model = KMedoids(k=4, seed=6, idCol="id", sampleSize=500, refinePasses=3).fit(df32)
    med = model.medoids()
    assert med.dtype == np.float64
    assert_medoids_are_rows(x, med)
    assert model.summary.trainingCost == pytest.approx(naive_cost(x, med), rel=1e-9)
    # same fit as the float64 column of the same (float32-representable) values
    ref = KMedoids(k=4, seed=6, idCol="id", sampleSize=500, refinePasses=3).fit(to_df(spark, x, partitions=3))
    assert model.medoidIds() == ref.medoidIds()
    assert model.summary.trainingCost == pytest.approx(ref.summary.trainingCost, rel=1e-12)
    # transform reads the float32 column too
    out = model.transform(df32).select("id", "prediction").toPandas().sort_values("id")
    labels = cdist(x, med).argmin(axis=1)
    np.testing.assert_array_equal(out["prediction"].to_numpy(), labels)


def test_kernel_float32_points_equal_their_float64_values():
    from sparkmed.kernels import cluster_points, score_candidates

    x32 = blobs(500, 3, 4, seed=44).astype(np.float32)
    a = cluster_points(x32, 4, random_state=1)
    b = cluster_points(x32.astype(np.float64), 4, random_state=1)
    np.testing.assert_array_equal(a.medoids, b.medoids)
    assert a.loss == b.loss
    c = x32[a.medoids][None]
    np.testing.assert_array_equal(score_candidates(x32, c, "euclidean"),
                                  score_candidates(x32.astype(np.float64), c.astype(np.float64), "euclidean"))


def test_one_dimension(spark):
    rng = np.random.default_rng(45)
    x = np.concatenate([rng.normal(-50, 2, 300), rng.normal(0, 2, 300), rng.normal(70, 2, 300)])[:, None]
    model = KMedoids(k=3, seed=7, idCol="id", refinePasses=3).fit(to_df(spark, x))
    med = model.medoids()
    assert med.shape == (3, 1)
    assert_medoids_are_rows(x, med)
    assert model.summary.trainingCost == pytest.approx(naive_cost(x, med), rel=1e-9)
    # in 1-D the optimal medoid of a well separated group is its (weighted) median row
    sorted_meds = np.sort(med[:, 0])
    for m, lo, hi in zip(sorted_meds, (-np.inf, -25, 35), (-25, 35, np.inf), strict=True):
        grp = np.sort(x[(x[:, 0] > lo) & (x[:, 0] < hi), 0])
        assert grp[len(grp) // 2 - 1] <= m <= grp[len(grp) // 2]


def test_two_thousand_dimensions(spark):
    from sparkmed.kernels import cluster_points, pairwise

    x = blobs(240, 2000, 3, seed=46, spread=3.0)
    model = KMedoids(k=3, seed=8, idCol="id", refinePasses=3).fit(to_df(spark, x, partitions=2))
    med = model.medoids()
    assert med.shape == (3, 2000)
    assert_medoids_are_rows(x, med)
    cost = model.summary.trainingCost
    assert cost == pytest.approx(naive_cost(x, med), rel=1e-9)
    # kernel level: the matrix matches scipy, and the optimum of the full matrix is reached
    np.testing.assert_allclose(pairwise(x, dtype=np.float64), cdist(x, x), rtol=1e-12, atol=0)
    full = cluster_points(x, 3, random_state=0)
    assert cost <= naive_cost(x, x[full.medoids]) * (1 + 1e-9)
