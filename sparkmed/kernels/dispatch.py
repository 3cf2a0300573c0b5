"""Metric code -> scalar metric function: :func:`distance`, the one numba entry point for every metric.

Kernels compiled with ``cache=True`` cannot take a function argument, so they pass the metric's integer
code (:mod:`sparkmed.kernels.metrics`) and call :func:`distance`, an if-chain over every registry metric
(dense ones from :mod:`sparkmed.kernels.dense`, encoded-row ones from :mod:`sparkmed.kernels.encoded`).
A code without a branch raises: a metric added to the registry but not here can never yield distance 0.
"""

from __future__ import annotations

import numba
import numpy as np

from sparkmed.kernels.dense import (
    chebyshev,
    cosine,
    euclidean,
    hamming,
    haversine,
    jaccard,
    manhattan,
    minkowski,
    sqeuclidean,
)
from sparkmed.kernels.encoded import (
    gower,
    set_dice,
    set_jaccard,
    sparse_cosine,
    sparse_euclidean,
    sparse_jaccard,
    sparse_manhattan,
)
from sparkmed.kernels.metrics import (
    CHEBYSHEV,
    COSINE,
    EUCLIDEAN,
    GOWER,
    HAMMING,
    HAVERSINE,
    JACCARD,
    MANHATTAN,
    MINKOWSKI,
    SET_DICE,
    SET_JACCARD,
    SPARSE_COSINE,
    SPARSE_EUCLIDEAN,
    SPARSE_JACCARD,
    SPARSE_MANHATTAN,
    SQEUCLIDEAN,
)


@numba.njit(cache=True, fastmath=False)
def distance(code: int, a: np.ndarray, b: np.ndarray, p: float) -> float:
    """Distance between ``a`` and ``b`` under the metric with integer ``code`` (``p``: Minkowski). O(d).

    Raises:
        ValueError: a code with no branch here (the Python wrappers validate codes first).
    """
    if code == EUCLIDEAN:
        return euclidean(a, b)
    if code == SQEUCLIDEAN:
        return sqeuclidean(a, b)
    if code == MANHATTAN:
        return manhattan(a, b)
    if code == COSINE:
        return cosine(a, b)
    if code == CHEBYSHEV:
        return chebyshev(a, b)
    if code == MINKOWSKI:
        return minkowski(a, b, p)
    if code == HAVERSINE:
        return haversine(a, b)
    if code == JACCARD:
        return jaccard(a, b)
    if code == HAMMING:
        return hamming(a, b)
    if code == SPARSE_EUCLIDEAN:
        return sparse_euclidean(a, b)
    if code == SPARSE_MANHATTAN:
        return sparse_manhattan(a, b)
    if code == SPARSE_COSINE:
        return sparse_cosine(a, b)
    if code == SPARSE_JACCARD:
        return sparse_jaccard(a, b)
    if code == SET_JACCARD:
        return set_jaccard(a, b)
    if code == SET_DICE:
        return set_dice(a, b)
    if code == GOWER:
        return gower(a, b)
    raise ValueError("dispatch.distance: no branch for this metric code")
