"""Tests of nearest_two / total_cost / score_candidates / cluster_stats against the naive oracles."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from naive_metrics import (
    dim_for,
    make_points,
    naive_cluster_stats,
    naive_medoid_silhouette,
    naive_nearest_two,
    naive_score_candidates,
    naive_total_cost,
)
from scipy.spatial.distance import cdist

from sparkmed.kernels import assign as asg
from sparkmed.kernels.block_engine import BLOCK_ROWS, TARGET_TILE, use_parallel
from sparkmed.kernels.dispatch import distance
from sparkmed.kernels.metrics import METRIC_NAMES, metric_code


@pytest.mark.parametrize("name", METRIC_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nearest_two_matches_naive(name, dtype):
    rng = np.random.default_rng(1)
    d = dim_for(name, 5)
    X = make_points(name, 150, d, rng, dtype)
    M = make_points(name, 7, d, rng, dtype)
    labels, dn, ds = asg.nearest_two(X, M, name, p=3.0)
    nl, ndn, nds = naive_nearest_two(X, M, name, p=3.0)
    assert labels.dtype == np.int64 and dn.dtype == np.float64 and ds.dtype == np.float64
    np.testing.assert_allclose(dn, ndn, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ds, nds, rtol=1e-12, atol=1e-12)
    # labels agree wherever the nearest medoid is not tied (binary metrics tie often)
    untied = nds > ndn
    np.testing.assert_array_equal(labels[untied], nl[untied])
    # and the label always points at a medoid at distance dn, bit for bit
    code = metric_code(name)
    for o in range(0, 150, 7):
        assert distance(code, X[o], M[labels[o]], 3.0) == dn[o]


def test_ties_go_to_lowest_index():
    M = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    X = np.array([[0.0, 0.0], [0.0, 1.0], [0.2, 0.2], [-0.5, 0.5]])
    labels, dn, ds = asg.nearest_two(X, M)
    assert labels.tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(dn, [1.0, 0.0, np.hypot(0.2, 0.8), np.hypot(0.5, 0.5)])
    np.testing.assert_allclose(ds, [1.0, 0.0, np.hypot(0.2, 0.8), np.hypot(0.5, 0.5)])
    # binary metric, heavy ties
    Xb = np.array([[1.0, 0, 0, 0], [0, 0, 0, 0]])
    Mb = np.array([[0.0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]])
    labels, dn, ds = asg.nearest_two(Xb, Mb, "hamming")
    assert labels.tolist() == [2, 0]
    np.testing.assert_allclose(dn, [0.0, 0.25])
    np.testing.assert_allclose(ds, [0.5, 0.25])


def test_k1_n1_d1_and_empty():
    X = np.array([[1.0], [4.0], [-2.0]])
    labels, dn, ds = asg.nearest_two(X, np.array([[2.0]]))
    assert labels.tolist() == [0, 0, 0]
    np.testing.assert_array_equal(dn, [1.0, 2.0, 4.0])
    assert np.isinf(ds).all()
    labels, dn, ds = asg.nearest_two(X[:1], np.array([[2.0], [0.5]]))
    assert labels.tolist() == [1] and dn.tolist() == [0.5] and ds.tolist() == [1.0]
    labels, dn, ds = asg.nearest_two(np.zeros((0, 3)), np.ones((2, 3)))
    assert labels.shape == dn.shape == ds.shape == (0,)
    assert asg.total_cost(np.zeros((0, 3)), np.ones((2, 3))) == 0.0
    np.testing.assert_array_equal(asg.score_candidates(np.zeros((0, 3)), np.ones((4, 2, 3))), np.zeros(4))
    cost, sizes, per = asg.cluster_stats(np.zeros((0, 3)), np.ones((2, 3)))
    assert cost == 0.0 and sizes.tolist() == [0.0, 0.0] and per.tolist() == [0.0, 0.0]
    assert asg.score_candidates(X, np.ones((0, 2, 1))).shape == (0,)


def test_many_rows_and_medoids_cross_blocks_chunks_and_tiles():
    """n spans several chunks and a partial block; k spans several target tiles."""
    rng = np.random.default_rng(2)
    n = 2 * asg.CHUNK_ROWS + BLOCK_ROWS + 5
    k = 2 * TARGET_TILE + 3
    X = rng.normal(size=(n, 3)).astype(np.float32)
    M = rng.normal(size=(k, 3))
    labels, dn, ds = asg.nearest_two(X, M)
    Dm = cdist(X.astype(np.float64), M)
    np.testing.assert_array_equal(labels, np.argmin(Dm, axis=1))
    S = np.sort(Dm, axis=1)
    np.testing.assert_allclose(dn, S[:, 0], rtol=1e-12)
    np.testing.assert_allclose(ds, S[:, 1], rtol=1e-12)


def test_float32_equals_its_float64_copy():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 6)).astype(np.float32)
    M = rng.normal(size=(9, 6)).astype(np.float32)
    for got, want in zip(asg.nearest_two(X, M), asg.nearest_two(X.astype(np.float64), M), strict=True):
        np.testing.assert_array_equal(got, want)
    C = rng.normal(size=(4, 3, 6)).astype(np.float32)
    np.testing.assert_array_equal(asg.score_candidates(X, C), asg.score_candidates(X.astype(np.float64), C))


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_total_cost_and_stats_match_naive(name):
    rng = np.random.default_rng(4)
    d = dim_for(name, 4)
    X = make_points(name, 120, d, rng)
    M = make_points(name, 5, d, rng)
    w = rng.uniform(0.0, 3.0, 120)
    assert asg.total_cost(X, M, name, p=1.5) == pytest.approx(naive_total_cost(X, M, name, 1.5), rel=1e-12)
    assert asg.total_cost(X, M, name, p=1.5, weights=w) == pytest.approx(
        naive_total_cost(X, M, name, 1.5, w), rel=1e-12
    )
    cost, sizes, per = asg.cluster_stats(X, M, name, p=1.5, weights=w)
    ncost, nsizes, nper = naive_cluster_stats(X, M, name, 1.5, w)
    assert cost == pytest.approx(ncost, rel=1e-12)
    assert cost == asg.total_cost(X, M, name, p=1.5, weights=w)
    if name not in ("jaccard", "hamming"):  # tie-free: labels are unambiguous
        np.testing.assert_allclose(sizes, nsizes, rtol=1e-12)
        np.testing.assert_allclose(per, nper, rtol=1e-12, atol=1e-12)
    assert sizes.sum() == pytest.approx(w.sum(), rel=1e-12)
    assert per.sum() == pytest.approx(cost, rel=1e-12)


@pytest.mark.parametrize("name", METRIC_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_score_candidates_matches_naive(name, dtype):
    rng = np.random.default_rng(5)
    d = dim_for(name, 3)
    X = make_points(name, 90, d, rng, dtype)
    C = make_points(name, 6 * 4, d, rng, dtype).reshape(6, 4, d)
    w = rng.uniform(0.0, 2.0, 90)
    got = asg.score_candidates(X, C, name, p=2.5, weights=w)
    assert got.dtype == np.float64 and got.shape == (6,)
    np.testing.assert_allclose(got, naive_score_candidates(X, C, name, 2.5, w), rtol=1e-12)
    for j in range(6):  # same summation order as total_cost: equal to rounding
        assert got[j] == pytest.approx(asg.total_cost(X, C[j], name, p=2.5, weights=w), rel=1e-14)


def test_score_candidates_large_sets_and_many_rows():
    """k larger than a target tile (one set per tile) and sets that do not divide the tile."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(asg.CHUNK_ROWS + 77, 5))
    for c, k in [(3, TARGET_TILE + 9), (7, 45), (2, 1)]:
        C = rng.normal(size=(c, k, 5))
        want = [cdist(X, C[j]).min(axis=1).sum() for j in range(c)]
        np.testing.assert_allclose(asg.score_candidates(X, C), want, rtol=1e-12)


