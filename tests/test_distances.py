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

from sparkmed.kernels import distances as dm

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
SCALAR = {name: getattr(dm, name) for name in dm.METRIC_NAMES}


# ------------------------------------------------------------------------------------------ registry


def test_registry_order_and_codes():
    assert dm.METRIC_NAMES == (
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
    assert [m.code for m in dm.METRICS.values()] == list(range(len(dm.METRICS)))
    for name, m in dm.METRICS.items():
        assert m.name == name and m.formula
        assert dm.metric_code(name) == m.code
        assert m.needs_p == (name == "minkowski")
        assert SCALAR[name].__doc__


def test_metric_is_frozen():
    with pytest.raises(AttributeError):
        dm.METRICS["euclidean"].code = 3  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["foo", "Euclidean", "", None, 3])
def test_unknown_metric_lists_all_names(bad):
    with pytest.raises(ValueError) as err:
        dm.metric_code(bad)
    msg = str(err.value)
    assert repr(bad) in msg
    assert "valid metrics: " + ", ".join(sorted(dm.METRIC_NAMES)) in msg


def test_unknown_metric_in_wrappers():
    X = np.zeros((3, 2))
    for call in (lambda: dm.pairwise(X, "l2"), lambda: dm.cross(X, X, "l2")):
        with pytest.raises(ValueError, match="unknown metric 'l2'; valid metrics: chebyshev, cosine"):
            call()


def test_check_metric_params():
    dm.check_metric_params("minkowski", 1.0)
    dm.check_metric_params("minkowski", math.inf)
    dm.check_metric_params("euclidean", -5.0)  # p ignored
    for bad in (0.99, 0.0, -1.0, math.nan, "x"):
        with pytest.raises(ValueError, match="p"):
            dm.check_metric_params("minkowski", bad)
    with pytest.raises(ValueError, match="p >= 1"):
        dm.pairwise(np.zeros((2, 2)), "minkowski", p=0.5)


def test_check_dimension():
    dm.check_dimension("haversine", 2)
    dm.check_dimension("euclidean", 1)
    with pytest.raises(ValueError, match="haversine"):
        dm.check_dimension("haversine", 3)
    with pytest.raises(ValueError, match="d=0"):
        dm.check_dimension("euclidean", 0)
    with pytest.raises(ValueError, match="d == 2"):
        dm.cross(np.zeros((2, 3)), np.zeros((2, 3)), "haversine")


# ------------------------------------------------------------------------------------ scalar metrics


@pytest.mark.parametrize("name", dm.METRIC_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalar_matches_naive(name, dtype):
    rng = np.random.default_rng(7)
    X = make_points(name, 40, dim_for(name, 5), rng, dtype)
    p = 3.0
    code = dm.metric_code(name)
    for i in range(0, 40, 2):
        a, b = X[i], X[i + 1]
        want = naive_distance(name, a, b, p)
        got = SCALAR[name](a, b, p) if name == "minkowski" else SCALAR[name](a, b)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
        assert dm.distance(code, a, b, p) == got


def test_minkowski_special_p():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 6))
    assert dm.minkowski(a, b, 1.0) == pytest.approx(dm.manhattan(a, b), rel=1e-14)
    assert dm.minkowski(a, b, 2.0) == pytest.approx(dm.euclidean(a, b), rel=1e-14)
    assert dm.minkowski(a, b, math.inf) == dm.chebyshev(a, b)
    M = dm.cross(a[None], b[None], "minkowski", p=math.inf)
    assert M[0, 0] == dm.chebyshev(a, b)


def test_cosine_zero_vectors():
    z = np.zeros(4)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    assert dm.cosine(z, z) == 0.0
    assert dm.cosine(z, v) == 1.0 and dm.cosine(v, z) == 1.0
    assert dm.cosine(v, v) == 0.0
    assert dm.cosine(v, -v) == 2.0
    assert dm.cosine(v, 3.5 * v) == pytest.approx(0.0, abs=1e-15)
    # products of squared norms that under- / overflow still give d(a, a) = 0 exactly
    for scale in (1e-155, 1e-160, 1e150):
        assert dm.cosine(scale * v, scale * v) == 0.0
        assert dm.cosine(scale * v, -scale * v) == 2.0
    # documented limit: a vector whose squared norm underflows to 0 counts as the zero vector
    assert dm.cosine(1e-200 * v, -1e-200 * v) == 0.0
    assert dm.cosine(1e-200 * v, v) == 1.0
    M = dm.pairwise(np.vstack([z, v, z]), "cosine", dtype=np.float64)
    np.testing.assert_array_equal(M, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])


