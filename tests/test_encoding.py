"""Spark-free checks of the per-batch helpers of ``sparkmed.data.encoding`` (no SparkSession is started).

- ``pad_batch`` on dense rows (``Encoding()``): rows of length ``dim`` come back as an (n, dim) float64 array;
  null rows, rows of another length and rows holding NaN/inf are marked unusable.
- ``pad_batch`` / ``batch_rows`` on sparse (``[nnz, idx..., values...]``) and set (``[s, codes...]``) rows
  given unpadded: padded to ``max(enc.width, largest row)`` in the layouts of ``sparkmed.kernels.layout``
  (sparse ``[nnz, idx_1..idx_W, v_1..v_W]``, set ``[s, c_1..c_W]``), with the medoids re-padded to the same
  width; compared with arrays padded by hand.
- ``Encoding.to_dict`` / ``from_dict`` round trip (through JSON too).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from sparkmed.data.encoding import Encoding, batch_rows, pad_batch

LIST = pa.list_(pa.float64())
NAN, INF = float("nan"), float("inf")

# ------------------------------------------------------------------------------------------------------- dense


def test_dense_all_good_rows():
    x = pa.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], type=LIST)
    rows, ok, width = pad_batch(x, Encoding(), 3)
    assert width == 3
    assert rows.dtype == np.float64 and rows.shape == (2, 3) and rows.flags.c_contiguous
    assert rows.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert ok.tolist() == [True, True]


def test_dense_unusable_rows():
    x = pa.array([[1.0, 2.0, 3.0], None, [1.0, 2.0], [1.0, NAN, 3.0], [INF, 0.0, 0.0], [4.0, 5.0, 6.0],
                  [1.0, 2.0, 3.0, 4.0], [], [0.0, -INF, 1.0], [-7.5, 0.0, 1e300]], type=LIST)
    rows, ok, width = pad_batch(x, Encoding(), 3)
    assert width == 3 and rows.shape == (10, 3)
    assert ok.tolist() == [True, False, False, False, False, True, False, False, False, True]
    assert rows[0].tolist() == [1.0, 2.0, 3.0]
    assert rows[5].tolist() == [4.0, 5.0, 6.0]
    assert rows[9].tolist() == [-7.5, 0.0, 1e300]


def test_dense_null_backed_by_values_and_sliced_batches():
    # a null entry whose slot still holds values in the child array: they must not shift the later rows
    values = pa.array(np.arange(9, dtype=np.float64))
    x = pa.ListArray.from_arrays(pa.array([0, 3, 6, 9], pa.int32()), values, mask=pa.array([False, True, False]))
    rows, ok, _ = pad_batch(x, Encoding(), 3)
    assert ok.tolist() == [True, False, True]
    assert rows[0].tolist() == [0.0, 1.0, 2.0] and rows[2].tolist() == [6.0, 7.0, 8.0]
    # a slice of a batch (offset into the child array)
    whole = pa.array([[1.0, 1.0], [2.0, 2.0], None, [3.0, NAN], [4.0, 4.0]], type=LIST)
    rows, ok, _ = pad_batch(whole.slice(1, 4), Encoding(), 2)
    assert ok.tolist() == [True, False, False, True]
    assert rows[0].tolist() == [2.0, 2.0] and rows[3].tolist() == [4.0, 4.0]


def test_dense_other_value_types():
    rows, ok, _ = pad_batch(pa.array([[1, 2], [3, 4]], type=pa.list_(pa.int32())), Encoding(), 2)
    assert rows.dtype == np.float64 and rows.tolist() == [[1.0, 2.0], [3.0, 4.0]] and ok.all()
    rows, ok, _ = pad_batch(pa.array([[0.5, 2.0], [3.0]], type=pa.list_(pa.float32())), Encoding(), 2)
    assert rows.dtype == np.float64 and rows[0].tolist() == [0.5, 2.0] and ok.tolist() == [True, False]


def test_dense_empty_batch():
    rows, ok, width = pad_batch(pa.array([], type=LIST), Encoding(), 4)
    assert rows.shape == (0, 4) and ok.shape == (0,) and width == 4


def test_batch_rows_dense_keeps_the_medoids():
    medoids = np.array([[0.0, 1.0], [2.0, 3.0]])
    rows, ok, med = batch_rows(pa.array([[1.0, 1.0], None], type=LIST), Encoding(), medoids)
    assert rows[0].tolist() == [1.0, 1.0] and ok.tolist() == [True, False]
    assert np.array_equal(med, medoids)


# ------------------------------------------------------------------------------------------------------ sparse

SPARSE2 = Encoding("sparse", "sparse_euclidean", width=2, size=10)


def test_sparse_rows_padded_to_the_largest_row():
    x = pa.array([
        [2, 0, 3, 1.5, -2.0],  # nnz 2: idx 0, 3; values 1.5, -2
        [1, 5, 7.0],  # nnz 1
        [3, 1, 2, 4, 0.5, 0.25, 0.125],  # nnz 3 > enc.width
        [0],  # the zero vector
        None,
        [],
        [1, 0, NAN],  # a NaN value
    ], type=LIST)
    rows, ok, width = pad_batch(x, SPARSE2, 0)
    assert width == 3
    expected = np.array([
        [2, 0, 3, 0, 1.5, -2.0, 0],
        [1, 5, 0, 0, 7.0, 0, 0],
        [3, 1, 2, 4, 0.5, 0.25, 0.125],
        [0, 0, 0, 0, 0, 0, 0],
    ], dtype=np.float64)
    assert rows.shape == (7, 1 + 2 * 3)
    assert np.array_equal(rows[:4], expected)
    assert ok.tolist() == [True, True, True, True, False, False, False]


def test_sparse_rows_within_the_width_keep_it():
    x = pa.array([[1, 4, 2.0], [2, 1, 8, -1.0, 3.0]], type=LIST)
    rows, ok, width = pad_batch(x, Encoding("sparse", "sparse_euclidean", width=4, size=10), 0)
    assert width == 4
    expected = np.array([[1, 4, 0, 0, 0, 2.0, 0, 0, 0], [2, 1, 8, 0, 0, -1.0, 3.0, 0, 0]], dtype=np.float64)
    assert np.array_equal(rows, expected) and ok.all()


def test_sparse_null_backed_by_values_and_sliced_batches():
    values = pa.array([1, 4, 2.0, 9, 9, 9, 2, 1, 8, -1.0, 3.0])
    x = pa.ListArray.from_arrays(pa.array([0, 3, 6, 11], pa.int32()), values, mask=pa.array([False, True, False]))
    rows, ok, width = pad_batch(x, SPARSE2, 0)
    assert width == 2 and ok.tolist() == [True, False, True]
    assert np.array_equal(rows[[0, 2]], [[1, 4, 0, 2.0, 0], [2, 1, 8, -1.0, 3.0]])
    whole = pa.array([[3, 1, 2, 3, 1.0, 1.0, 1.0], [1, 4, 2.0], None, [2, 1, 8, -1.0, 3.0]], type=LIST)
    rows, ok, width = pad_batch(whole.slice(1), SPARSE2, 0)  # the wide first row is not in the slice
    assert width == 2 and ok.tolist() == [True, False, True]
    assert np.array_equal(rows[[0, 2]], [[1, 4, 0, 2.0, 0], [2, 1, 8, -1.0, 3.0]])


def test_batch_rows_sparse_repads_the_medoids():
    medoids = np.array([[1, 2, 0, 3.0, 0], [2, 0, 4, 1.0, -1.0]])  # width 2: [nnz, i1, i2, v1, v2]
    x = pa.array([[3, 1, 2, 4, 0.5, 0.25, 0.125], [1, 9, 6.0]], type=LIST)
    rows, ok, med = batch_rows(x, SPARSE2, medoids)
    assert np.array_equal(rows, [[3, 1, 2, 4, 0.5, 0.25, 0.125], [1, 9, 0, 0, 6.0, 0, 0]])
    assert ok.all()
    assert np.array_equal(med, [[1, 2, 0, 0, 3.0, 0, 0], [2, 0, 4, 0, 1.0, -1.0, 0]])
    # a batch within the width: the medoids unchanged
    rows, ok, med = batch_rows(pa.array([[1, 9, 6.0]], type=LIST), SPARSE2, medoids)
    assert np.array_equal(rows, [[1, 9, 0, 6.0, 0]]) and np.array_equal(med, medoids)


def test_sparse_batch_rows_agree_with_padding_everything_by_hand():
    rng = np.random.default_rng(5)
    width = 3
    raw, padded_by_hand = [], []
    for _ in range(30):
        nnz = int(rng.integers(0, 7))
        idx = np.sort(rng.choice(50, size=nnz, replace=False)).astype(np.float64)
        val = rng.normal(size=nnz)
        raw.append([float(nnz), *idx, *val])
    W = max(width, max(int(r[0]) for r in raw))
    for r in raw:
        nnz = int(r[0])
        row = np.zeros(1 + 2 * W)
        row[0] = nnz
        row[1 : 1 + nnz] = r[1 : 1 + nnz]
        row[1 + W : 1 + W + nnz] = r[1 + nnz :]
        padded_by_hand.append(row)
    medoids = np.zeros((2, 1 + 2 * width))
    medoids[0, :3] = [1, 7, 0]
    medoids[0, 4] = 2.5
    medoids[1, :4] = [3, 1, 2, 3]
    medoids[1, 4:] = [-1, -2, -3]
    rows, ok, med = batch_rows(pa.array(raw, type=LIST), Encoding("sparse", "sparse_cosine", width=width), medoids)
    assert np.array_equal(rows, np.array(padded_by_hand)) and ok.all()
    med_by_hand = np.zeros((2, 1 + 2 * W))
    med_by_hand[0, :2], med_by_hand[0, 1 + W] = [1, 7], 2.5
    med_by_hand[1, :4], med_by_hand[1, 1 + W : 4 + W] = [3, 1, 2, 3], [-1, -2, -3]
    assert np.array_equal(med, med_by_hand)


# --------------------------------------------------------------------------------------------------------- set

SET3 = Encoding("set", "set_jaccard", width=3)


def test_set_rows_padded_to_the_largest_row():
    x = pa.array([[2, 10, 20], [0], [4, 1, 2, 3, 4], None, [], [1, INF]], type=LIST)
    rows, ok, width = pad_batch(x, SET3, 0)
    assert width == 4
    assert rows.shape == (6, 5)
    assert np.array_equal(rows[:3], [[2, 10, 20, 0, 0], [0, 0, 0, 0, 0], [4, 1, 2, 3, 4]])
    assert ok.tolist() == [True, True, True, False, False, False]


def test_batch_rows_set_repads_the_medoids():
    medoids = np.array([[3, 1, 2, 3], [1, 7, 0, 0]])  # width 3
    x = pa.array([[4, 1, 2, 3, 4], [1, 2**52]], type=LIST)
    rows, ok, med = batch_rows(x, SET3, medoids)
    assert np.array_equal(rows, [[4, 1, 2, 3, 4], [1, 2**52, 0, 0, 0]]) and ok.all()
    assert np.array_equal(med, [[3, 1, 2, 3, 0], [1, 7, 0, 0, 0]])
    rows, ok, med = batch_rows(pa.array([[2, 5, 6]], type=LIST), SET3, medoids)
    assert np.array_equal(rows, [[2, 5, 6, 0]]) and np.array_equal(med, medoids)


def test_set_codes_stay_exact():
    code = float(2**53 - 1)  # the largest 53-bit code
    rows, ok, _ = pad_batch(pa.array([[1, code]], type=LIST), SET3, 0)
    assert rows[0, 1] == code and ok.all()


# ------------------------------------------------------------------------------------------- Encoding (de)serial


@pytest.mark.parametrize("enc", [
    Encoding(),
    Encoding("dense", "manhattan"),
    SPARSE2,
    SET3,
    Encoding("gower", "gower", width=3, columns=("age", "city", "member"), types=(0, 1, 2),
             weights=(1.0, 2.0, 0.5), mins=(18.0, 0.0, 0.0), ranges=(60.0, 0.0, 0.0)),
])
def test_encoding_round_trip(enc):
    d = enc.to_dict()
    assert isinstance(d, dict) and d["kind"] == enc.kind and d["width"] == enc.width
    assert Encoding.from_dict(d) == enc
    back = Encoding.from_dict(json.loads(json.dumps(d)))  # lists from JSON become tuples again
    assert back == enc
    assert isinstance(back.columns, tuple) and isinstance(back.weights, tuple)
    assert hash(back) == hash(enc)


def test_encoding_from_nothing_is_dense():
    assert Encoding.from_dict(None) == Encoding()
    assert Encoding.from_dict({}) == Encoding()
    assert Encoding().kind == "dense" and Encoding().kernel_metric == "euclidean"


def test_padded_kinds():
    assert SPARSE2.padded and SET3.padded
    assert not Encoding().padded
    assert not Encoding("gower", "gower", width=1).padded
