"""Property tests (hypothesis) shared by all k-medoids kernels."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from naive_pam import best_swap, loss, medoid_rows
from scipy.spatial.distance import pdist, squareform

from sparkmed.kernels.alternating import alternating
from sparkmed.kernels.clarans import clarans
from sparkmed.kernels.fasterpam import fasterpam
from sparkmed.kernels.init import initialize
from sparkmed.kernels.pam import fastpam1, pam

ALGOS = {"fasterpam": fasterpam, "fastpam1": fastpam1, "pam": pam, "alternating": alternating}
# SPARKMED_HYPOTHESIS_EXAMPLES=2000 for a longer search
SETTINGS = settings(
    max_examples=int(os.environ.get("SPARKMED_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def weighted_problem(draw):
    """Integer points (Manhattan distances are integers, so every float64 sum is exact), integer
    weights >= 1, k and initial medoids."""
    n = draw(st.integers(2, 10))
    pts = draw(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=n, max_size=n))
    X = np.array(pts, dtype=np.float64)
    w = np.array(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)), dtype=np.float64)
    k = draw(st.integers(1, n))
    m0 = np.array(draw(st.permutations(range(n)))[:k], dtype=np.int64)
    return X, w, m0


def _expand(X, w, m0):
    """Each point repeated w times, consecutively; initial medoids map to the first copies."""
    reps = w.astype(np.int64)
    owner = np.repeat(np.arange(X.shape[0]), reps)
    first = np.concatenate([[0], np.cumsum(reps)[:-1]])
    return X[owner], owner, first[m0]


@pytest.mark.parametrize("name", list(ALGOS))
@SETTINGS
@given(problem=weighted_problem(), dtype=st.sampled_from([np.float64, np.float32]))
def test_integer_weights_equal_duplicated_points(name, problem, dtype):
    X, w, m0 = problem
    algo = ALGOS[name]
    D = squareform(pdist(X, "cityblock")).astype(dtype)
    if name == "alternating":
        # Alternating assigns a point tied between medoids to the first medoid position, and a medoid to
        # itself. With two initial medoids on the same location, the other copies of the second one go
        # to the first in the duplicated data, while in the weighted data they are the medoid itself, so
        # the runs can differ (both as in the kmedoids oracle). Medoids on distinct locations stay
        # distinct, and then the runs are identical.
        assume(np.unique(X[m0], axis=0).shape[0] == m0.shape[0])
    Xe, owner, m0e = _expand(X, w, m0)
    De = squareform(pdist(Xe, "cityblock")).astype(dtype)
    rw = algo(D, m0.copy(), weights=w)
    re = algo(De, m0e)
    assert rw.loss == re.loss  # exact: integer distances and weights
    assert rw.loss == loss(D, rw.medoids, w)
    # the duplicated run follows the same trajectory: its medoids are copies of the same points, in
    # the same positions (so they also represent the same rows)
    np.testing.assert_array_equal(owner[re.medoids], rw.medoids)
    assert medoid_rows(Xe, re.medoids) == medoid_rows(X, rw.medoids)
    # labels agree wherever the nearest medoid is unique (copies of a medoid are tied between it and
    # any medoid at distance 0, and only the medoid itself is pinned to its own position)
    for Dx, r in ((D, rw), (De, re)):
        dm = Dx[:, r.medoids]
        assert np.all(dm[np.arange(Dx.shape[0]), r.labels] == dm.min(axis=1))
    unique = (De[:, re.medoids] == De[:, re.medoids].min(axis=1, keepdims=True)).sum(axis=1) == 1
    np.testing.assert_array_equal(re.labels[unique], rw.labels[owner][unique])


@SETTINGS
@given(problem=weighted_problem())
def test_integer_weights_equal_duplicated_points_in_build(problem):
    X, w, m0 = problem
    k = m0.shape[0]
    D = squareform(pdist(X, "cityblock"))
    Xe, owner, _ = _expand(X, w, m0)
    De = squareform(pdist(Xe, "cityblock"))
    bw = initialize(D, k, "build", weights=w)
    be = initialize(De, k, "build")
    # exact as long as every chosen point lowers the loss; afterwards BUILD adds zero-gain points by
    # index, and a duplicated point's other copies are such points, so compare the positive-gain prefix
    lw = [loss(D, bw[: j + 1], w) for j in range(k)]
    stop = next((j for j in range(1, k) if lw[j] == lw[j - 1]), k)
    np.testing.assert_array_equal(owner[be[:stop]], bw[:stop])
    assert loss(De, be) == loss(D, bw, w)


@st.composite
def float_problem(draw, max_n=14):
    n = draw(st.integers(2, max_n))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    if draw(st.booleans()):  # some exact duplicates
        X[rng.integers(0, n, size=n // 3)] = X[0]
    D = squareform(pdist(X))
    k = draw(st.integers(1, n))
    return D, k, seed


@pytest.mark.parametrize("name", list(ALGOS))
@SETTINGS
@given(problem=float_problem())
def test_loss_never_increases_during_a_run(name, problem):
    D, k, seed = problem
    algo = ALGOS[name]
    m0 = np.random.default_rng(seed).permutation(D.shape[0])[:k]
    prev = loss(D, m0)
    for t in range(1, 6):
        r = algo(D, m0.copy(), max_iter=t)
        assert r.loss <= prev * (1 + 1e-12) + 1e-12
        assert r.loss == pytest.approx(loss(D, r.medoids), rel=1e-12, abs=1e-12)
        prev = r.loss


@pytest.mark.parametrize("name", ["fasterpam", "fastpam1", "pam"])
@SETTINGS
@given(problem=float_problem(max_n=12))
def test_no_improving_single_swap_at_convergence(name, problem):
    D, k, seed = problem
    r = ALGOS[name](D, k, init="random", random_state=seed)
    change, _, _ = best_swap(D, r.medoids)
    assert change >= -1e-9 * max(r.loss, 1.0)


@pytest.mark.parametrize("name", list(ALGOS) + ["clarans"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_edge_cases(name, dtype):
    algo = clarans if name == "clarans" else ALGOS[name]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 2))
    D = squareform(pdist(X)).astype(dtype)
    # k = 1: the exact optimum (the point with the smallest distance sum)
    # (clarans: 200 consecutive failures, so every candidate is tried with near certainty)
    r = algo(D, 1, maxneighbor=200, random_state=0) if name == "clarans" else algo(D, np.array([4]))
    if name != "alternating":  # alternating only moves within the (single) cluster: also optimal
        assert r.loss == pytest.approx(D.astype(np.float64).sum(1).min(), rel=1e-9)
    assert np.all(r.labels == 0)
    # k = n: every point is a medoid, loss 0, each labelled with its own position
    m = rng.permutation(9)
    r = algo(D, m, random_state=0)
    assert r.loss == 0.0
    np.testing.assert_array_equal(r.labels, np.argsort(m))
    # all points identical: loss 0, no endless swapping
    Z = np.zeros((7, 7), dtype=dtype)
    for k in (1, 3, 7):
        r = algo(Z, k, random_state=0)
        assert r.loss == 0.0
        assert len(set(r.medoids.tolist())) == k
        assert r.n_iter <= 100 if name != "clarans" else True
    # two distinct points (each duplicated), k = 2: one medoid at each
    X2 = np.array([[0.0], [0.0], [3.0], [3.0], [3.0]])
    D2 = squareform(pdist(X2)).astype(dtype)
    for start in ([0, 1], [2, 3], [1, 4]):
        r = algo(D2, np.array(start), random_state=0)
        if name == "alternating" and start == [2, 3]:
            # both medoids on the same location: the first takes all tied points and no in-cluster
            # move is strictly better, so alternating is stuck at loss 6 (the kmedoids oracle too)
            assert r.loss == 6.0
            continue
        assert r.loss == 0.0
        assert sorted(X2[r.medoids, 0].tolist()) == [0.0, 3.0]
        np.testing.assert_array_equal(r.labels[:2], [r.labels[0]] * 2)
        assert r.labels[0] != r.labels[2]


@pytest.mark.parametrize("name", list(ALGOS))
def test_weighted_loss_and_zero_weights(name):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    D = squareform(pdist(X))
    w = rng.random(40) * 3
    w[:5] = 0.0
    r = ALGOS[name](D, 4, weights=w, init="random", random_state=3)
    assert r.loss == pytest.approx(loss(D, r.medoids, w), rel=1e-12)
    # scaling the weights scales the loss and changes nothing else
    s = ALGOS[name](D, 4, weights=w * 4.0, init="random", random_state=3)
    np.testing.assert_array_equal(r.medoids, s.medoids)
    assert s.loss == pytest.approx(4.0 * r.loss, rel=1e-12)


# ---------------------------------------------------------------- registries of algorithms and inits


def test_algorithm_registry_drives_cluster_points():
    from naive_pam import assert_identical

    from sparkmed.kernels import ALGORITHM_NAMES, ALGORITHMS, DEFAULT_MAX_ITER, cluster_points, describe_algorithms
    from sparkmed.kernels import pairwise as kernel_pairwise

    assert ALGORITHM_NAMES == ("fasterpam", "fastpam1", "pam", "alternating", "clarans")
    assert tuple(ALGORITHMS) == ALGORITHM_NAMES
    X = np.random.default_rng(3).normal(size=(45, 2))
    D = kernel_pairwise(X, dtype=np.float32)
    start = np.array([0, 1, 2], dtype=np.int64)
    for name, entry in ALGORITHMS.items():
        assert entry.name == name and entry.summary and entry.complexity
        assert f"{name} (" in describe_algorithms()
        got = cluster_points(X, 3, algorithm=name, medoids=start, random_state=7)
        if entry.iterative:
            want = entry.function(D, start.copy(), DEFAULT_MAX_ITER, random_state=7)
        else:
            want = entry.function(D, start.copy(), random_state=7)
        assert_identical(got, want)
    for bad in ("kmeans", "", None, ["pam"]):
        with pytest.raises(ValueError, match="unknown algorithm"):
            cluster_points(X, 3, algorithm=bad)


def test_default_max_iter_is_one_constant():
    import inspect

    from sparkmed.kernels import DEFAULT_MAX_ITER, cluster_points

    assert DEFAULT_MAX_ITER == 100
    for f in (fasterpam, fastpam1, pam, alternating, cluster_points):
        assert inspect.signature(f).parameters["max_iter"].default == DEFAULT_MAX_ITER


def test_init_registry():
    from sparkmed.kernels import INIT_NAMES, INITS, describe_inits

    assert INIT_NAMES == ("random", "first", "build", "lab", "kmedoids++")
    D = squareform(pdist(np.random.default_rng(4).normal(size=(30, 2))))
    for name, entry in INITS.items():
        assert entry.name == name and entry.summary and entry.complexity
        assert f"{name} (" in describe_inits()
        med = initialize(D, 4, name, random_state=0)
        assert med.dtype == np.int64 and len(set(med.tolist())) == 4
        np.testing.assert_array_equal(med, initialize(D, 4, name.upper(), random_state=0))
    with pytest.raises(ValueError, match="unknown init method"):
        initialize(D, 4, "kmeans")


def test_one_weight_rule():
    """Shape, finite, non-negative everywhere; an all-zero total is rejected where a positive total is needed
    (algorithms, initialisation, silhouette means) and accepted by the additive per-batch kernels."""
    from sparkmed.kernels import medoid_silhouette, nearest_two, score_candidates, silhouette, swap_deltas, total_cost

    D = squareform(pdist(np.random.default_rng(4).normal(size=(12, 2))))
    zero = np.zeros(12)
    for f in (fasterpam, fastpam1, pam, alternating, clarans):
        with pytest.raises(ValueError, match="weights must have a positive sum"):
            f(D, 3, weights=zero)
    with pytest.raises(ValueError, match="weights must have a positive sum"):
        initialize(D, 3, weights=zero)
    with pytest.raises(ValueError, match="weights must have a positive sum"):
        medoid_silhouette(np.ones(12), np.ones(12), weights=zero)
    with pytest.raises(ValueError, match="weights must have a positive sum"):
        silhouette(D, np.arange(12) % 2, weights=zero)
    X = np.random.default_rng(5).normal(size=(12, 2))
    M = X[:3]
    assert nearest_two(X, M)[0].shape == (12,)
    assert total_cost(X, M, weights=zero) == 0.0
    np.testing.assert_array_equal(score_candidates(X, M[None], weights=zero), [0.0])
    loss_, removal, delta, shared = swap_deltas(X, M, X[3:6], weights=zero)
    assert loss_ == 0.0 and not removal.any() and not delta.any() and not shared.any()
    for f in (lambda w: fasterpam(D, 3, weights=w), lambda w: total_cost(X, M, weights=w),
              lambda w: medoid_silhouette(np.ones(12), np.ones(12), weights=w)):
        with pytest.raises(ValueError, match="non-negative"):
            f(-np.ones(12))
        with pytest.raises(ValueError, match="NaN"):
            f(np.full(12, np.nan))
