"""Tests of the per-batch FasterPAM swap-delta accumulator against brute-force swaps."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from naive_metrics import (
    dim_for,
    make_points,
    naive_cross,
    naive_nearest_two,
    naive_swap_change,
    naive_total_cost,
)

from sparkmed.kernels import swap_delta as sd
from sparkmed.kernels.assign import CHUNK_ROWS
from sparkmed.kernels.distances import METRIC_NAMES, TARGET_TILE


def summed_over_batches(X, M, Cand, name="euclidean", p=2.0, weights=None, nbatches=3):
    """Call swap_deltas on disjoint batches of rows and add the four outputs."""
    parts = np.array_split(np.arange(len(X)), nbatches)
    loss, removal, delta, shared = 0.0, 0.0, 0.0, 0.0
    for idx in parts:
        w = None if weights is None else weights[idx]
        lo, re, de, sh = sd.swap_deltas(X[idx], M, Cand, name, p=p, weights=w)
        loss, removal, delta, shared = loss + lo, removal + re, delta + de, shared + sh
    return loss, removal, delta, shared


def naive_terms(X, M, Cand, name, p=2.0, weights=None):
    """The four outputs computed plainly from the definition (loops over rows and candidates)."""
    labels, dn, ds = naive_nearest_two(X, M, name, p)
    w = np.ones(len(X)) if weights is None else weights
    Dc = naive_cross(X, Cand, name, p)
    removal = np.zeros(len(M))
    delta = np.zeros((len(Cand), len(M)))
    shared = np.zeros(len(Cand))
    for o in range(len(X)):
        removal[labels[o]] += w[o] * (ds[o] - dn[o])
        for c in range(len(Cand)):
            d = Dc[o, c]
            if d < dn[o]:
                shared[c] += w[o] * (d - dn[o])
                delta[c, labels[o]] += w[o] * (dn[o] - ds[o])
            elif d < ds[o]:
                delta[c, labels[o]] += w[o] * (d - ds[o])
    return float(np.sum(w * dn)), removal, delta, shared


@pytest.mark.parametrize(
    "name", ["euclidean", "manhattan", "cosine", "haversine", "minkowski", "sqeuclidean"]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_swap_change_equals_brute_force(name, dtype):
    rng = np.random.default_rng(1)
    d = dim_for(name, 3)
    n, k, c = 240, 5, 9
    X = make_points(name, n, d, rng, dtype)
    w = rng.uniform(0.0, 3.0, n)
    M = X[rng.choice(n, k, replace=False)]
    Cand = np.vstack([X[rng.choice(n, c - 1, replace=False)], make_points(name, 1, d, rng, dtype)])
    loss, removal, delta, shared = summed_over_batches(X, M, Cand, name, p=3.0, weights=w)
    assert removal.shape == (k,) and delta.shape == (c, k) and shared.shape == (c,)
    assert loss == pytest.approx(naive_total_cost(X, M, name, 3.0, w), rel=1e-12)
    want = naive_swap_change(X, M, Cand, name, 3.0, w)
    got = removal[None, :] + delta + shared[:, None]
    scale = max(1.0, np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_terms_match_naive_definition(name):
    rng = np.random.default_rng(2)
    d = dim_for(name, 6)
    X = make_points(name, 100, d, rng)
    M = make_points(name, 4, d, rng)
    Cand = make_points(name, 7, d, rng)
    if name in ("jaccard", "hamming"):  # avoid ties in n(o), which the decomposition resolves arbitrarily
        M = np.array([[0.0] * d, [1.0] * d, [1.0] * (d // 2) + [0.0] * (d - d // 2), [0.0, 1.0] * (d // 2)])
    w = rng.uniform(0.0, 2.0, 100)
    got = summed_over_batches(X, M, Cand, name, p=1.5, weights=w)
    want = naive_terms(X, M, Cand, name, 1.5, w)
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    for g, wnt in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(g, wnt, rtol=1e-10, atol=1e-10)
    # the swap identity holds whatever the ties
    change = got[1][None, :] + got[2] + got[3][:, None]
    np.testing.assert_allclose(change, naive_swap_change(X, M, Cand, name, 1.5, w), rtol=1e-9, atol=1e-9)


def test_weights_are_duplication():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 2))
    w = rng.integers(0, 4, 150)
    Xr = np.repeat(X, w, axis=0)
    M, Cand = X[:4], X[10:16]
    for a, b in zip(sd.swap_deltas(X, M, Cand, weights=w), sd.swap_deltas(Xr, M, Cand), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_additive_over_batches():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3 * CHUNK_ROWS + 11, 4))
    M, Cand = X[:6], rng.normal(size=(TARGET_TILE + 5, 4))  # more than one candidate tile
    whole = sd.swap_deltas(X, M, Cand)
    parts = summed_over_batches(X, M, Cand, nbatches=4)
    assert parts[0] == pytest.approx(whole[0], rel=1e-12)
    for a, b in zip(parts[1:], whole[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-9)


def test_single_medoid():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 3))
    M, Cand = X[:1], X[5:12]
    loss, removal, delta, shared = summed_over_batches(X, M, Cand)
    assert removal.shape == (1,) and np.isinf(removal[0]) and removal[0] > 0
    assert np.isfinite(delta).all() and np.isfinite(shared).all()
    want = naive_swap_change(X, M, Cand, "euclidean")
    np.testing.assert_allclose(delta + shared[:, None], want, rtol=1e-9, atol=1e-9)
    # an empty batch still reports removal = inf for k = 1
    lo, re, de, sh = sd.swap_deltas(X[:0], M, Cand)
    assert lo == 0.0 and np.isinf(re).all() and not de.any() and not sh.any()


def test_empty_batch_duplicates_and_no_candidates():
    M = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])  # duplicated medoid: ds == dn for its points
    lo, re, de, sh = sd.swap_deltas(np.zeros((0, 2)), M, M[:2])
    assert lo == 0.0 and re.tolist() == [0.0, 0.0, 0.0] and de.shape == (2, 3) and not de.any()
    X = np.array([[1.0, 1.0], [0.9, 1.0], [0.1, 0.0]])
    lo, re, de, sh = sd.swap_deltas(X, M, np.zeros((0, 2)))
    assert de.shape == (0, 3) and sh.shape == (0,)
    assert re[1] == 0.0 and re[2] == 0.0  # removing one of two identical medoids costs nothing
    Cand = np.array([[0.5, 0.5], [1.0, 1.0]])
    _, re, de, sh = sd.swap_deltas(X, M, Cand)
    np.testing.assert_allclose(re[None, :] + de + sh[:, None], naive_swap_change(X, M, Cand, "euclidean"))


def test_deterministic_across_thread_counts():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(4 * CHUNK_ROWS + 9, 5))
    w = rng.uniform(0, 2, X.shape[0])
    M, Cand = X[:7], X[100:140]
    before = numba.get_num_threads()
    try:
        res = []
        for t in sorted({1, before}):
            numba.set_num_threads(t)
            res.append(sd.swap_deltas(X, M, Cand, weights=w))
    finally:
        numba.set_num_threads(before)
    for r in res[1:]:
        assert r[0] == res[0][0]
        for a, b in zip(r[1:], res[0][1:], strict=True):
            np.testing.assert_array_equal(a, b)


def test_chunk_rows_for():
    assert sd.chunk_rows_for(10**6, 20, 64) == CHUNK_ROWS
    rows = sd.chunk_rows_for(10**6, 300, 1000)
    assert rows % CHUNK_ROWS == 0 and rows > CHUNK_ROWS
    size = 8 * (1 + 300 + 1000 + 300 * 1000)
    nch = -(-(10**6) // rows)
    assert nch * size <= sd.ACCUMULATOR_BUDGET_BYTES or nch <= 8


def test_validation():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="unknown metric 'x'; valid metrics: chebyshev"):
        sd.swap_deltas(X, X[:2], X[:2], "x")
    with pytest.raises(ValueError, match="Cand must be a 2-D"):
        sd.swap_deltas(X, X[:2], np.zeros(2))
    with pytest.raises(ValueError, match="X and Cand must have the same dimension"):
        sd.swap_deltas(X, X[:2], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="M needs at least 1 row"):
        sd.swap_deltas(X, X[:0], X[:2])
    with pytest.raises(ValueError, match="weights must have shape"):
        sd.swap_deltas(X, X[:2], X[:2], weights=np.ones(2))
