"""PAMMEDSIL (Van der Laan, Pollard & Bryan 2003, medoid variant; Lenssen & Schubert 2022): the reference
medoid-silhouette swap search, evaluated naively.

Each iteration evaluates every (non-medoid candidate, medoid) pair by recomputing the nearest and
second-nearest medoid of every point with that swap made (O(n k) per pair), and applies the pair with the
lowest loss sum ``L = sum_o w(o) f(d1, d2)`` (ties: the first candidate index, then the first medoid
position) if it is strictly below the current one. A reference implementation, independent of the
cached-distance bookkeeping of FastMSC (same search, same result up to float round-off in ties).

Complexity: O(k^2 (n - k) n) per iteration.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sparkmed.kernels.driver import DEFAULT_MAX_ITER
from sparkmed.kernels.msc_state import assign_three, msc_prologue, msc_result, pair_loss
from sparkmed.kernels.result import KMedoidsResult


@numba.njit(cache=True, nogil=True)
def swapped_loss(diss, med, w, i, c):
    """L of the medoid set ``med`` with position i replaced by point c, from scratch. O(n k)."""
    n = diss.shape[0]
    k = med.shape[0]
    s = 0.0
    for o in range(n):
        a = math.inf
        b = math.inf
        for j in range(k):
            m = c if j == i else med[j]
            d = np.float64(diss[m, o])
            if d < a:
                b = a
                a = d
            elif d < b:
                b = d
        s += w[o] * pair_loss(a, b)
    return s


@numba.njit(cache=True, nogil=True)
def _pammedsil_swap(diss, med, w, max_iter):
    """Best (candidate, medoid) pair per iteration by full recomputation; returns (n_iter, n_swap)."""
    n = diss.shape[0]
    k = med.shape[0]
    ismed = np.zeros(n, dtype=np.bool_)
    for j in range(k):
        ismed[med[j]] = True
    loss = swapped_loss(diss, med, w, 0, med[0])
    n_iter = 0
    n_swap = 0
    while n_iter < max_iter:
        n_iter += 1
        best = loss
        bi = -1
        bc = -1
        for c in range(n):
            if ismed[c]:
                continue
            for i in range(k):
                s = swapped_loss(diss, med, w, i, c)
                if s < best:
                    best = s
                    bi = i
                    bc = c
        if bi < 0:
            break
        ismed[med[bi]] = False
        ismed[bc] = True
        med[bi] = bc
        loss = best
        n_swap += 1
    return n_iter, n_swap


def pammedsil(
    diss: object,
    medoids: object,
    max_iter: int = DEFAULT_MAX_ITER,
    init: str = "build",
    random_state: object = None,
    *,
    weights: object = None,
) -> KMedoidsResult:
    """PAMMEDSIL: the best medoid-silhouette swap per iteration, every swap evaluated from scratch.

    Args as :func:`sparkmed.kernels.fasterpam`; ``init`` defaults to ``"build"`` as in ``kmedoids``.

    Returns:
        ``KMedoidsResult`` with ``loss`` = the average medoid silhouette (higher is better).

    Complexity: O(k^2 (n - k) n) per iteration: a reference; use ``fastmsc`` (same search, O(n^2)) or
    ``fastermsc``.
    """
    start = msc_prologue(diss, medoids, init, random_state, weights, max_iter)
    n_iter, n_swap = _pammedsil_swap(start.diss, start.med, start.w, start.max_iter)
    near, dist = assign_three(start.diss, start.med)
    return msc_result(start.med, near, dist, start.w, n_iter, n_swap)
