"""Cluster a set of points (not a matrix) with one of the matrix algorithms: the per-sample fit.

This is what an executor runs on one sample: merge identical points into weighted points, build the
dense dissimilarity matrix (float32: m² × 4 bytes), initialise, and run the chosen algorithm.
"""

from __future__ import annotations

import numpy as np

from sparkmed.kernels.alternating import alternating
from sparkmed.kernels.clarans import clarans
from sparkmed.kernels.distances import pairwise
from sparkmed.kernels.fasterpam import fasterpam
from sparkmed.kernels.init import initialize
from sparkmed.kernels.pam import fastpam1, pam
from sparkmed.kernels.result import KMedoidsResult

ALGORITHMS = ("fasterpam", "fastpam1", "pam", "alternating", "clarans")


def merge_duplicates(X: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge identical rows into one weighted row.

    Returns (first index of each distinct row, in increasing order; merged weights; inverse map from
    every input row to its distinct row). O(m log m).
    """
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    inverse = rank[inverse.ravel()]
    merged = np.bincount(inverse, weights=weights, minlength=order.size)
    return first[order], merged, inverse


def cluster_points(
    X: np.ndarray,
    k: int,
    *,
    metric: str = "euclidean",
    p: float = 2.0,
    algorithm: str = "fasterpam",
    init: str = "lab",
    medoids: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    random_state: int | None = None,
    max_iter: int = 100,
    diss: np.ndarray | None = None,
) -> KMedoidsResult:
    """Run ``algorithm`` on the points X (m × d) with the dissimilarity ``metric``.

    ``medoids`` (row indices into X) overrides ``init``. Weights default to 1. The caller merges
    duplicates first if it wants to (``merge_duplicates``). Cost: the matrix O(m²·d) plus the algorithm
    (FasterPAM O(m²) per candidate cycle). ``diss``: the matrix of X if already built (fitting several k
    on one sample builds it once).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm '{algorithm}'; valid algorithms: {', '.join(ALGORITHMS)}")
    if diss is None:
        diss = pairwise(X, metric, p=p, dtype=np.float32)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if medoids is None:
        start = initialize(diss, k, init, random_state=random_state, weights=w)
    else:
        start = np.asarray(medoids, dtype=np.int64)
    if algorithm == "fasterpam":
        return fasterpam(diss, start, max_iter, random_state=random_state, weights=w)
    if algorithm == "fastpam1":
        return fastpam1(diss, start, max_iter, weights=w)
    if algorithm == "pam":
        return pam(diss, start, max_iter, weights=w)
    if algorithm == "alternating":
        return alternating(diss, start, max_iter, weights=w)
    return clarans(diss, start, random_state=random_state, weights=w)
