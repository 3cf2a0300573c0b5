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
