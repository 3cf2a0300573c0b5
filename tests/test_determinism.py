"""Determinism of the distributed fit: same data + same seed → the same medoids and cost, whatever the layout.

Sample membership is a hash of (seed, sample id, row key) and every full-data sum is added in a fixed
order, so neither the number of partitions nor the order of the rows may change the result. Checked with
an ``idCol`` (the row key), for an ``array<double>`` features column, for ``inputCols`` and with a
``weightCol``: medoid ids must be identical and costs equal to 1e-9 relative, across 1, 4 and 16 partitions
and across a shuffled row order (the rows keep their ids and weights).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from spark_data import blobs

from sparkmed import KMedoids

pytestmark = pytest.mark.spark

N, D, K = 6000, 4, 6
# sampleSize well below N so that sample membership (hash of seed, sample, key) really decides something.
FIT = {"k": K, "seed": 23, "sampleSize": 1000, "numSamples": 3, "maxIter": 2, "refinePasses": 4,
       "idCol": "id"}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """N rows: a non-sequential long id, the features as an array and as columns f0..f3, a weight."""
    x = blobs(N, D, K, seed=31)
    rng = np.random.default_rng(32)
    pdf = pd.DataFrame({
        "id": rng.choice(10**12, size=N, replace=False).astype(np.int64),
        "features": list(x),
        "w": rng.integers(1, 5, size=N).astype(np.float64),
    })
    for j in range(D):
        pdf[f"f{j}"] = x[:, j]
    return pdf


def layouts(spark, pdf: pd.DataFrame):
    """(name, DataFrame) of the same rows in 1, 4 and 16 partitions and, in 4 partitions, shuffled."""
    for parts in (1, 4, 16):
        yield f"{parts} partitions", spark.createDataFrame(pdf).repartition(parts)
    perm = np.random.default_rng(33).permutation(len(pdf))
    shuffled = pdf.iloc[perm].reset_index(drop=True)
    yield "shuffled rows, 4 partitions", spark.createDataFrame(shuffled).repartition(4)


def fit_everywhere(spark, pdf: pd.DataFrame, **extra) -> list[tuple[str, list, float]]:
    out = []
    for name, df in layouts(spark, pdf):
        model = KMedoids(**FIT, **extra).fit(df)
        out.append((name, model.medoidIds(), model.summary.trainingCost))
    return out


def assert_all_equal(results: list[tuple[str, list, float]]) -> None:
    ref_name, ref_ids, ref_cost = results[0]
    assert len(ref_ids) == K and len(set(ref_ids)) == K
    for name, ids, cost in results[1:]:
        assert ids == ref_ids, f"{name}: medoid ids {ids} differ from {ref_name}: {ref_ids}"
        assert cost == pytest.approx(ref_cost, rel=1e-9), f"{name}: cost {cost!r} vs {ref_name}: {ref_cost!r}"


@pytest.fixture(scope="module")
def array_results(spark, table):
    return fit_everywhere(spark, table[["id", "features"]])


def test_array_features_same_across_partitions_and_row_order(array_results):
    assert_all_equal(array_results)


def test_cost_is_the_true_cost_of_the_medoids(array_results, table):
    """The common cost is the real full-data cost of the common medoids (not just the same wrong number)."""
    _, ids, cost = array_results[0]
    x = np.stack(table["features"].to_numpy())
    pos = {v: i for i, v in enumerate(table["id"].to_numpy())}
    med = x[[pos[int(v)] for v in ids]]
    naive = np.sqrt(((x[:, None, :] - med[None, :, :]) ** 2).sum(axis=2)).min(axis=1).sum()
    assert cost == pytest.approx(naive, rel=1e-9)


def test_input_cols_same_across_layouts_and_equal_to_array(spark, table, array_results):
    results = fit_everywhere(spark, table[["id", "f0", "f1", "f2", "f3"]],
                             inputCols=[f"f{j}" for j in range(D)])
    assert_all_equal(results)
    # inputCols and the array column carry the same doubles and the same keys: same fit.
    assert_all_equal([array_results[0], results[0]])


def test_weights_same_across_partitions_and_row_order(spark, table):
    results = fit_everywhere(spark, table[["id", "features", "w"]], weightCol="w")
    assert_all_equal(results)
    _, ids, cost = results[0]
    x = np.stack(table["features"].to_numpy())
    pos = {v: i for i, v in enumerate(table["id"].to_numpy())}
    med = x[[pos[int(v)] for v in ids]]
    dist = np.sqrt(((x[:, None, :] - med[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    assert cost == pytest.approx(float((table["w"].to_numpy() * dist).sum()), rel=1e-9)


# ---- across execution modes: Spark Connect vs classic (tests/test_connect.py + tests/connect/) -------------

#: The data and fit compared between a Spark Connect process and the classic session. Both processes build
#: the table with ``cross_mode_table()`` (numpy seed → pandas → ``createDataFrame``), so they fit the same
#: doubles; the Connect side writes ``fit_record(model)`` as JSON to ``$SPARKMED_CONNECT_DETERMINISM_JSON``.
CROSS_MODE_ENV = "SPARKMED_CONNECT_DETERMINISM_JSON"
CROSS_MODE_FIT = {"k": 5, "seed": 41, "sampleSize": 800, "numSamples": 3, "maxIter": 2, "refinePasses": 4,
                  "idCol": "id", "weightCol": "w"}
CROSS_MODE_PARTITIONS = 4


def cross_mode_table() -> pd.DataFrame:
    """3000 rows: a non-sequential long id, array<double> features (blobs, d=3) and integer-valued weights."""
    x = blobs(3000, 3, 5, seed=43)
    rng = np.random.default_rng(44)
    return pd.DataFrame({
        "id": rng.choice(10**12, size=len(x), replace=False).astype(np.int64),
        "features": list(x),
        "w": rng.integers(1, 4, size=len(x)).astype(np.float64),
    })


def cross_mode_fit(spark) -> dict:
    """Fit ``CROSS_MODE_FIT`` on ``cross_mode_table()`` in ``spark`` (classic or Connect): ``fit_record``."""
    df = spark.createDataFrame(cross_mode_table()).repartition(CROSS_MODE_PARTITIONS)
    return fit_record(KMedoids(**CROSS_MODE_FIT).fit(df))


def fit_record(model) -> dict:
    """What must be identical across modes: medoid ids and row keys, the cost (and a few more numbers)."""
    s = model.summary
    return {
        "medoid_ids": [str(v) for v in model.medoidIds()],
        "medoid_keys": [int(v) for v in model.medoidKeys()],
        "cost": float(s.trainingCost),
        "mean_cost": float(s.meanCost),
        "cluster_sizes": [float(v) for v in s.clusterSizes],
        "medoids": np.asarray(model.medoids()).tolist(),
    }


def assert_same_fit(a: dict, b: dict, what: str) -> None:
    """Identical medoid ids, keys and sizes; costs equal to 1e-9 relative."""
    assert a["medoid_ids"] == b["medoid_ids"], f"{what}: medoid ids {a['medoid_ids']} vs {b['medoid_ids']}"
    assert a["medoid_keys"] == b["medoid_keys"], what
    assert a["cluster_sizes"] == b["cluster_sizes"], what
    assert a["cost"] == pytest.approx(b["cost"], rel=1e-9), f"{what}: cost {a['cost']!r} vs {b['cost']!r}"
    assert a["mean_cost"] == pytest.approx(b["mean_cost"], rel=1e-9), what
    np.testing.assert_array_equal(np.array(a["medoids"]), np.array(b["medoids"]), err_msg=what)
