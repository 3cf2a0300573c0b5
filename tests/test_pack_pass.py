"""Spark-free checks of the helpers of ``sparkmed.data.packing``: the distinct-key sketch and the per-batch checks.

The Spark side of the pass (one job, the error messages) is covered by tests/test_input_checks.py, the bad-input
catalogue and tests/test_pass_counts.py."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sparkmed.data.features import ID, KEY, W, X
from sparkmed.data.packing import KMV_SIZE, _batch_problems, _estimate, _smallest


def _keys(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**64 - 1, size=n, dtype=np.uint64)


def test_sketch_is_exact_below_its_size():
    keys = _keys(1000, 1)
    sketch = _smallest(np.zeros(0, np.uint64), np.concatenate([keys, keys[:500]]))  # repeats count once
    assert _estimate(sketch) == (1000, True)


def test_sketch_merges_like_one_sketch_of_the_union():
    keys = _keys(50_000, 2)
    whole = _smallest(np.zeros(0, np.uint64), keys)
    parts = np.zeros(0, np.uint64)
    for chunk in np.array_split(keys, 7):  # partitions in any order give the same sketch
        parts = _smallest(parts, _smallest(np.zeros(0, np.uint64), chunk))
    np.testing.assert_array_equal(whole, parts)


@pytest.mark.parametrize("n", [20_000, 300_000])
def test_sketch_estimate_within_four_sigma(n):
    est, exact = _estimate(_smallest(np.zeros(0, np.uint64), _keys(n, n)))
    assert not exact
    assert abs(est / n - 1) < 4 / np.sqrt(KMV_SIZE - 2)


def _batch(xs: list, ws: list, ids: list | None = None) -> pa.RecordBatch:
    cols = {X: pa.array(xs, pa.list_(pa.float64())), W: pa.array(ws, pa.float64()),
            KEY: pa.array(range(len(ws)), pa.int64())}
    if ids is not None:
        cols[ID] = pa.array(ids, pa.string())
    return pa.RecordBatch.from_pydict(cols)


def test_batch_checks_count_every_kind_of_bad_row():
    good = _batch([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0], ["a", "b"])
    bad, lo, hi, flat = _batch_problems(good, True)
    assert (bad, lo, hi) == (0, 2, 2)
    np.testing.assert_array_equal(flat, [1.0, 2.0, 3.0, 4.0])
    cases = [
        _batch([[1.0, None], [3.0, 4.0]], [1.0, 1.0]),  # a null value
        _batch([None, [3.0, 4.0]], [1.0, 1.0]),  # a null vector
        _batch([[1.0, float("nan")], [3.0, 4.0]], [1.0, 1.0]),
        _batch([[1.0, float("-inf")], [3.0, 4.0]], [1.0, 1.0]),
        _batch([[1.0, 2.0], [3.0, 4.0]], [1.0, -1.0]),  # negative weight
        _batch([[1.0, 2.0], [3.0, 4.0]], [1.0, float("inf")]),
        _batch([[1.0, 2.0], [3.0, 4.0]], [1.0, None]),
        _batch([[], []], [1.0, 1.0]),  # empty vectors
    ]
    for batch in cases:
        assert _batch_problems(batch, False)[0] > 0, batch.to_pydict()
    assert _batch_problems(_batch([[1.0], [2.0]], [1.0, 1.0], ["a", None]), True)[0] == 1  # null id
    ragged = _batch_problems(_batch([[1.0], [2.0, 3.0]], [1.0, 1.0]), False)
    assert ragged[1:3] == (1, 2)  # ragged rows are reported by their lengths


def test_batch_checks_read_sliced_batches():
    batch = _batch([[9.0, float("nan")], [1.0, 2.0], [3.0, 4.0]], [1.0, 1.0, 1.0]).slice(1)
    bad, lo, hi, flat = _batch_problems(batch, False)
    assert (bad, lo, hi) == (0, 2, 2)
    np.testing.assert_array_equal(flat, [1.0, 2.0, 3.0, 4.0])
