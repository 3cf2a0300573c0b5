"""Tests of the medoid silhouette and the classic silhouette."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from naive_metrics import naive_medoid_silhouette, naive_silhouette_samples
from scipy.spatial.distance import cdist
from sklearn.metrics import silhouette_samples as sk_samples
from sklearn.metrics import silhouette_score as sk_score

from sparkmed.kernels.assign import nearest_two

# the module, not the function of the same name that sparkmed.kernels re-exports
sil = importlib.import_module("sparkmed.kernels.silhouette")


def blobs(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(k, 2))
    labels = rng.integers(0, k, n)
    return centers[labels] + rng.normal(size=(n, 2)), labels


# -------------------------------------------------------------------------------- medoid silhouette


def test_medoid_silhouette_samples_definition():
    dn = np.array([0.0, 1.0, 2.0, 0.0, 3.0, 0.0])
    ds = np.array([2.0, 4.0, 2.0, 0.0, np.inf, 5.0])
    np.testing.assert_array_equal(sil.medoid_silhouette_samples(dn, ds), [1.0, 0.75, 0.0, 0.0, 0.0, 1.0])


def test_medoid_silhouette_matches_naive_and_duplication():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    _, dn, ds = nearest_two(X, X[:5])
    w = rng.integers(0, 4, 300).astype(np.float64)
    assert sil.medoid_silhouette(dn, ds) == pytest.approx(naive_medoid_silhouette(dn, ds), rel=1e-12)
    assert sil.medoid_silhouette(dn, ds, w) == pytest.approx(naive_medoid_silhouette(dn, ds, w), rel=1e-12)
    _, dnr, dsr = nearest_two(np.repeat(X, w.astype(int), axis=0), X[:5])
    assert sil.medoid_silhouette(dn, ds, w) == pytest.approx(sil.medoid_silhouette(dnr, dsr), rel=1e-12)


def test_medoid_silhouette_k1_and_validation():
    _, dn, ds = nearest_two(np.arange(6.0).reshape(3, 2), np.zeros((1, 2)))
    assert sil.medoid_silhouette(dn, ds) == 0.0
    with pytest.raises(ValueError, match="ds must have length 2"):
        sil.medoid_silhouette_samples(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="dn must be a 1-D"):
        sil.medoid_silhouette_samples(np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        sil.medoid_silhouette_samples(np.array([np.nan]), np.ones(1))
    with pytest.raises(ValueError, match="non-negative"):
        sil.medoid_silhouette(np.ones(2), np.ones(2), weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="positive sum"):
        sil.medoid_silhouette(np.ones(2), np.ones(2), weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="positive sum"):
        sil.medoid_silhouette(np.zeros(0), np.zeros(0))


# ------------------------------------------------------------------------------- classic silhouette


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_silhouette_matches_sklearn_and_naive(dtype):
    X, labels = blobs(250, 4, seed=2)
    D = cdist(X, X).astype(dtype)
    got = sil.silhouette_samples(D, labels)
    np.testing.assert_allclose(
        got, sk_samples(D.astype(np.float64), labels, metric="precomputed"), atol=1e-12
    )
    np.testing.assert_allclose(got, naive_silhouette_samples(D, labels), atol=1e-12)
    assert sil.silhouette(D, labels) == pytest.approx(
        sk_score(D.astype(np.float64), labels, metric="precomputed")
    )


def test_singletons_duplicates_and_arbitrary_labels():
    X = np.array([[0.0], [0.0], [0.0], [5.0], [9.0], [9.5]])
    labels = np.array([10, 10, 10, -1, 7, 7])  # exact duplicates (a = 0), a singleton, any label values
    D = cdist(X, X)
    got = sil.silhouette_samples(D, labels)
    np.testing.assert_allclose(got, sk_samples(D, labels, metric="precomputed"), atol=1e-14)
    np.testing.assert_allclose(got, naive_silhouette_samples(D, labels), atol=1e-14)
    assert got[3] == 0.0 and got[0] == 1.0
    # all points identical in two clusters: max(a, b) == 0 -> 0
    Z = np.zeros((4, 4))
    np.testing.assert_array_equal(sil.silhouette_samples(Z, [0, 0, 1, 1]), np.zeros(4))


def test_single_cluster_is_zero():
    D = cdist(np.arange(5.0)[:, None], np.arange(5.0)[:, None])
    np.testing.assert_array_equal(sil.silhouette_samples(D, np.zeros(5, dtype=int)), np.zeros(5))
    assert sil.silhouette(D, np.zeros(5, dtype=int)) == 0.0


def test_weighted_silhouette_is_duplication():
    X, labels = blobs(60, 3, seed=3)
    rng = np.random.default_rng(4)
    w = rng.integers(0, 4, 60)
    w[:3] = [1, 2, 3]
    idx = np.repeat(np.arange(60), w)
    D = cdist(X, X)
    want = sk_score(D[np.ix_(idx, idx)], labels[idx], metric="precomputed")
    assert sil.silhouette(D, labels, weights=w.astype(float)) == pytest.approx(want, rel=1e-12)
    # a cluster made of one point of weight 3 is not a singleton: its copies have a = 0, s = 1
    labels2 = labels.copy()
    labels2[0] = 99
    w2 = w.copy()
    w2[0] = 3
    idx2 = np.repeat(np.arange(60), w2)
    want2 = sk_score(D[np.ix_(idx2, idx2)], labels2[idx2], metric="precomputed")
    assert sil.silhouette(D, labels2, weights=w2) == pytest.approx(want2, rel=1e-12)


def test_weights_none_equals_ones():
    X, labels = blobs(80, 3, seed=5)
    D = cdist(X, X)
    assert sil.silhouette(D, labels, weights=np.ones(80)) == sil.silhouette(D, labels)


def test_silhouette_validation():
    with pytest.raises(ValueError, match="square"):
        sil.silhouette_samples(np.zeros((3, 2)), [0, 1, 0])
    with pytest.raises(ValueError, match="labels must be a 1-D array of length 3"):
        sil.silhouette_samples(np.zeros((3, 3)), [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        sil.silhouette(np.full((2, 2), np.nan), [0, 1])
    with pytest.raises(ValueError, match="weights must have length 2"):
        sil.silhouette(np.zeros((2, 2)), [0, 1], weights=[1.0])


# -------------------------------------------------------------------------------- simplified silhouette


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_simplified_silhouette_matches_naive(metric):
    from naive_metrics import naive_cross

    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3))
    M = X[[3, 50, 120, 199]]
    labels = rng.integers(0, 4, 200)
    D = naive_cross(X, M, metric)
    a = D[np.arange(200), labels]
    b = np.array([min(D[i, j] for j in range(4) if j != labels[i]) for i in range(200)])
    want = np.array([(bb - aa) / max(aa, bb) if max(aa, bb) > 0 else 0.0 for aa, bb in zip(a, b, strict=True)])
    got = sil.simplified_silhouette_samples(X, M, labels, metric)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    nearest = D.argmin(axis=1)
    srt = np.sort(D, axis=1)
    np.testing.assert_allclose(sil.simplified_silhouette_samples(X, M, nearest, metric),
                               sil.medoid_silhouette_samples(srt[:, 0], srt[:, 1]), rtol=1e-12, atol=1e-12)


def test_simplified_silhouette_rejects_bad_labels():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="labels must lie"):
        sil.simplified_silhouette_samples(X, X[:2] + [[0, 0], [1, 1]], np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="at least two medoids"):
        sil.simplified_silhouette_samples(X, X[:1], np.array([0, 0, 0]))