def test_jaccard_and_hamming_edge_cases():
    z = np.zeros(5)
    a = np.array([1.0, 0, 1, 1, 0])
    b = np.array([0.0, 0, 1, 0, 1])
    assert dm.jaccard(z, z) == 0.0
    assert dm.jaccard(a, z) == 1.0
    assert dm.jaccard(a, b) == pytest.approx(1 - 1 / 4)
    assert dm.jaccard(a, a) == 0.0
    assert dm.hamming(a, b) == pytest.approx(3 / 5)
    assert dm.hamming(z, z) == 0.0
    # non-zero means "set": 2.0 and 1.0 are both members
    assert dm.jaccard(2 * a, a) == 0.0


def test_haversine_known_values():
    deg = math.pi / 180.0 * EARTH_RADIUS_KM
    assert dm.haversine(np.array([0.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(deg, rel=1e-14)
    assert dm.haversine(np.array([0.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(deg, rel=1e-14)
    assert dm.haversine(np.array([0.0, 0.0]), np.array([0.0, 180.0])) == pytest.approx(
        math.pi * EARTH_RADIUS_KM
    )
    assert dm.haversine(np.array([90.0, 0.0]), np.array([-90.0, 0.0])) == pytest.approx(
        math.pi * EARTH_RADIUS_KM
    )
    # longitude wraps: -179.5 and 179.5 are 1 degree apart on the equator
    assert dm.haversine(np.array([0.0, -179.5]), np.array([0.0, 179.5])) == pytest.approx(deg, rel=1e-12)
    # Paris - London, about 343.9 km
    paris, london = np.array([48.8566, 2.3522]), np.array([51.5074, -0.1278])
    assert dm.haversine(paris, london) == pytest.approx(343.9, abs=0.5)
    # tiny distances stay accurate (asin form): 1e-9 degree ~ 0.11 mm
    assert dm.haversine(np.array([10.0, 20.0]), np.array([10.0, 20.0 + 1e-9])) == pytest.approx(
        1e-9 * deg * math.cos(math.radians(10.0)), rel=1e-6
    )


def test_float32_is_computed_in_float64():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 16)).astype(np.float32)
    assert dm.euclidean(a, b) == dm.euclidean(a.astype(np.float64), b.astype(np.float64))


# --------------------------------------------------------------------------------- matrix builders


@pytest.mark.parametrize("name", dm.METRIC_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_and_pairwise_match_naive(name, dtype):
    rng = np.random.default_rng(11)
    d = dim_for(name, 4)
    X = make_points(name, 37, d, rng, dtype)
    Y = make_points(name, 70, d, rng, dtype)
    p = 1.5
    C = dm.cross(X, Y, name, p=p)
    assert C.dtype == np.float64 and C.shape == (37, 70)
    np.testing.assert_allclose(C, naive_cross(X, Y, name, p), rtol=1e-12, atol=1e-12)
    P = dm.pairwise(X, name, p=p, dtype=np.float64)
    np.testing.assert_allclose(P, naive_cross(X, X, name, p), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(P, P.T)
    np.testing.assert_array_equal(np.diag(P), 0.0)
    # every entry is the scalar metric, bit for bit
    code = dm.metric_code(name)
    for i, j in [(0, 0), (3, 5), (36, 69), (20, 1)]:
        assert C[i, j] == dm.distance(code, X[i], Y[j], p)


@pytest.mark.parametrize("name", ["euclidean", "sqeuclidean", "manhattan", "chebyshev", "cosine"])
def test_cross_matches_scipy(name):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 7))
    Y = rng.normal(size=(150, 7))
    np.testing.assert_allclose(dm.cross(X, Y, name), cdist(X, Y, SCIPY_NAMES[name]), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_minkowski_matches_scipy(p):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 5))
    np.testing.assert_allclose(
        dm.cross(X, X[:20], "minkowski", p=p), cdist(X, X[:20], "minkowski", p=p), rtol=1e-12
    )


@pytest.mark.parametrize("name", ["jaccard", "hamming"])
def test_binary_metrics_match_scipy(name):
    rng = np.random.default_rng(8)
    X = rng.random((80, 12)) < 0.3
    X[0] = False
    X[1] = False  # all-zero rows
    got = dm.cross(X, X, name)
    want = cdist(X, X, SCIPY_NAMES[name])
    want[0, 1] = want[1, 0] = want[0, 0] = want[1, 1] = 0.0  # scipy gives nan/0 for 0/0; we define 0
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_pairwise_large_matches_scipy_and_blocks():
    """Sizes that are not multiples of the block/tile sizes, and more than one tile of targets."""
    rng = np.random.default_rng(9)
    n = 2 * dm.BLOCK_ROWS * 3 + dm.TARGET_TILE + 13
    X = rng.normal(size=(n, 3))
    P = dm.pairwise(X)
    assert P.dtype == np.float32
    np.testing.assert_allclose(P, cdist(X, X).astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(P, P.T)
    P64 = dm.pairwise(X, dtype=np.float64)
    np.testing.assert_allclose(P64, cdist(X, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(P64.astype(np.float32), P)


def test_pairwise_float64_matches_cross():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(150, 6))
    np.testing.assert_allclose(
        dm.pairwise(X, "cosine", dtype=np.float64), dm.cross(X, X, "cosine"), rtol=1e-15
    )


def test_tiny_shapes_and_duplicates():
    assert dm.pairwise(np.array([[1.0]])).tolist() == [[0.0]]
    assert dm.pairwise(np.zeros((0, 3))).shape == (0, 0)
    assert dm.cross(np.zeros((0, 3)), np.ones((4, 3))).shape == (0, 4)
    X = np.array([[1.0], [1.0], [4.0]])  # d = 1 with a duplicate
    np.testing.assert_array_equal(dm.pairwise(X, dtype=np.float64), [[0, 0, 3], [0, 0, 3], [3, 3, 0]])
    np.testing.assert_array_equal(dm.cross(X, X[:1], "manhattan"), [[0], [0], [3]])


def test_large_offset_accuracy():
    """The direct (x - m) form keeps full relative accuracy for nearby points far from the origin."""
    rng = np.random.default_rng(12)
    X = 1e6 + rng.normal(scale=1e-3, size=(50, 8))
    np.testing.assert_allclose(dm.cross(X, X[:10]), naive_cross(X, X[:10], "euclidean"), rtol=1e-9, atol=0)


def test_input_validation():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="X must be a 2-D"):
        dm.pairwise(np.zeros(3))
    with pytest.raises(ValueError, match="Y must be a 2-D"):
        dm.cross(X, np.zeros(2))
    with pytest.raises(ValueError, match="X contains NaN"):
        dm.pairwise(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="Y contains NaN or infinite"):
        dm.cross(X, np.array([[np.inf, 0.0]]))
    with pytest.raises(ValueError, match="same dimension"):
        dm.cross(X, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="dtype"):
        dm.pairwise(X, dtype=np.int32)
    with pytest.raises(ValueError, match="real numbers"):
        dm.pairwise(np.array([["a", "b"]]))
    # integer / boolean inputs are accepted (as float64)
    np.testing.assert_array_equal(dm.cross(np.array([[0, 3]]), np.array([[4, 0]])), [[5.0]])


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


@pytest.mark.parametrize("name", dm.METRIC_NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_metric_properties(name, data):
    a, b = data.draw(point_pairs(name))
    p = data.draw(st.sampled_from([1.0, 2.0, 3.5]))
    code = dm.metric_code(name)
    dab = dm.distance(code, a, b, p)
    assert dab >= 0.0 and not math.isnan(dab)
    assert dab == dm.distance(code, b, a, p)  # symmetry, exactly
    assert dm.distance(code, a, a, p) == 0.0  # identity, exactly
    assert dm.distance(code, b, b, p) == 0.0
    if name == "cosine":
        assert dab <= 2.0
    if name in ("jaccard", "hamming", "sparse_jaccard", "set_jaccard", "set_dice", "gower"):
        assert dab <= 1.0
    if name == "sparse_cosine":
        assert dab <= 2.0
