"""Eager FasterPAM against the kmedoids oracle (same matrix, same initial medoids) and the naive reference."""

from __future__ import annotations

import kmedoids
import numpy as np
import pytest
from naive_pam import DATASETS, KS, assert_identical, best_swap, dataset, initial_medoids, loss

from sparkmed.kernels.fasterpam import fasterpam


def _cases():
    for name in DATASETS:
        for k in KS:
            yield name, k


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "k"), list(_cases()))
def test_matches_kmedoids_oracle(name, k, dtype):
    D = dataset(name).astype(dtype)
    n = D.shape[0]
    for seed in (0, 1):
        m0 = initial_medoids(n, k, seed)
        ref = kmedoids.fasterpam(D, m0.copy(), 100, "random", None, n_cpu=1)
        ours = fasterpam(D, m0.copy(), 100, "random", None)
        # exactly the oracle: medoids (and their order), labels, loss, passes and swaps
        assert_identical(ours, ref)
        assert ours.loss == pytest.approx(loss(D, ours.medoids), rel=1e-9)


@pytest.mark.parametrize("name", ["iris", "breast_cancer", "blobs", "dupblobs", "grid"])
@pytest.mark.parametrize("k", [2, 10, 60])
def test_two_threads_give_the_sequential_result(name, k):
    D = dataset(name).astype(np.float32)
    n = D.shape[0]
    m0 = initial_medoids(n, k, 5)
    w = np.random.default_rng(k).integers(0, 4, size=n).astype(np.float64) + 0.5
    for kwargs in ({}, {"shuffle": True, "random_state": 3}, {"weights": w}):
        one = fasterpam(D, m0.copy(), n_threads=1, **kwargs)
        two = fasterpam(D, m0.copy(), n_threads=2, **kwargs)
        allc = fasterpam(D, m0.copy(), n_cpu=-1, **kwargs)
        for other in (two, allc):
            np.testing.assert_array_equal(one.medoids, other.medoids)
            np.testing.assert_array_equal(one.labels, other.labels)
            assert one.loss == other.loss
            assert (one.n_iter, one.n_swap) == (other.n_iter, other.n_swap)


def test_thread_arguments():
    D = dataset("iris")
    for bad in ("2", 1.5, True):
        with pytest.raises(ValueError, match="n_threads"):
            fasterpam(D, 3, n_threads=bad)
    # more threads than numba has are capped; n_cpu is the kmedoids-style alias
    r = fasterpam(D, 3, n_threads=64, random_state=0)
    s = fasterpam(D, 3, n_cpu=1, random_state=0)
    np.testing.assert_array_equal(r.medoids, s.medoids)


@pytest.mark.parametrize("seed", range(4))
def test_converged_result_has_no_improving_swap(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 2))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    for k in (1, 2, 3, 7):
        r = fasterpam(D, k, random_state=seed)
        change, _, _ = best_swap(D, r.medoids)
        assert change >= -1e-9 * max(r.loss, 1.0)
        assert r.loss == pytest.approx(loss(D, r.medoids), rel=1e-12)


def test_shuffle_is_seeded_and_converges():
    D = dataset("blobs")[:120, :120]
    a = fasterpam(D, 5, random_state=3, shuffle=True)
    b = fasterpam(D, 5, random_state=3, shuffle=True)
    np.testing.assert_array_equal(a.medoids, b.medoids)
    assert a.loss == b.loss
    change, _, _ = best_swap(D, a.medoids)
    assert change >= -1e-9 * a.loss
    # same seed through a Generator and a RandomState is accepted too
    fasterpam(D, 5, random_state=np.random.default_rng(3), shuffle=True)
    fasterpam(D, 5, random_state=np.random.RandomState(3), shuffle=True)


def test_random_state_variants_and_init_names():
    D = dataset("iris")
    a = fasterpam(D, 4, random_state=7)
    b = fasterpam(D, 4, random_state=7)
    np.testing.assert_array_equal(a.medoids, b.medoids)
    for init in ("random", "first", "build", "lab", "kmedoids++"):
        r = fasterpam(D, 4, init=init, random_state=1)
        assert r.medoids.dtype == np.int64 and r.labels.dtype == np.int64
        assert len(set(r.medoids.tolist())) == 4
        assert r.labels.min() == 0 and r.labels.max() == 3
    with pytest.raises(ValueError, match="kmedoids\\+\\+"):
        fasterpam(D, 4, init="nope")


def test_max_iter_zero_returns_the_initial_assignment():
    D = dataset("wine")
    m0 = initial_medoids(D.shape[0], 6, 2)
    r = fasterpam(D, m0, max_iter=0)
    ref = kmedoids.fasterpam(D, m0.copy(), 0, n_cpu=1)
    assert_identical(r, ref)
    assert (r.n_iter, r.n_swap) == (0, 0)


def test_medoids_argument_is_not_modified():
    D = dataset("iris")
    m0 = initial_medoids(D.shape[0], 5, 0)
    keep = m0.copy()
    fasterpam(D, m0)
    np.testing.assert_array_equal(m0, keep)


