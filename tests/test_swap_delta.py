"""Tests of the per-batch FasterPAM swap-delta accumulator against brute-force swaps."""

from __future__ import annotations

import zlib

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive_metrics import (
    dim_for,
    make_points,
    naive_cross,
    naive_nearest_two,
    naive_swap_change,
    naive_total_cost,
)

from sparkmed.kernels import swap_delta as sd
from sparkmed.kernels import swap_pruned as sp
from sparkmed.kernels.assign import CHUNK_ROWS
from sparkmed.kernels.block_engine import TARGET_TILE
from sparkmed.kernels.metrics import METRIC_NAMES, PRUNABLE_METRICS


def summed_over_batches(X, M, Cand, name="euclidean", p=2.0, weights=None, nbatches=3, prune=None):
    """Call swap_deltas on disjoint batches of rows and add the four outputs."""
    parts = np.array_split(np.arange(len(X)), nbatches)
    loss, removal, delta, shared = 0.0, 0.0, 0.0, 0.0
    for idx in parts:
        w = None if weights is None else weights[idx]
        lo, re, de, sh = sd.swap_deltas(X[idx], M, Cand, name, p=p, weights=w, prune=prune)
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


@pytest.mark.parametrize("prune", [None, False])
def test_additive_over_batches(prune):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3 * CHUNK_ROWS + 11, 4))
    M, Cand = X[:6], rng.normal(size=(TARGET_TILE + 5, 4))  # more than one candidate tile
    whole = sd.swap_deltas(X, M, Cand, prune=prune)
    parts = summed_over_batches(X, M, Cand, nbatches=4, prune=prune)
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


@pytest.mark.parametrize(("prune", "nrows"), [(False, 4 * CHUNK_ROWS + 9), (True, 2 * sp.SEGMENT_ROWS + 9)])
def test_deterministic_across_thread_counts(prune, nrows):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(nrows, 5))
    w = rng.uniform(0, 2, X.shape[0])
    M, Cand = X[:7], X[100:140]
    before = numba.get_num_threads()
    try:
        res = []
        for t in sorted({1, before}):
            numba.set_num_threads(t)
            res.append(sd.swap_deltas(X, M, Cand, weights=w, prune=prune))
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


# ----------------------------------------------------------------------------------------------------
# Triangle-inequality pruning: the pruned kernel must add exactly the terms of the full scan
# ----------------------------------------------------------------------------------------------------

PRUNED = list(PRUNABLE_METRICS)


def clustered_points(name, n, d, rng, dtype=np.float64, centres=6):
    """Tight clusters: far from the origin (rounding), small lat/lon patches, or bit-flipped prototypes."""
    lab = rng.integers(0, centres, n)
    if name == "haversine":
        c = np.column_stack([rng.uniform(-80, 80, centres), rng.uniform(-180, 180, centres)])
        X = c[lab] + rng.normal(scale=0.05, size=(n, 2))
    elif name in ("jaccard", "hamming"):
        c = rng.random((centres, d)) < 0.5
        X = (c[lab] ^ (rng.random((n, d)) < 0.08)).astype(np.float64)
    else:
        c = 1e3 + rng.uniform(-20, 20, size=(centres, d))
        X = c[lab] + rng.normal(scale=0.5, size=(n, d)) * rng.uniform(0.01, 1.0, centres)[lab, None]
    return X.astype(dtype)


def dataset(kind, name, n, d, rng, dtype):
    """Rows, medoids (rows of the data) and candidates (rows and fresh points) of one test case."""
    if kind == "random":
        X = make_points(name, n, d, rng, dtype)
        fresh = make_points(name, n, d, rng, dtype)
    elif kind == "clustered":
        X = clustered_points(name, n, d, rng, dtype)
        fresh = clustered_points(name, n, d, rng, dtype)
    else:  # duplicates: few distinct points; medoids and candidates repeat rows and each other
        base = make_points(name, 7, d, rng, dtype)
        X = base[rng.integers(0, 7, n)]
        fresh = base[rng.integers(0, 7, n)]
    return X, fresh


