"""Naive numpy references for the k-medoids kernel tests, plus the shared test data sets.

Everything here is deliberately simple and slow (no caches, no delta tricks): it is the independent
reference the kernels are checked against, next to the ``kmedoids`` oracle.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

# --------------------------------------------------------------------------------------------------
# naive references
# --------------------------------------------------------------------------------------------------


def loss(diss, medoids, weights=None) -> float:
    """TD = sum_o w(o) * min_j d(o, medoids[j]) in float64."""
    d = np.asarray(diss, dtype=np.float64)[:, np.asarray(medoids, dtype=np.int64)].min(axis=1)
    w = np.ones(d.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    return float((w * d).sum())


def best_swap(diss, medoids, weights=None):
    """Brute force over all (medoid position, non-medoid) pairs: (best loss change, position, point).

    Each candidate medoid set is evaluated from scratch with ``loss``. O(k*n) loss evaluations.
    """
    medoids = np.asarray(medoids, dtype=np.int64)
    base = loss(diss, medoids, weights)
    n = diss.shape[0]
    best = (0.0, -1, -1)
    for i in range(medoids.shape[0]):
        for c in range(n):
            if c in medoids:
                continue
            m = medoids.copy()
            m[i] = c
            change = loss(diss, m, weights) - base
            if change < best[0]:
                best = (change, i, c)
    return best


def naive_build(diss, k, weights=None) -> np.ndarray:
    """PAM BUILD, greedily: the point minimising the loss alone, then each point giving the smallest
    loss together with the chosen ones (first index on ties)."""
    n = diss.shape[0]
    chosen: list[int] = []
    for _ in range(k):
        best, bl = -1, np.inf
        for c in range(n):
            if c in chosen:
                continue
            lo = loss(diss, chosen + [c], weights)
            if lo < bl:
                best, bl = c, lo
        chosen.append(best)
    return np.array(chosen, dtype=np.int64)


def assert_identical(ours, ref, *, check_counts=True):
    """Same medoids in the same positions, same labels, same loss (relative 1e-9), same counters."""
    np.testing.assert_array_equal(ours.medoids, np.asarray(ref.medoids, dtype=np.int64))
    np.testing.assert_array_equal(ours.labels, np.asarray(ref.labels, dtype=np.int64))
    assert ours.loss == pytest.approx(ref.loss, rel=1e-9, abs=1e-12)
    if check_counts:
        assert ours.n_iter == ref.n_iter
        if ref.n_swap is not None:
            assert ours.n_swap == ref.n_swap


def medoid_rows(X, medoids) -> list[tuple]:
    """The data rows the medoids represent, as a sorted list (for comparing medoid sets that may differ
    only by exchanging exact duplicate points)."""
    return sorted(tuple(np.asarray(X)[m].tolist()) for m in medoids)


# --------------------------------------------------------------------------------------------------
# shared test data sets (dissimilarity matrices in float64; tests cast to float32 where needed)
# --------------------------------------------------------------------------------------------------


def _standardised(X):
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    return (X - X.mean(axis=0)) / sd


@functools.cache
def dataset(name: str) -> np.ndarray:
    """Square float64 dissimilarity matrix of a named test data set.

    * iris, wine, digits, breast_cancer: scikit-learn's bundled data, standardised, Euclidean
      (iris contains exact duplicate rows);
    * blobs: 500 points from 6 Gaussian blobs in 4-D, Euclidean;
    * dupblobs: 300 blob points rounded to integers with 60 exact duplicate rows, Manhattan (integer
      distances: exact duplicates and many tied distances);
    * grid: 400 random points of the 6x6 integer grid (only 36 distinct), Manhattan.
    """
    from sklearn import datasets as skd

    if name in ("iris", "wine", "digits", "breast_cancer"):
        X = getattr(skd, f"load_{name}")().data
        return squareform(pdist(_standardised(X)))
    if name == "blobs":
        X, _ = skd.make_blobs(n_samples=500, centers=6, n_features=4, random_state=3)
        return squareform(pdist(X))
    if name == "dupblobs":
        X, _ = skd.make_blobs(n_samples=300, centers=5, n_features=2, cluster_std=2.0, random_state=7)
        X = np.round(X)
        rng = np.random.default_rng(11)
        X = np.vstack([X, X[rng.choice(300, 60, replace=False)]])
        X = X[rng.permutation(X.shape[0])]
        return squareform(pdist(X, "cityblock"))
    if name == "grid":
        rng = np.random.default_rng(0)
        G = rng.integers(0, 6, size=(400, 2))
        return squareform(pdist(G, "cityblock"))
    raise KeyError(name)


DATASETS = ("iris", "wine", "digits", "breast_cancer", "blobs", "dupblobs", "grid")
KS = (1, 2, 5, 10, 30, 100)


def initial_medoids(n: int, k: int, seed: int) -> np.ndarray:
    """Seeded random initial medoids (the same indices are given to sparkmed and the oracle)."""
    return np.random.default_rng(seed).choice(n, size=k, replace=False).astype(np.int64)