def test_weights_are_duplication():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 4))
    w = rng.integers(0, 4, 200)
    Xr = np.repeat(X, w, axis=0)
    M = X[:6]
    C = rng.normal(size=(5, 6, 4))
    assert asg.total_cost(X, M, weights=w.astype(float)) == pytest.approx(asg.total_cost(Xr, M), rel=1e-12)
    np.testing.assert_allclose(asg.score_candidates(X, C, weights=w), asg.score_candidates(Xr, C), rtol=1e-12)
    _, sizes, per = asg.cluster_stats(X, M, weights=w)
    _, sizes_r, per_r = asg.cluster_stats(Xr, M)
    np.testing.assert_allclose(sizes, sizes_r, rtol=1e-12)
    np.testing.assert_allclose(per, per_r, rtol=1e-12)


def test_large_offset_accuracy():
    """Tight clusters far from the origin: the direct (x - m) form keeps ~1e-12 relative accuracy."""
    rng = np.random.default_rng(8)
    X = 1e5 + rng.normal(scale=1e-2, size=(3000, 8))
    C = 1e5 + rng.normal(scale=1e-2, size=(4, 5, 8))
    want = [cdist(X, C[j]).min(axis=1).sum() for j in range(4)]
    np.testing.assert_allclose(asg.score_candidates(X, C), want, rtol=1e-12)
    sq = [cdist(X, C[j], "sqeuclidean").min(axis=1).sum() for j in range(4)]
    np.testing.assert_allclose(asg.score_candidates(X, C, "sqeuclidean"), sq, rtol=1e-12)


