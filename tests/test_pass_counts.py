"""Structure guard, not a timed test: how many Spark jobs and full-data passes each public entry point runs.

Every pass over every row costs seconds on a cluster (the lean-fit issue), so a new one must fail here
rather than hide in a benchmark nobody reran. Jobs are counted with Spark's status tracker (every job of a
job group, whatever started it); full-data passes with ``pass_log.counting_passes`` (every pass over the
input or over the packed blocks announces itself). The numbers are those of this fixed data and seed; a
change that adds a pass or a job must change them here, on purpose, with its reason in the commit.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
from spark_data import blobs, to_df

from sparkmed import KMedoids, MedoidSilhouetteEvaluator, select_k
from sparkmed.data.pass_log import counting_passes


@contextmanager
def counted(spark, group: str):
    """(job ids, pass descriptions) of everything run inside the block."""
    sc = spark.sparkContext
    sc.setJobGroup(group, group)
    out: dict = {}
    try:
        with counting_passes() as passes:
            yield out
        out["passes"] = list(passes)
    finally:
        out["jobs"] = sorted(sc.statusTracker().getJobIdsForGroup(group))
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)


@pytest.fixture(scope="module")
def data(spark):
    df = to_df(spark, blobs(3000, 3, 4, seed=5), partitions=3).cache()
    df.count()
    yield df
    df.unpersist()


def input_passes(passes: list[str]) -> list[str]:
    return [p for p in passes if p.startswith("input:")]


def test_fit_jobs_and_passes(spark, data):
    est = KMedoids(k=4, seed=3, sampleSize=200, refineCandidates=50)
    with counted(spark, "guard-fit") as c:
        model = est.fit(data)
    s = model.summary
    rounds, refines = len(s.rounds), len(s.refinePasses)
    # Over the input: ONE pass validates, counts and packs; one draws all samples. Nothing else reads it.
    assert input_passes(c["passes"]) == ["input: validate, count and pack", "input: draw 16 samples"]
    # Over the packed blocks: one scoring pass per round, one per refinement pass, one for the statistics
    # (plus one more only if unverified swaps must be re-checked).
    block_passes = [p for p in c["passes"] if not p.startswith("input:")]
    assert rounds + refines + 1 <= len(block_passes) <= rounds + refines + 2, block_passes
    # Jobs: the passes, one sample-fit job per round, and 7 small ones: the packing collect runs as 2 jobs,
    # drawing the samples as 3 (range boundaries, shuffle, count), the pool collection, the store cleanup.
    assert len(c["jobs"]) <= len(c["passes"]) + rounds + 7, (c["jobs"], c["passes"])


def test_fit_with_id_col_adds_only_the_id_check(spark, data):
    est = KMedoids(k=4, seed=3, sampleSize=200, refineCandidates=50, idCol="id")
    with counted(spark, "guard-fit-id") as c:
        est.fit(data)
    assert input_passes(c["passes"]) == [
        "input: validate, count and pack", "input: id column (duplicate ids)", "input: draw 16 samples"]


def test_transform_compute_cost_and_evaluator_one_pass_each(spark, data):
    model = KMedoids(k=4, seed=3, sampleSize=200).fit(data)
    with counted(spark, "guard-transform") as c:
        out = model.transform(data)
    assert c["jobs"] == [] and c["passes"] == []  # lazy: transform itself runs nothing
    with counted(spark, "guard-cost") as c:
        cost = model.computeCost(data)
    assert len(c["passes"]) == 1 and len(c["jobs"]) <= 2  # an aggregation: a map job and a result job (AQE)
    assert cost == pytest.approx(model.summary.trainingCost, rel=1e-9)
    with counted(spark, "guard-eval") as c:
        value = MedoidSilhouetteEvaluator().evaluate(out)
    assert len(c["passes"]) == 1 and len(c["jobs"]) <= 2
    assert np.isfinite(value)


def test_select_k_jobs_and_passes(spark, data):
    with counted(spark, "guard-select-k") as c:
        result = select_k(data, ks=[2, 3, 4, 5], seed=3, sampleSize=200, refineCandidates=50)
    assert input_passes(c["passes"]) == ["input: validate, count and pack", "input: draw 6 samples"]
    refines = len(result.model.summary.refinePasses)
    block_passes = [p for p in c["passes"] if not p.startswith("input:")]
    # one pass scores every k's candidates, then the chosen k is refined and summarised
    assert 1 + refines + 1 <= len(block_passes) <= 1 + refines + 2, block_passes
    assert len(c["jobs"]) <= len(c["passes"]) + 1 + 7, (c["jobs"], c["passes"])
