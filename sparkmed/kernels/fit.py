"""Cluster a set of points (not a matrix) with one of the registry's matrix algorithms: the per-sample fit.

This is what an executor runs on one sample: merge identical points into weighted points, build the
dense dissimilarity matrix (float32: m² × 4 bytes), initialise, and run the chosen algorithm.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from sparkmed.kernels.algorithms import ALGORITHM_NAMES, ALGORITHMS
from sparkmed.kernels.driver import DEFAULT_MAX_ITER
from sparkmed.kernels.init import initialize
from sparkmed.kernels.matrix import pairwise
from sparkmed.kernels.metrics import METRICS
from sparkmed.kernels.result import KMedoidsResult


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


#: Metrics with d(c·a, c·b) = c^degree · d(a, b): their sample matrix can be built on rescaled points.
SCALE_DEGREE = {name: m.degree for name, m in METRICS.items() if m.degree and m.layout == "dense"}
_SAFE_SPREAD = (2.0**-40, 2.0**40)


def sample_matrix(X: np.ndarray, metric: str = "euclidean", p: float = 2.0) -> tuple[np.ndarray, float]:
    """The float32 dissimilarity matrix of a sample, and the factor that turns its losses into true ones.

    float32 holds 3.4e38 down to 1.4e-45: points of magnitude 1e±150 would give inf or 0 distances. For
    the scale-homogeneous metrics (:data:`SCALE_DEGREE`) whose spread (largest per-column range) lies outside
    2^±40, the points are first multiplied by an exact power of two 2^e bringing the spread near 1; the
    matrix is then 2^(e·degree) times the true one (same medoids), and the factor 2^(-e·degree) is
    returned. Other data is untouched (factor 1). O(m²·d).
    """
    factor = 1.0
    degree = SCALE_DEGREE.get(metric)
    if degree is not None and X.shape[0] > 1:
        spread = float(np.max(np.ptp(X, axis=0)))
        if spread > 0 and not (_SAFE_SPREAD[0] <= spread <= _SAFE_SPREAD[1]):
            e = -math.frexp(spread)[1]
            X = np.ldexp(np.asarray(X, dtype=np.float64), e)
            factor = math.ldexp(1.0, -e * degree)
    return pairwise(X, metric, p=p, dtype=np.float32), factor


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
    max_iter: int = DEFAULT_MAX_ITER,
    diss: np.ndarray | None = None,
) -> KMedoidsResult:
    """Run ``algorithm`` on the points X (m × d) with the dissimilarity ``metric``.

    ``medoids`` (row indices into X) overrides ``init``. Weights default to 1. The caller merges
    duplicates first if it wants to (``merge_duplicates``). Cost: the matrix O(m²·d) plus the algorithm
    (FasterPAM O(m²) per candidate cycle). ``diss``: the matrix of X if already built (fitting several k
    on one sample builds it once); then the loss is in the matrix's units (see :func:`sample_matrix`).
    """
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm '{algorithm}'; valid algorithms: {', '.join(ALGORITHM_NAMES)}")
    factor = 1.0
    if diss is None:
        diss, factor = sample_matrix(X, metric, p)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if medoids is None:
        start = initialize(diss, k, init, random_state=random_state, weights=w)
    else:
        start = np.asarray(medoids, dtype=np.int64)
    result = ALGORITHMS[algorithm].fit(diss, start, max_iter=max_iter, random_state=random_state, weights=w)
    return result if factor == 1.0 else replace(result, loss=result.loss * factor)