def test_deterministic_across_thread_counts():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(25 * asg.CHUNK_ROWS + 3, 8))
    w = rng.uniform(0, 5, X.shape[0])
    C = rng.normal(size=(3, 7, 8))
    # with more than one thread, the parallel driver really runs: both drivers are compared
    assert use_parallel(X.shape[0], X.shape[0] * 21 * 8, asg.CHUNK_ROWS) == (numba.get_num_threads() > 1)
    before = numba.get_num_threads()
    try:
        res = []
        for t in sorted({1, before}):
            numba.set_num_threads(t)
            res.append((asg.score_candidates(X, C, weights=w), asg.total_cost(X, C[0], weights=w)))
    finally:
        numba.set_num_threads(before)
    for r in res[1:]:
        np.testing.assert_array_equal(r[0], res[0][0])
        assert r[1] == res[0][1]
    again = asg.score_candidates(X, C, weights=w)
    np.testing.assert_array_equal(again, res[0][0])


def test_validation():
    X = np.zeros((4, 2))
    M = np.ones((2, 2))
    with pytest.raises(
        ValueError, match="unknown metric 'nope'; valid metrics: chebyshev, cosine, euclidean"
    ):
        asg.nearest_two(X, M, "nope")
    with pytest.raises(ValueError, match="unknown metric"):
        asg.score_candidates(X, M[None], "nope")
    with pytest.raises(ValueError, match="M needs at least 1 row"):
        asg.nearest_two(X, np.zeros((0, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        asg.total_cost(X, np.ones((2, 3)))
    with pytest.raises(ValueError, match="C must be a 3-D"):
        asg.score_candidates(X, M)
    with pytest.raises(ValueError, match="k >= 1"):
        asg.score_candidates(X, np.ones((2, 0, 2)))
    with pytest.raises(ValueError, match="C contains NaN"):
        asg.score_candidates(X, np.full((1, 1, 2), np.nan))
    with pytest.raises(ValueError, match="weights must have shape"):
        asg.total_cost(X, M, weights=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        asg.score_candidates(X, M[None], weights=-np.ones(4))
    with pytest.raises(ValueError, match="weights contains NaN"):
        asg.cluster_stats(X, M, weights=np.full(4, np.nan))
    with pytest.raises(ValueError, match="X contains NaN"):
        asg.nearest_two(np.full((1, 2), np.inf), M)
    with pytest.raises(ValueError, match="p >= 1"):
        asg.nearest_two(X, M, "minkowski", p=0.2)


@pytest.mark.parametrize("k", [1, 3])
def test_cluster_sums_of_an_assignment(k):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 3))
    M = X[:k]
    w = rng.random(300)
    labels, dn, ds = asg.nearest_two(X, M)
    s = asg.cluster_sums(labels, dn, ds, w, k)
    cost, sizes, per = naive_cluster_stats(X, M, "euclidean", 2.0, w)
    assert s["cost"] == pytest.approx(cost, rel=1e-12)
    np.testing.assert_allclose(s["sizes"], sizes, rtol=1e-12)
    np.testing.assert_allclose(s["cluster_costs"], per, rtol=1e-12)
    assert s["total_weight"] == pytest.approx(w.sum(), rel=1e-12)
    assert s["silhouette_sum"] == pytest.approx(naive_medoid_silhouette(dn, ds, w) * w.sum(), rel=1e-12, abs=1e-12)


def test_transition_sums_match_a_naive_table():
    from sparkmed.kernels import transition_sums

    rng = np.random.default_rng(11)
    prev, now, w = rng.integers(0, 3, 500), rng.integers(0, 5, 500), rng.random(500)
    naive = np.zeros((3, 5))
    for i, j, wi in zip(prev, now, w, strict=True):
        naive[i, j] += wi
    table = transition_sums(prev, now, w, 3, 5)
    assert table.shape == (3, 5) and np.allclose(table, naive, rtol=1e-12)
    assert np.allclose(table.sum(axis=0), np.bincount(now, weights=w, minlength=5))
