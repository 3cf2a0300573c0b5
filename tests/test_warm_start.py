"""Warm-started refits (``KMedoids.setInitialModel``) and their drift, checked independently.

Day 1 is a fit of blobs; day 2 is the same blobs moved a little, with one blob grown. The refit from the
day-1 model must score that model as a candidate (``drift.previous_cost`` = its ``computeCost`` on day 2,
recomputed here through ``transform``), never be worse than it, and report per-cluster shifts and sizes that
a naive numpy recomputation from the medoids gives back. It must not add a pass over the data.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from spark_data import to_df

from sparkmed import KMedoids
from sparkmed.data.pass_log import counting_passes
from sparkmed.errors import InputError

pytestmark = pytest.mark.spark

CENTRES = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [8.0, 8.0]])


def day(seed: int, shift: float, sizes: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(c + shift, 1.0, size=(n, 2)) for c, n in zip(CENTRES, sizes, strict=True)])


@pytest.fixture(scope="module")
def days(spark):
    x1 = day(1, 0.0, (400, 400, 400, 400))
    x2 = day(2, 0.6, (400, 400, 400, 900))
    d1 = to_df(spark, x1, partitions=2).cache()
    d2 = to_df(spark, x2, partitions=3).cache()
    est = KMedoids(k=4, seed=5, sampleSize=300, refineCandidates=60)
    model1 = est.fit(d1)
    yield est, model1, d2, x2
    d1.unpersist()
    d2.unpersist()


def nearest(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.sqrt(((x[:, None, :] - m[None, :, :]) ** 2).sum(-1))
    return d.argmin(1), d.min(1)


def test_refit_scores_the_previous_model_and_is_never_worse(days):
    est, model1, d2, x2 = days
    with counting_passes() as warm_passes:
        model2 = est.copy().setInitialModel(model1).fit(d2)
    drift = model2.summary.drift
    assert drift is not None
    # previous_cost: the day-1 model's cost on day-2 data, recomputed by the model's own pass and by numpy
    assert drift["previous_cost"] == pytest.approx(model1.computeCost(d2), rel=1e-9)
    assert drift["previous_cost"] == pytest.approx(nearest(x2, model1.medoids())[1].sum(), rel=1e-9)
    assert drift["cost"] == pytest.approx(model2.summary.trainingCost, rel=1e-12)
    assert drift["cost"] <= drift["previous_cost"] * (1 + 1e-12)
    assert drift["cost_change"] == pytest.approx(drift["cost"] - drift["previous_cost"])
    with counting_passes() as cold_passes:
        est.copy().fit(d2)
    assert len(warm_passes) <= len(cold_passes) + 1, (warm_passes, cold_passes)  # at most a round more
    def kinds(passes: list[str]) -> set[str]:
        return {re.sub(r"\d+", "N", p) for p in passes}

    assert kinds(warm_passes) == kinds(cold_passes)  # no new kind of pass (round 1 scores one more set)


def test_drift_per_cluster_matches_a_naive_recomputation(days):
    est, model1, d2, x2 = days
    model2 = est.copy().setInitialModel(model1).fit(d2)
    drift = model2.summary.drift
    old, new = model1.medoids(), model2.medoids()
    old_labels, _ = nearest(x2, old)
    new_labels, _ = nearest(x2, new)
    table = np.zeros((4, 4))
    np.add.at(table, (old_labels, new_labels), 1.0)
    kept = 0.0
    for j, c in enumerate(drift["clusters"]):
        i = int(np.argmax(table[:, j]))
        assert c["cluster"] == j and c["previous_cluster"] == i
        assert c["medoid_shift"] == pytest.approx(np.linalg.norm(old[i] - new[j]), rel=1e-9)
        assert c["size"] == table[:, j].sum() == model2.summary.clusterSizes[j]
        assert c["previous_size_on_new_data"] == table[i].sum()
        assert c["previous_size"] == model1.summary.clusterSizes[i]
        assert c["size_change"] == c["size"] - c["previous_size"]
        assert c["kept_share"] == pytest.approx(table[i, j] / table[:, j].sum())
        kept += table[i, j]
    assert drift["reassigned_share"] == pytest.approx(1 - kept / len(x2))
    # the grown blob: its cluster is the largest and grew by about 500 rows
    grown = max(drift["clusters"], key=lambda c: c["size"])
    assert grown["size_change"] > 400
    # blobs moved by 0.6·√2 ≈ 0.85: every medoid moved, none by more than a blob's width
    assert all(0.0 < c["medoid_shift"] < 3.0 for c in drift["clusters"])


def test_a_saved_and_loaded_model_warm_starts_the_same(days, tmp_path):
    from sparkmed import KMedoidsModel

    est, model1, d2, _ = days
    model1.write().save(str(tmp_path / "day1"))
    loaded = KMedoidsModel.load(str(tmp_path / "day1"))
    assert loaded.trainingClusterSizes() == model1.summary.clusterSizes
    a = est.copy().setInitialModel(model1).fit(d2)
    b = est.copy().setInitialModel(loaded).fit(d2)
    assert np.array_equal(a.medoids(), b.medoids()) and a.summary.drift == b.summary.drift


def test_a_cold_fit_has_no_drift(days):
    est, _, d2, _ = days
    assert est.copy().setInitialModel(None).fit(d2).summary.drift is None


@pytest.mark.parametrize("change, message", [
    ({"k": 3}, "initialModel has k=4 medoids but k=3"),
    ({"metric": "manhattan"}, "initialModel was fitted with metric='euclidean' but this fit has metric='manhattan'"),
    ({"idCol": "id"}, "initialModel was fitted without an idCol but this fit has one"),
])
def test_a_mismatched_initial_model_is_refused_before_any_pass(days, change, message):
    est, model1, d2, _ = days
    other = est.copy()
    for name, value in change.items():
        other.set(other.getParam(name), value)
    with counting_passes() as passes, pytest.raises(InputError, match=message):
        other.setInitialModel(model1).fit(d2)
    assert passes == []


def test_a_model_of_another_dimension_is_refused(spark, days):
    est, model1, _, _ = days
    d3 = to_df(spark, np.random.default_rng(0).normal(size=(300, 3)), partitions=1)
    with pytest.raises(InputError, match="initialModel: its medoids have 2 features but .* has 3"):
        est.copy().setInitialModel(model1).fit(d3)


def test_the_report_and_the_end_table_show_the_drift(days):
    from sparkmed.job.report import drift_html
    from sparkmed.job.summary import summary_rows

    est, model1, d2, _ = days
    drift = est.copy().setInitialModel(model1).fit(d2).summary.drift
    page = drift_html(drift)
    assert page.startswith("<h2>Drift from the initial model</h2>") and page.count("<tr>") == 1 + 4
    assert f"{drift['previous_cost']:.6g}" in page and drift_html(None) == ""
    rows = dict(summary_rows({"command": "fit", "k": 4, "drift": drift}))
    assert "previous model's cost" in rows["drift"] and "changed cluster" in rows["drift"]
