"""PAM (BUILD + SWAP) and FastPAM1 against the kmedoids oracle and the naive reference."""

from __future__ import annotations

import kmedoids
import numpy as np
import pytest
from naive_pam import DATASETS, KS, assert_identical, best_swap, dataset, initial_medoids, loss

from sparkmed.kernels.fasterpam import fasterpam
from sparkmed.kernels.pam import fastpam1, pam


def _fastpam1_cases():
    for name in DATASETS:
        for k in KS:
            yield name, k


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "k"), list(_fastpam1_cases()))
def test_fastpam1_matches_kmedoids_oracle(name, k, dtype):
    D = dataset(name).astype(dtype)
    n = D.shape[0]
    seeds = (0,) if n > 1000 else (0, 1)
    for seed in seeds:
        m0 = initial_medoids(n, k, seed)
        ref = kmedoids.fastpam1(D, m0.copy(), 100, "random", None)
        ours = fastpam1(D, m0.copy(), 100, "random", None)
        assert_identical(ours, ref)


# original PAM is O(k*n^2) per iteration (and so is the oracle): small data sets and k only
_PAM_CASES = [
    (name, k)
    for name in ("iris", "wine", "breast_cancer", "blobs", "dupblobs", "grid")
    for k in (1, 2, 5, 10, 30)
    if not (name == "breast_cancer" and k == 30)
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "k"), _PAM_CASES)
def test_pam_matches_kmedoids_oracle(name, k, dtype):
    D = dataset(name).astype(dtype)
    m0 = initial_medoids(D.shape[0], k, 0)
    ref = kmedoids.pam(D, m0.copy(), 100, "build", None)
    ours = pam(D, m0.copy(), 100, "build", None)
    assert_identical(ours, ref)


@pytest.mark.parametrize("name", ["iris", "wine", "dupblobs", "grid"])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_pam_with_build_matches_kmedoids_oracle(name, k):
    D = dataset(name)
    ref = kmedoids.pam(D, k, 100, "build", None)
    ours = pam(D, k)  # init="build" by default
    assert_identical(ours, ref)


@pytest.mark.parametrize("seed", range(3))
def test_no_single_swap_improves_at_convergence(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(45, 3))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    for k in (1, 2, 4, 9):
        for algo in (pam, fastpam1):
            r = algo(D, k, init="random", random_state=seed)
            change, _, _ = best_swap(D, r.medoids)
            assert change >= -1e-9 * max(r.loss, 1.0), algo.__name__
            assert r.loss == pytest.approx(loss(D, r.medoids), rel=1e-12)


def test_pam_and_fastpam1_find_the_same_swaps():
    # FastPAM1 performs exactly PAM's best swap each iteration (continuous data: no ties)
    D = dataset("blobs")[:200, :200]
    for k in (3, 7):
        m0 = initial_medoids(200, k, 4)
        a = pam(D, m0.copy())
        b = fastpam1(D, m0.copy())
        np.testing.assert_array_equal(a.medoids, b.medoids)
        assert (a.n_iter, a.n_swap) == (b.n_iter, b.n_swap)
        assert a.loss == pytest.approx(b.loss, rel=1e-12)


def test_fasterpam_is_as_good_as_pam_on_blobs():
    D = dataset("blobs")
    a = pam(D, 6)
    b = fasterpam(D, 6, init="build")
    assert b.loss <= a.loss * 1.001


def test_max_iter_zero_and_k_edge_cases():
    D = dataset("iris")
    m0 = initial_medoids(150, 4, 0)
    for algo in (pam, fastpam1):
        r = algo(D, m0, max_iter=0)
        assert (r.n_iter, r.n_swap) == (0, 0)
        np.testing.assert_array_equal(r.medoids, m0)
        assert r.loss == pytest.approx(loss(D, m0))
        full = algo(D[:30, :30], 30, init="first")
        assert full.loss == 0.0
        np.testing.assert_array_equal(full.labels, np.arange(30))