def prune_pair(X, M, Cand, name, p=2.0, weights=None):
    """(full result, pruned result, full pairs, pruned pairs)."""
    full, nfull = sd.swap_deltas_counted(X, M, Cand, name, p=p, weights=weights, prune=False)
    pruned, npruned = sd.swap_deltas_counted(X, M, Cand, name, p=p, weights=weights, prune=True)
    return full, pruned, nfull, npruned


def assert_same_terms(full, pruned, rtol=1e-12):
    """Equal up to the order of the float64 additions (same-sign sums: a few ulps)."""
    assert pruned[0] == pytest.approx(full[0], rel=rtol, abs=0.0)
    for a, b in zip(full[1:], pruned[1:], strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=rtol, atol=0.0)


@pytest.mark.parametrize("kind", ["random", "clustered", "duplicates"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", PRUNED)
def test_pruned_equals_full_scan(name, dtype, kind):
    rng = np.random.default_rng(zlib.crc32(f"{name} {kind} {np.dtype(dtype).name}".encode()))
    d = dim_for(name, 5)
    n, k, c = 700, 6, 150
    X, fresh = dataset(kind, name, n, d, rng, dtype)
    M = X[rng.choice(n, k, replace=False)]
    Cand = np.vstack([X[rng.choice(n, c // 2, replace=False)], fresh[: c - c // 2], M[:2]])  # and the medoids
    w = rng.uniform(0.0, 3.0, n)
    w[::17] = 0.0
    full, pruned, nfull, npruned = prune_pair(X, M, Cand, name, p=3.0, weights=w)
    assert nfull == n * len(Cand) and 0 <= npruned <= nfull
    assert_same_terms(full, pruned)
    # ... and both agree with the definition
    want = naive_terms(X[:150], M, Cand, name, 3.0, w[:150])
    got = sd.swap_deltas(X[:150], M, Cand, name, p=3.0, weights=w[:150], prune=True)
    for g, wnt in zip(got[1:], want[1:], strict=True):
        np.testing.assert_allclose(g, wnt, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(wnt).max(initial=0.0)))


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0, 20.0, np.inf])
@pytest.mark.parametrize("kind", ["random", "clustered"])
def test_pruned_minkowski_p(p, kind):
    rng = np.random.default_rng(11)
    X, fresh = dataset(kind, "minkowski", 600, 4, rng, np.float64)
    M = X[:5]
    Cand = np.vstack([X[100:180], fresh[:60]])
    full, pruned, _, npruned = prune_pair(X, M, Cand, "minkowski", p=p)
    assert_same_terms(full, pruned)


@pytest.mark.parametrize("name", PRUNED)
@pytest.mark.parametrize("k", [1, 2])
def test_pruned_small_k(name, k):
    rng = np.random.default_rng(12 + k)
    d = dim_for(name, 4)
    X, fresh = dataset("clustered", name, 500, d, rng, np.float64)
    M = X[rng.choice(500, k, replace=False)]
    Cand = np.vstack([X[:60], fresh[:40]])
    full, pruned, nfull, npruned = prune_pair(X, M, Cand, name, p=2.5)
    assert_same_terms(full, pruned)
    if k == 1:  # nothing can be pruned (ds = inf): the full scan runs, bit for bit
        assert npruned == nfull
        for a, b in zip(full[1:], pruned[1:], strict=True):
            np.testing.assert_array_equal(a, b)
        assert np.isinf(pruned[1][0])


@pytest.mark.parametrize("name", PRUNED)
def test_pruned_many_candidates(name):
    """More candidates than one tile (CAND_TILE), rows of several buckets needing several tiles."""
    rng = np.random.default_rng(13)
    d = dim_for(name, 3)
    X, fresh = dataset("random", name, 400, d, rng, np.float32)
    M = X[:9]
    Cand = np.vstack([fresh, X[::2], fresh[:200]])  # c = 400 + 200 + 200 > CAND_TILE
    assert len(Cand) > sp.CAND_TILE
    full, pruned, _, _ = prune_pair(X, M, Cand, name, p=1.5)
    assert_same_terms(full, pruned)


@pytest.mark.parametrize("name", ["manhattan", "chebyshev", "hamming", "minkowski"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pruned_bitwise_on_integer_data(name, data):
    """Small-integer coordinates and weights: every term and sum is exact, so pruned == full bit for bit
    (the same pairs, the same terms), with many exact ties d(o, c) = dn or ds."""
    d = data.draw(st.integers(1, 6))
    n = data.draw(st.integers(1, 60))
    k = data.draw(st.integers(2, 5))
    c = data.draw(st.integers(1, 40))
    hi = 1 if name == "hamming" else 3
    ints = st.integers(0, hi)
    X = np.array(data.draw(st.lists(st.lists(ints, min_size=d, max_size=d), min_size=n, max_size=n)), float)
    M = np.array(data.draw(st.lists(st.lists(ints, min_size=d, max_size=d), min_size=k, max_size=k)), float)
    C = np.array(data.draw(st.lists(st.lists(ints, min_size=d, max_size=d), min_size=c, max_size=c)), float)
    w = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), float)
    p = np.inf if name == "minkowski" else 2.0
    if name == "hamming":  # pad to d = 8: distances are multiples of 1/8, exact
        X, M, C = (np.hstack([A, np.zeros((len(A), 8 - d))]) for A in (X, M, C))
    full, pruned, _, _ = prune_pair(X, M, C, name, p=p, weights=w)
    assert pruned[0] == full[0]
    for a, b in zip(full[1:], pruned[1:], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", PRUNED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_swap_change_equals_brute_force_pruned(name, dtype):
    rng = np.random.default_rng(14)
    d = dim_for(name, 3)
    n, k, c = 150, 5, 36
    X, fresh = dataset("clustered", name, n, d, rng, dtype)
    w = rng.uniform(0.0, 3.0, n)
    M = X[rng.choice(n, k, replace=False)]
    Cand = np.vstack([X[rng.choice(n, c - 4, replace=False)], fresh[:4]])
    loss, removal, delta, shared = summed_over_batches(X, M, Cand, name, p=3.0, weights=w, prune=True)
    assert loss == pytest.approx(naive_total_cost(X, M, name, 3.0, w), rel=1e-12)
    want = naive_swap_change(X, M, Cand, name, 3.0, w)
    got = removal[None, :] + delta + shared[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(want).max()))


def test_pruning_prunes_clustered_data():
    rng = np.random.default_rng(15)
    X = clustered_points("euclidean", 3000, 4, rng, centres=10)
    M = X[rng.choice(3000, 30, replace=False)]
    Cand = X[rng.choice(3000, 300, replace=False)]
    full, pruned, nfull, npruned = prune_pair(X, M, Cand, "euclidean")
    assert_same_terms(full, pruned)
    assert npruned < 0.5 * nfull


def test_pruned_near_antipodal_haversine():
    """Nearly antipodal points, where asin(sqrt(h)) loses precision (h ~ 1): covered by the margin."""
    rng = np.random.default_rng(16)
    base = np.column_stack([rng.uniform(-60, 60, 8), rng.uniform(-180, 180, 8)])
    anti = np.column_stack([-base[:, 0], np.where(base[:, 1] > 0, base[:, 1] - 180, base[:, 1] + 180)])
    pts = np.vstack([base, anti])
    X = pts[rng.integers(0, 16, 800)] + rng.normal(scale=1e-7, size=(800, 2)) * rng.integers(0, 2, (800, 1))
    M = np.vstack([base[:3], anti[3:5]])
    Cand = np.vstack([pts, X[:100] + 1e-9, anti + 1e-6])
    full, pruned, _, _ = prune_pair(X, M, Cand, "haversine")
    assert_same_terms(full, pruned)


@pytest.mark.parametrize("name", ["euclidean", "manhattan", "minkowski"])
@pytest.mark.parametrize("scale", [1e-160, 1e-300, 1e150, 1e300])
def test_pruned_extreme_scales(name, scale):
    """Underflowing squares / powers (margins) and overflowing distances (never pruned)."""
    rng = np.random.default_rng(17)
    X = clustered_points("euclidean", 400, 3, rng) * (scale / 1e3)
    M, Cand = X[:4], np.vstack([X[50:100], X[100:120] * 1.5])
    full, pruned, _, _ = prune_pair(X, M, Cand, name, p=7.0)
    for a, b in zip(full[1:], pruned[1:], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=0.0)
        assert np.array_equal(np.isfinite(a), np.isfinite(b))


def test_pruned_several_chunks_and_segments():
    """n > SEGMENT_ROWS: several chunks (parallel driver) and several segments per chunk."""
    rng = np.random.default_rng(18)
    n = 9 * sp.SEGMENT_ROWS + 5
    k, c = 100, 9300  # accumulators large enough for chunks of 2 segments
    assert sd.chunk_rows_for(n, k, c) > sp.SEGMENT_ROWS
    X = clustered_points("euclidean", n, 2, rng, centres=40)
    M = X[rng.choice(n, k, replace=False)]
    Cand = X[rng.choice(n, c, replace=False)]
    whole, pairs = sd.swap_deltas_counted(X, M, Cand, prune=True)
    parts = summed_over_batches(X, M, Cand, nbatches=10, prune=True)
    assert_same_terms(whole, parts, rtol=1e-11)
    assert pairs < 0.2 * n * c
    sub = slice(0, 2 * sp.SEGMENT_ROWS + 3)  # and the full scan on a part of it
    assert_same_terms(sd.swap_deltas(X[sub], M, Cand[:500], prune=False), sd.swap_deltas(X[sub], M, Cand[:500]))


def test_candidate_order_cache_follows_the_inputs():
    rng = np.random.default_rng(19)
    X = rng.normal(size=(500, 3))
    M = X[:5].copy()
    Cand = X[100:200].copy()
    first = sd.swap_deltas(X, M, Cand, prune=True)
    M[2] += 0.5  # same shapes, other values (changed in place)
    Cand[7] = X[3]
    full, pruned, _, _ = prune_pair(X, M, Cand, "euclidean")
    assert_same_terms(full, pruned)
    assert not np.allclose(first[2], pruned[2])
    Dsort, Ord = sp.candidate_order(0, 2.0, M, Cand)
    assert Dsort.shape == Ord.shape == (5, 100) and (np.diff(Dsort, axis=1) >= 0).all()
    np.testing.assert_array_equal(np.sort(Ord, axis=1), np.tile(np.arange(100), (5, 1)))


def test_prune_argument():
    rng = np.random.default_rng(20)
    X = rng.normal(size=(300, 3))
    M, few, many = X[:4], X[10:20], X[10:10 + sd.PRUNE_MIN_CANDIDATES]
    for name in ("sqeuclidean", "cosine"):
        with pytest.raises(ValueError, match="prune=True needs a metric satisfying the triangle inequality"):
            sd.swap_deltas(X, M, many, name, prune=True)
        _, pairs = sd.swap_deltas_counted(X, M, many, name)  # auto: full scan
        assert pairs == 300 * len(many)
    assert sd.swap_deltas_counted(X, M, few)[1] == 300 * len(few)  # auto: too few candidates to prune
    assert sd.swap_deltas_counted(X, M, many)[1] < 300 * len(many)  # auto: pruned
    assert sd.swap_deltas_counted(X, M, few, prune=True)[1] <= 300 * len(few)
    lo, re, de, sh = sd.swap_deltas(X[:0], M, many, prune=True)  # empty batch
    assert lo == 0.0 and not re.any() and not de.any() and not sh.any()
    _, _, de, sh = sd.swap_deltas(X, M, many[:0], prune=True)  # no candidates
    assert de.shape == (0, 4) and sh.shape == (0,)
