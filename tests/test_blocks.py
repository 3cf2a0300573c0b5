"""Resident blocks (``sparkmed.data.blocks``) and the passes over them (``sparkmed.fit.passes``): a pass gives the same
sums bit for bit whether every block is read from the executor's resident store, some or all of them are
missing (the fallback recomputes those partitions from Spark's cached blocks), or there is no store at all;
and ``release`` removes the files."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest
from spark_data import blobs, to_df

from sparkmed.data.blocks import new_store, release
from sparkmed.data.features import FeatureSpec, prepare
from sparkmed.data.packing import pack_and_validate
from sparkmed.data.pass_log import counting_passes
from sparkmed.fit.pass_engine import partition_sums


def _make_sums():
    """A nested function: cloudpickle ships it by value (executors cannot import this test module)."""

    def sums(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        return np.array([ws.sum(), float(np.dot(ws, xs[:, 0])), float((xs**2).sum()), len(ws)])

    return sums


_sums = _make_sums()


def _files(spark, store: str) -> list[str]:
    """The resident files of ``store`` on this machine (local mode: the executor is this machine)."""
    roots = {os.environ.get("SPARK_LOCAL_DIRS", ""), "/tmp", *glob.glob("/tmp/spark-*"),
             *glob.glob("/tmp/spark-*/*"), *glob.glob("/tmp/blockmgr-*")}
    out: list[str] = []
    for root in roots:
        if root:
            out += glob.glob(os.path.join(root, store, "*.f64"))
    return sorted(out)


@pytest.fixture(scope="module")
def packed(spark):
    x = blobs(5000, 3, 4, seed=9)
    df = to_df(spark, x, partitions=3, weights=np.linspace(0.5, 2.0, len(x)))
    spec = FeatureSpec(featuresCol="features", weightCol="w")
    store = new_store()
    blocks, _ = pack_and_validate(prepare(df, spec), spec, store)
    plain, _ = pack_and_validate(prepare(df, spec), spec, None)
    yield x, blocks, plain, store
    release(blocks)
    blocks.unpersist()
    plain.unpersist()


def test_resident_pass_equals_fallback_and_numpy(spark, packed):
    x, blocks, plain, store = packed
    files = _files(spark, store)
    assert files, "the packing tasks wrote no resident files"
    resident = partition_sums(blocks, 3, 4, _sums, "test: resident")
    no_store = partition_sums(plain, 3, 4, _sums, "test: no store")  # every partition through the fallback
    np.testing.assert_array_equal(resident, no_store)
    w = np.linspace(0.5, 2.0, len(x))
    np.testing.assert_allclose(resident, [w.sum(), np.dot(w, x[:, 0]), (x**2).sum(), len(x)], rtol=1e-12)


def test_missing_block_is_recomputed_identically(spark, packed):
    _, blocks, _, store = packed
    before = partition_sums(blocks, 3, 4, _sums, "test: before")
    files = _files(spark, store)
    moved = files[0] + ".away"
    os.replace(files[0], moved)  # as if the task ran on an executor that does not hold this block
    try:
        with counting_passes() as passes:
            after = partition_sums(blocks, 3, 4, _sums, "test: one block missing")
        np.testing.assert_array_equal(before, after)
        assert passes == ["test: one block missing"]  # the fallback is part of the same pass
    finally:
        os.replace(moved, files[0])


def test_release_removes_the_files(spark):
    df = to_df(spark, blobs(300, 2, 2, seed=1), partitions=2)
    store = new_store()
    blocks, _ = pack_and_validate(prepare(df, FeatureSpec()), FeatureSpec(), store)
    assert _files(spark, store)
    release(blocks)
    assert not _files(spark, store)
    blocks.unpersist()


def test_last_pass_deletes_the_files_and_later_passes_still_agree(spark):
    df = to_df(spark, blobs(2000, 2, 3, seed=4), partitions=2)
    store = new_store()
    blocks, _ = pack_and_validate(prepare(df, FeatureSpec()), FeatureSpec(), store)
    first = partition_sums(blocks, 2, 4, _sums, "test: last", last=True)
    assert not _files(spark, store)
    np.testing.assert_array_equal(first, partition_sums(blocks, 2, 4, _sums, "test: after the last"))
    blocks.unpersist()
