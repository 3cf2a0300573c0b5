"""Initialisations: BUILD against kmedoids.pam_build and a naive greedy BUILD; LAB, k-medoids++, random,
first."""

from __future__ import annotations

import kmedoids
import numpy as np
import pytest
from naive_pam import DATASETS, KS, dataset, loss, naive_build

from sparkmed.kernels.init import INIT_NAMES, initialize


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("name", DATASETS)
def test_build_matches_kmedoids_pam_build(name, k, dtype):
    D = dataset(name).astype(dtype)
    ref = kmedoids.pam_build(D, k)
    ours = initialize(D, k, "build")
    assert ours.dtype == np.int64 and ours.shape == (k,)
    r = np.asarray(ref.medoids, dtype=np.int64)
    # same medoids in the same (greedy) order
    np.testing.assert_array_equal(ours[: r.shape[0]], r)
    if r.shape[0] < k:
        # the oracle stops early once no point lowers the loss any more (e.g. "grid" has only 36
        # distinct points); sparkmed always returns k medoids, adding zero-gain points by index order
        assert ref.loss == 0.0
        assert loss(D, ours) == 0.0
        assert len(set(ours.tolist())) == k
    else:
        assert loss(D, ours) == pytest.approx(ref.loss, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_build_matches_naive_greedy_build_with_weights(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 2))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    w = rng.integers(0, 4, size=30).astype(np.float64)
    w[0] = 1.0
    for k in (1, 3, 6):
        np.testing.assert_array_equal(initialize(D, k, "build"), naive_build(D, k))
        np.testing.assert_array_equal(initialize(D, k, "build", weights=w), naive_build(D, k, w))


@pytest.mark.parametrize("method", INIT_NAMES)
def test_every_method_returns_k_distinct_indices(method):
    D = dataset("iris")
    for k in (1, 2, 7, 150):
        m = initialize(D, k, method, random_state=0)
        assert m.dtype == np.int64 and m.shape == (k,)
        assert len(set(m.tolist())) == k
        assert m.min() >= 0 and m.max() < 150


@pytest.mark.parametrize("method", ["random", "lab", "kmedoids++"])
def test_random_methods_are_seeded(method):
    D = dataset("blobs")
    a = initialize(D, 6, method, random_state=5)
    b = initialize(D, 6, method, random_state=5)
    c = initialize(D, 6, method, random_state=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    initialize(D, 6, method, random_state=np.random.RandomState(5))
    others = {tuple(initialize(D, 6, method, random_state=s)) for s in range(6)}
    assert len(others) > 1
    # a Generator is advanced: two draws from one differ
    g = np.random.default_rng(1)
    assert not np.array_equal(initialize(D, 6, method, random_state=g), initialize(D, 6, method, random_state=g))


def test_first():
    np.testing.assert_array_equal(initialize(dataset("iris"), 4, "first"), np.arange(4))


def test_lab_and_kmedoidspp_beat_random_initialisation_on_blobs():
    D = dataset("blobs")
    k = 6
    mean = {
        m: np.mean([loss(D, initialize(D, k, m, random_state=s)) for s in range(10)])
        for m in ("random", "lab", "kmedoids++")
    }
    build = loss(D, initialize(D, k, "build"))
    assert mean["lab"] < mean["random"]
    assert mean["kmedoids++"] < mean["random"]
    assert mean["lab"] < 1.5 * build


def test_lab_with_the_whole_data_as_sample_is_build():
    # continuous data without ties: evaluating every non-medoid on all points is exactly BUILD
    D = dataset("wine")
    np.testing.assert_array_equal(
        initialize(D, 5, "lab", lab_sample=D.shape[0], random_state=2), initialize(D, 5, "build")
    )


def test_kmedoidspp_never_picks_zero_weight_points_while_mass_remains():
    D = dataset("blobs")
    w = np.zeros(D.shape[0])
    w[::3] = 1.0
    for s in range(5):
        m = initialize(D, 8, "kmedoids++", weights=w, random_state=s)
        assert np.all(w[m] > 0)
    # exponent: large exponents favour far points (sum of distances to the first medoid grows)
    far = np.mean(
        [D[m[0], m[1]] for m in (initialize(D, 2, "kmedoids++", exponent=8.0, random_state=s) for s in range(20))]
    )
    near = np.mean(
        [D[m[0], m[1]] for m in (initialize(D, 2, "kmedoids++", exponent=0.0, random_state=s) for s in range(20))]
    )
    assert far > near


def test_all_identical_points():
    D = np.zeros((6, 6))
    for method in INIT_NAMES:
        m = initialize(D, 3, method, random_state=0)
        assert len(set(m.tolist())) == 3


def test_errors():
    D = dataset("iris")
    with pytest.raises(ValueError, match="random, first, build, lab, kmedoids\\+\\+"):
        initialize(D, 3, "kmeans++")
    with pytest.raises(ValueError, match="k"):
        initialize(D, 0)
    with pytest.raises(ValueError, match="k"):
        initialize(D, 151)
    with pytest.raises(ValueError, match="k"):
        initialize(D, 2.5)
    with pytest.raises(ValueError, match="random_state"):
        initialize(D, 3, random_state=-1)
    with pytest.raises(ValueError, match="exponent"):
        initialize(D, 3, "kmedoids++", exponent=-1.0)
    with pytest.raises(ValueError, match="lab_sample"):
        initialize(D, 3, "lab", lab_sample=0)
    with pytest.raises(ValueError, match="weights"):
        initialize(D, 3, weights=np.ones(3))
