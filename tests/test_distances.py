"""Tests of the metric registry, the scalar metrics and the matrix builders."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from naive_metrics import (
    EARTH_RADIUS_KM,
    GOWER_NAMES,
    MISSING,
    SET_NAMES,
    SPARSE_NAMES,
    dim_for,
    make_points,
    naive_cross,
    naive_distance,
)
from scipy.spatial.distance import cdist

from sparkmed.kernels import SCALE_DEGREE, block_engine, dense, dispatch, encoded, matrix, metrics, swap_pruned
from sparkmed.kernels.assign import nearest_two
from sparkmed.kernels.swap_delta import swap_deltas

SCIPY_NAMES = {
    "euclidean": "euclidean",
    "sqeuclidean": "sqeuclidean",
    "manhattan": "cityblock",
    "chebyshev": "chebyshev",
    "minkowski": "minkowski",
    "cosine": "cosine",
    "jaccard": "jaccard",
    "hamming": "hamming",
}
# the scalar function of a metric is named after it, in ``dense`` (dense layout) or ``encoded`` (the others)
SCALAR = {m.name: getattr(dense if m.layout == "dense" else encoded, m.name) for m in metrics.METRICS.values()}


# ------------------------------------------------------------------------------------------ registry


def test_registry_order_and_codes():
    assert metrics.METRIC_NAMES == (
        "euclidean",
        "sqeuclidean",
        "manhattan",
        "cosine",
        "chebyshev",
        "minkowski",
        "haversine",
        "jaccard",
        "hamming",
        "sparse_euclidean",
        "sparse_manhattan",
        "sparse_cosine",
        "sparse_jaccard",
        "set_jaccard",
        "set_dice",
        "gower",
    )
    assert [m.code for m in metrics.METRICS.values()] == list(range(len(metrics.METRICS)))
    for name, m in metrics.METRICS.items():
        assert m.name == name and m.formula
        assert metrics.metric_code(name) == m.code
        assert m.needs_p == (name == "minkowski")
        assert SCALAR[name].__doc__


def test_registry_fields_and_the_lists_derived_from_them():
    assert metrics.PUBLIC_METRICS == (
        "euclidean", "sqeuclidean", "manhattan", "cosine", "chebyshev", "minkowski", "haversine", "jaccard",
        "hamming", "dice", "gower",
    )
    for m in metrics.METRICS.values():
        assert m.layout in metrics.LAYOUTS and m.summary
        assert m.public_name in metrics.PUBLIC_METRICS
        assert (m.selects == "") == (m.layout == "dense")
        assert metrics.kernel_metric_for(m.layout, m.public_name) == m.name
        assert m.public_name in metrics.public_metrics_for(m.layout)
        assert m.public_name in metrics.describe_metrics()
    assert metrics.kernel_metric_for("ell", "euclidean") == "sparse_euclidean"
    assert metrics.kernel_metric_for("ell", "jaccard") == "sparse_jaccard"
    assert metrics.kernel_metric_for("set", "jaccard") == "set_jaccard"
    assert metrics.kernel_metric_for("set", "dice") == "set_dice"
    assert metrics.kernel_metric_for("gower", "gower") == "gower"
    assert metrics.kernel_metric_for("dense", "cosine") == "cosine"
    assert metrics.kernel_metric_for("dense", "dice") is None
    assert metrics.kernel_metric_for("set", "euclidean") is None
    assert metrics.public_metrics_for("set") == ("jaccard", "dice")
    assert metrics.public_metrics_for("ell") == ("euclidean", "manhattan", "cosine", "jaccard")
    assert metrics.public_metrics_for("gower") == ("gower",)
    assert metrics.public_metrics_for("dense") == metrics.METRIC_NAMES[:9]
    for bad in ("csr", "sparse", ""):
        with pytest.raises(ValueError, match="unknown layout"):
            metrics.kernel_metric_for(bad, "euclidean")
        with pytest.raises(ValueError, match="unknown layout"):
            metrics.public_metrics_for(bad)
    assert metrics.PRUNABLE_METRICS == (
        "euclidean", "manhattan", "chebyshev", "minkowski", "haversine", "jaccard", "hamming",
    )
    assert SCALE_DEGREE == {"euclidean": 1, "sqeuclidean": 2, "manhattan": 1, "chebyshev": 1, "minkowski": 1}


@pytest.mark.parametrize("name", metrics.METRIC_NAMES)
def test_every_registry_metric_goes_through_every_dispatcher(name):
    """Each metric reaches its own branch of every kernel that branches on a metric code."""
    m = metrics.METRICS[name]
    rng = np.random.default_rng(5)
    X = make_points(name, 40, dim_for(name, 3), rng)
    code = m.code
    p = 1.5
    scalar = SCALAR[name]
    D = matrix.cross(X, X, name, p=p)  # block engine: reduced_block + finalize_reduced
    for i, j in [(0, 1), (5, 9), (39, 2), (7, 7)]:
        want = scalar(X[i], X[j], p) if m.needs_p else scalar(X[i], X[j])
        assert dispatch.distance(code, X[i], X[j], p) == want  # the dispatcher calls this metric's function
        assert D[i, j] == want
    np.testing.assert_array_equal(matrix.pairwise(X, name, p=p, dtype=np.float64), np.where(np.eye(40) > 0, 0.0, D))
    M, C = X[:3], X[3:40]
    labels, dn, _ = nearest_two(X, M, name, p=p)
    np.testing.assert_array_equal(dn, D[:, :3].min(axis=1))
    full = swap_deltas(X, M, C, name, p=p, prune=False)
    if m.prunable:  # the pruned kernel has a branch for it: the same terms
        pruned = swap_deltas(X, M, C, name, p=p, prune=True)
        for a, b in zip(full, pruned, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    else:
        with pytest.raises(ValueError, match="prune=True needs a metric"):
            swap_deltas(X, M, C, name, p=p, prune=True)


def test_a_metric_code_without_a_branch_raises():
    bad = len(metrics.METRICS)
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="no branch"):
        dispatch.distance(bad, X[0], X[1], 2.0)
    Yp, aux = block_engine.prepare_targets(bad, X)
    XbT, xaux = block_engine.new_block(3)
    block_engine.load_block(bad, X, 0, 2, XbT, xaux)
    out = np.empty((2, block_engine.BLOCK_ROWS))
    with pytest.raises(ValueError, match="no branch"):
        block_engine.reduced_block(bad, X, 0, 2, XbT, xaux, X, Yp, aux, 2.0, 0, 2, out)
    for name in set(metrics.METRIC_NAMES) - set(metrics.PRUNABLE_METRICS) - {"jaccard", "haversine"}:
        # a metric marked prunable without a pruned branch would fail here, never give distance 0
        with pytest.raises(ValueError, match="no pruned branch"):
            swap_pruned._reduced_row(metrics.metric_code(name), X, 0, np.zeros((3, 4)), 2, np.empty(4), 2.0)


def test_metric_is_frozen():
    with pytest.raises(AttributeError):
        metrics.METRICS["euclidean"].code = 3  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["foo", "Euclidean", "", None, 3])
def test_unknown_metric_lists_all_names(bad):
    with pytest.raises(ValueError) as err:
        metrics.metric_code(bad)
    msg = str(err.value)
    assert repr(bad) in msg
    assert "valid metrics: " + ", ".join(sorted(metrics.METRIC_NAMES)) in msg


def test_unknown_metric_in_wrappers():
    X = np.zeros((3, 2))
    for call in (lambda: matrix.pairwise(X, "l2"), lambda: matrix.cross(X, X, "l2")):
        with pytest.raises(ValueError, match="unknown metric 'l2'; valid metrics: chebyshev, cosine"):
            call()


def test_check_metric_params():
    metrics.check_metric_params("minkowski", 1.0)
    metrics.check_metric_params("minkowski", math.inf)
    metrics.check_metric_params("euclidean", -5.0)  # p ignored
    for bad in (0.99, 0.0, -1.0, math.nan, "x"):
        with pytest.raises(ValueError, match="p"):
            metrics.check_metric_params("minkowski", bad)
    with pytest.raises(ValueError, match="p >= 1"):
        matrix.pairwise(np.zeros((2, 2)), "minkowski", p=0.5)


def test_check_dimension():
    metrics.check_dimension("haversine", 2)
    metrics.check_dimension("euclidean", 1)
    with pytest.raises(ValueError, match="haversine"):
        metrics.check_dimension("haversine", 3)
    with pytest.raises(ValueError, match="d=0"):
        metrics.check_dimension("euclidean", 0)
    with pytest.raises(ValueError, match="d == 2"):
        matrix.cross(np.zeros((2, 3)), np.zeros((2, 3)), "haversine")


# ------------------------------------------------------------------------------------ scalar metrics


@pytest.mark.parametrize("name", metrics.METRIC_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalar_matches_naive(name, dtype):
    rng = np.random.default_rng(7)
    X = make_points(name, 40, dim_for(name, 5), rng, dtype)
    p = 3.0
    code = metrics.metric_code(name)
    for i in range(0, 40, 2):
        a, b = X[i], X[i + 1]
        want = naive_distance(name, a, b, p)
        got = SCALAR[name](a, b, p) if name == "minkowski" else SCALAR[name](a, b)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
        assert dispatch.distance(code, a, b, p) == got


def test_minkowski_special_p():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 6))
    assert dense.minkowski(a, b, 1.0) == pytest.approx(dense.manhattan(a, b), rel=1e-14)
    assert dense.minkowski(a, b, 2.0) == pytest.approx(dense.euclidean(a, b), rel=1e-14)
    assert dense.minkowski(a, b, math.inf) == dense.chebyshev(a, b)
    M = matrix.cross(a[None], b[None], "minkowski", p=math.inf)
    assert M[0, 0] == dense.chebyshev(a, b)


def test_cosine_zero_vectors():
    z = np.zeros(4)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    assert dense.cosine(z, z) == 0.0
    assert dense.cosine(z, v) == 1.0 and dense.cosine(v, z) == 1.0
    assert dense.cosine(v, v) == 0.0
    assert dense.cosine(v, -v) == 2.0
    assert dense.cosine(v, 3.5 * v) == pytest.approx(0.0, abs=1e-15)
    # products of squared norms that under- / overflow still give d(a, a) = 0 exactly
    for scale in (1e-155, 1e-160, 1e150):
        assert dense.cosine(scale * v, scale * v) == 0.0
        assert dense.cosine(scale * v, -scale * v) == 2.0
    # documented limit: a vector whose squared norm underflows to 0 counts as the zero vector
    assert dense.cosine(1e-200 * v, -1e-200 * v) == 0.0
    assert dense.cosine(1e-200 * v, v) == 1.0
    M = matrix.pairwise(np.vstack([z, v, z]), "cosine", dtype=np.float64)
    np.testing.assert_array_equal(M, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


def test_jaccard_and_hamming_edge_cases():
    z = np.zeros(5)
    a = np.array([1.0, 0, 1, 1, 0])
    b = np.array([0.0, 0, 1, 0, 1])
    assert dense.jaccard(z, z) == 0.0
    assert dense.jaccard(a, z) == 1.0
    assert dense.jaccard(a, b) == pytest.approx(1 - 1 / 4)
    assert dense.jaccard(a, a) == 0.0
    assert dense.hamming(a, b) == pytest.approx(3 / 5)
    assert dense.hamming(z, z) == 0.0
    # non-zero means "set": 2.0 and 1.0 are both members
    assert dense.jaccard(2 * a, a) == 0.0


def test_haversine_known_values():
    deg = math.pi / 180.0 * EARTH_RADIUS_KM
    assert dense.haversine(np.array([0.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(deg, rel=1e-14)
    assert dense.haversine(np.array([0.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(deg, rel=1e-14)
    assert dense.haversine(np.array([0.0, 0.0]), np.array([0.0, 180.0])) == pytest.approx(
        math.pi * EARTH_RADIUS_KM
    )
    assert dense.haversine(np.array([90.0, 0.0]), np.array([-90.0, 0.0])) == pytest.approx(
        math.pi * EARTH_RADIUS_KM
    )
    # longitude wraps: -179.5 and 179.5 are 1 degree apart on the equator
    assert dense.haversine(np.array([0.0, -179.5]), np.array([0.0, 179.5])) == pytest.approx(deg, rel=1e-12)
    # Paris - London, about 343.9 km
    paris, london = np.array([48.8566, 2.3522]), np.array([51.5074, -0.1278])
    assert dense.haversine(paris, london) == pytest.approx(343.9, abs=0.5)
    # tiny distances stay accurate (asin form): 1e-9 degree ~ 0.11 mm
    assert dense.haversine(np.array([10.0, 20.0]), np.array([10.0, 20.0 + 1e-9])) == pytest.approx(
        1e-9 * deg * math.cos(math.radians(10.0)), rel=1e-6
    )


def test_float32_is_computed_in_float64():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 16)).astype(np.float32)
    assert dense.euclidean(a, b) == dense.euclidean(a.astype(np.float64), b.astype(np.float64))


# --------------------------------------------------------------------------------- matrix builders


@pytest.mark.parametrize("name", metrics.METRIC_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_and_pairwise_match_naive(name, dtype):
    rng = np.random.default_rng(11)
    d = dim_for(name, 4)
    X = make_points(name, 37, d, rng, dtype)
    Y = make_points(name, 70, d, rng, dtype)
    p = 1.5
    C = matrix.cross(X, Y, name, p=p)
    assert C.dtype == np.float64 and C.shape == (37, 70)
    np.testing.assert_allclose(C, naive_cross(X, Y, name, p), rtol=1e-12, atol=1e-12)
    P = matrix.pairwise(X, name, p=p, dtype=np.float64)
    np.testing.assert_allclose(P, naive_cross(X, X, name, p), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(P, P.T)
    np.testing.assert_array_equal(np.diag(P), 0.0)
    # every entry is the scalar metric, bit for bit
    code = metrics.metric_code(name)
    for i, j in [(0, 0), (3, 5), (36, 69), (20, 1)]:
        assert C[i, j] == dispatch.distance(code, X[i], Y[j], p)


@pytest.mark.parametrize("name", ["euclidean", "sqeuclidean", "manhattan", "chebyshev", "cosine"])
def test_cross_matches_scipy(name):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 7))
    Y = rng.normal(size=(150, 7))
    np.testing.assert_allclose(matrix.cross(X, Y, name), cdist(X, Y, SCIPY_NAMES[name]), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_minkowski_matches_scipy(p):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 5))
    np.testing.assert_allclose(
        matrix.cross(X, X[:20], "minkowski", p=p), cdist(X, X[:20], "minkowski", p=p), rtol=1e-12
    )


@pytest.mark.parametrize("name", ["jaccard", "hamming"])
def test_binary_metrics_match_scipy(name):
    rng = np.random.default_rng(8)
    X = rng.random((80, 12)) < 0.3
    X[0] = False
    X[1] = False  # all-zero rows
    got = matrix.cross(X, X, name)
    want = cdist(X, X, SCIPY_NAMES[name])
    want[0, 1] = want[1, 0] = want[0, 0] = want[1, 1] = 0.0  # scipy gives nan/0 for 0/0; we define 0
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_pairwise_large_matches_scipy_and_blocks():
    """Sizes that are not multiples of the block/tile sizes, and more than one tile of targets."""
    rng = np.random.default_rng(9)
    n = 2 * block_engine.BLOCK_ROWS * 3 + block_engine.TARGET_TILE + 13
    X = rng.normal(size=(n, 3))
    P = matrix.pairwise(X)
    assert P.dtype == np.float32
    np.testing.assert_allclose(P, cdist(X, X).astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(P, P.T)
    P64 = matrix.pairwise(X, dtype=np.float64)
    np.testing.assert_allclose(P64, cdist(X, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(P64.astype(np.float32), P)


def test_pairwise_float64_matches_cross():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(150, 6))
    np.testing.assert_allclose(
        matrix.pairwise(X, "cosine", dtype=np.float64), matrix.cross(X, X, "cosine"), rtol=1e-15
    )


def test_tiny_shapes_and_duplicates():
    assert matrix.pairwise(np.array([[1.0]])).tolist() == [[0.0]]
    assert matrix.pairwise(np.zeros((0, 3))).shape == (0, 0)
    assert matrix.cross(np.zeros((0, 3)), np.ones((4, 3))).shape == (0, 4)
    X = np.array([[1.0], [1.0], [4.0]])  # d = 1 with a duplicate
    np.testing.assert_array_equal(matrix.pairwise(X, dtype=np.float64), [[0, 0, 3], [0, 0, 3], [3, 3, 0]])
    np.testing.assert_array_equal(matrix.cross(X, X[:1], "manhattan"), [[0], [0], [3]])


def test_large_offset_accuracy():
    """The direct (x - m) form keeps full relative accuracy for nearby points far from the origin."""
    rng = np.random.default_rng(12)
    X = 1e6 + rng.normal(scale=1e-3, size=(50, 8))
    np.testing.assert_allclose(matrix.cross(X, X[:10]), naive_cross(X, X[:10], "euclidean"), rtol=1e-9, atol=0)


def test_input_validation():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="X must be a 2-D"):
        matrix.pairwise(np.zeros(3))
    with pytest.raises(ValueError, match="Y must be a 2-D"):
        matrix.cross(X, np.zeros(2))
    with pytest.raises(ValueError, match="X contains NaN"):
        matrix.pairwise(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="Y contains NaN or infinite"):
        matrix.cross(X, np.array([[np.inf, 0.0]]))
    with pytest.raises(ValueError, match="same dimension"):
        matrix.cross(X, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="dtype"):
        matrix.pairwise(X, dtype=np.int32)
    with pytest.raises(ValueError, match="real numbers"):
        matrix.pairwise(np.array([["a", "b"]]))
    # integer / boolean inputs are accepted (as float64)
    np.testing.assert_array_equal(matrix.cross(np.array([[0, 3]]), np.array([[4, 0]])), [[5.0]])


# ------------------------------------------------------------------------------ hypothesis properties

_finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def point_pairs(draw, name: str):
    """Two points of the same dimension suited to ``name`` (as float64 or float32)."""
    if name == "haversine":
        lat = st.floats(-90.0, 90.0, allow_nan=False)
        lon = st.floats(-180.0, 180.0, allow_nan=False)
        a = np.array([draw(lat), draw(lon)])
        b = np.array([draw(lat), draw(lon)])
    elif name in SPARSE_NAMES:  # ELL rows [nnz, idx (L), values (L)]; values may be explicit zeros
        L = draw(st.integers(1, 8))
        rows = []
        for _ in range(2):
            entries = draw(st.dictionaries(st.integers(0, 2 * L + 1), st.one_of(st.just(0.0), _finite), max_size=L))
            keys = sorted(entries)
            r = np.zeros(1 + 2 * L)
            r[0] = len(keys)
            r[1 : 1 + len(keys)] = keys
            r[1 + L : 1 + L + len(keys)] = [entries[k] for k in keys]
            rows.append(r)
        a, b = rows
    elif name in SET_NAMES:  # padded sets [s, codes ascending (L)]
        L = draw(st.integers(1, 8))
        rows = []
        for _ in range(2):
            codes = sorted(draw(st.sets(st.integers(0, 3 * L), max_size=L)))
            r = np.zeros(1 + L)
            r[0] = len(codes)
            r[1 : 1 + len(codes)] = codes
            rows.append(r)
        a, b = rows
    elif name in GOWER_NAMES:  # [m, types, weights, values]; MISSING (-inf once float32) is a missing value
        m = draw(st.integers(1, 6))
        types = draw(st.lists(st.sampled_from([0, 1, 2]), min_size=m, max_size=m))
        weights = draw(st.lists(st.floats(0.1, 10.0), min_size=m, max_size=m))
        by_type = {0: st.floats(-2.0, 2.0), 1: st.integers(0, 3).map(float), 2: st.sampled_from([0.0, 1.0])}
        rows = []
        for _ in range(2):
            vals = [draw(st.one_of(by_type[t], st.just(MISSING))) for t in types]
            rows.append(np.array([float(m), *types, *weights, *vals]))
        a, b = rows
    else:
        d = draw(st.integers(1, 12))
        elems = st.sampled_from([0.0, 1.0]) if name in ("jaccard", "hamming") else _finite
        a = draw(arrays(np.float64, d, elements=elems))
        b = draw(arrays(np.float64, d, elements=elems))
    if draw(st.booleans()):
        with np.errstate(over="ignore"):  # Gower's MISSING becomes -inf: still missing
            a, b = a.astype(np.float32), b.astype(np.float32)
    return a, b


@pytest.mark.parametrize("name", metrics.METRIC_NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_metric_properties(name, data):
    a, b = data.draw(point_pairs(name))
    p = data.draw(st.sampled_from([1.0, 2.0, 3.5]))
    code = metrics.metric_code(name)
    dab = dispatch.distance(code, a, b, p)
    assert dab >= 0.0 and not math.isnan(dab)
    assert dab == dispatch.distance(code, b, a, p)  # symmetry, exactly
    assert dispatch.distance(code, a, a, p) == 0.0  # identity, exactly
    assert dispatch.distance(code, b, b, p) == 0.0
    if name == "cosine":
        assert dab <= 2.0
    if name in ("jaccard", "hamming", "sparse_jaccard", "set_jaccard", "set_dice", "gower"):
        assert dab <= 1.0
    if name == "sparse_cosine":
        assert dab <= 2.0


def test_serial_and_parallel_drivers_give_identical_matrices():
    """Executors run one numba thread (serial drivers), the driver several (parallel ones above
    PARALLEL_MIN_WORK terms): every entry must be the same bits either way."""
    import numba

    rng = np.random.default_rng(11)
    X = rng.normal(size=(1100, 8))
    Y = X[:500]
    assert 1100 * 1100 * 8 // 2 >= block_engine.PARALLEL_MIN_WORK <= 1100 * 500 * 8
    before = numba.get_num_threads()
    try:
        res = []
        for t in sorted({1, before}):
            numba.set_num_threads(t)
            res.append((matrix.pairwise(X, "euclidean"), matrix.cross(X, Y, "manhattan")))
    finally:
        numba.set_num_threads(before)
    for got in res[1:]:
        np.testing.assert_array_equal(got[0], res[0][0])
        np.testing.assert_array_equal(got[1], res[0][1])