def test_float_noise_does_not_cycle():
    # a three-point cluster whose medoid swaps change the loss by 0 or by 2**-46 (float noise level
    # next to the other terms): must stop, not swap back and forth until max_iter
    D = np.full((5, 5), 100.0)
    np.fill_diagonal(D, 0.0)
    for i, j, v in ((0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0 - 2.0**-46), (3, 4, 1.0)):
        D[i, j] = D[j, i] = v
    r = fasterpam(D, np.array([0, 3]))
    ref = kmedoids.fasterpam(D, np.array([0, 3]), 100, n_cpu=1)
    assert_identical(r, ref)
    assert r.n_iter < 100


def test_float_noise_trap_is_polished_to_a_local_optimum():
    # Found by hypothesis: two two-point clusters whose medoid exchanges change the loss by exactly 0 but
    # are computed as -4e-16. The oracle stops on the pass that only exchanged them, in a state where a
    # genuine improvement (-0.24) exists; sparkmed continues with tolerance-guarded swaps. This is the one
    # documented way sparkmed differs from kmedoids (never seen on the oracle data sets above).
    rng = np.random.default_rng(415)
    X = rng.normal(size=(6, 2))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    m0 = np.array([1, 3, 5])
    ref = kmedoids.fasterpam(D, m0.copy(), 100, n_cpu=1)
    assert best_swap(D, ref.medoids)[0] < -0.2
    for threads in (1, 2):
        r = fasterpam(D, m0.copy(), n_threads=threads)
        assert best_swap(D, r.medoids)[0] >= 0.0
        assert r.loss < ref.loss - 0.2


def test_tiny_runs_both_dtypes_and_thread_counts():
    # what the removed fasterpam.warmup() ran: tiny float32 / float64 matrices, 1 and 2 threads, k = 1
    rng = np.random.default_rng(0)
    x = rng.random((12, 2))
    d64 = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    for d in (d64.astype(np.float32), d64):
        m = np.array([0, 5, 9], dtype=np.int64)
        one = fasterpam(d, m)
        two = fasterpam(d, m, n_threads=2)
        assert_identical(one, two)
        assert fasterpam(d, 1, init="first").medoids.shape == (1,)


# ---------------------------------------------------------------- argument validation (all wrappers)


def _algorithms():
    from sparkmed.kernels.alternating import alternating
    from sparkmed.kernels.clarans import clarans
    from sparkmed.kernels.pam import fastpam1, pam

    return [fasterpam, fastpam1, pam, alternating, clarans]


@pytest.mark.parametrize("algo", _algorithms(), ids=lambda f: f.__name__)
def test_validation(algo):
    D = dataset("iris")[:20, :20].copy()
    with pytest.raises(ValueError, match="diss"):
        algo(D[:, :19], 3)
    with pytest.raises(ValueError, match="diss"):
        algo(np.zeros((2, 2, 2)), 1)
    bad = D.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="diss.*finite"):
        algo(bad, 3)
    bad = D.copy()
    bad[3, 4] = np.inf
    with pytest.raises(ValueError, match="diss.*finite"):
        algo(bad.astype(np.float32), 3)
    bad = D.copy()
    bad[3, 4] = -1.0
    with pytest.raises(ValueError, match="diss.*non-negative"):
        algo(bad, 3)
    for k in (0, 21, -1):
        with pytest.raises(ValueError, match="medoids"):
            algo(D, k)
    with pytest.raises(ValueError, match="medoids.*distinct"):
        algo(D, np.array([1, 1, 2]))
    with pytest.raises(ValueError, match="medoids"):
        algo(D, np.array([1, 20]))
    with pytest.raises(ValueError, match="medoids"):
        algo(D, np.array([-1, 2]))
    with pytest.raises(ValueError, match="medoids"):
        algo(D, np.array([0.5, 2.0]))
    with pytest.raises(ValueError, match="weights"):
        algo(D, 3, weights=np.ones(19))
    with pytest.raises(ValueError, match="weights"):
        algo(D, 3, weights=-np.ones(20))
    with pytest.raises(ValueError, match="weights"):
        algo(D, 3, weights=np.zeros(20))
    w = np.ones(20)
    w[2] = np.nan
    with pytest.raises(ValueError, match="weights"):
        algo(D, 3, weights=w)
    with pytest.raises(ValueError, match="init"):
        algo(D, 3, init="kmeans")
    with pytest.raises(ValueError, match="random_state"):
        algo(D, 3, random_state="seed")
    # integer matrices are accepted (converted to float64), as are lists
    r = algo(np.rint(D * 10).astype(np.int64), 3, random_state=0)
    assert r.medoids.shape == (3,)
    algo(D.tolist(), np.array([0, 5]), random_state=0)


@pytest.mark.parametrize("algo", _algorithms()[:4], ids=lambda f: f.__name__)
def test_max_iter_validation(algo):
    D = dataset("iris")[:20, :20]
    for bad in (-1, 1.5, None):
        with pytest.raises(ValueError, match="max_iter"):
            algo(D, 3, max_iter=bad)
