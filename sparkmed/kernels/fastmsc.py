"""FastMSC (Lenssen & Schubert, SISAP 2022): best medoid-silhouette swap per iteration in O(n^2).

Each iteration scans every non-medoid candidate once; its matrix row gives the change of the loss sum
``L = sum_o w(o) f(d1, d2)`` for all k swaps at once (:func:`~sparkmed.kernels.msc_state.candidate_changes`,
using the cached nearest, second and third medoid distances). The overall best swap (ties: the first
candidate index, then the first medoid position) is applied if it lowers L; the run stops when none does,
when the recomputed L does not strictly fall (float noise), or after ``max_iter`` iterations. The result
equals PAMMEDSIL's (the same steepest-descent search) at O(k^2) less work per iteration.

Complexity: O(n k) initial assignment; O(n^2 + n k) per iteration; O(n) plus O(k) per rescanned point per
swap.
"""

from __future__ import annotations

import numba
import numpy as np

from sparkmed.kernels.driver import DEFAULT_MAX_ITER
from sparkmed.kernels.msc_state import (
    apply_msc_swap,
    assign_three,
    candidate_changes,
    loss_sum,
    msc_prologue,
    msc_result,
    removal_losses,
)
from sparkmed.kernels.result import KMedoidsResult


@numba.njit(cache=True, nogil=True)
def _fastmsc_swap(diss, med, w, max_iter, near, dist):
    """Steepest-descent medoid-silhouette swaps; returns (n_iter, n_swap)."""
    n = diss.shape[0]
    k = med.shape[0]
    ismed = np.zeros(n, dtype=np.bool_)
    for j in range(k):
        ismed[med[j]] = True
    delta = np.empty(k, dtype=np.float64)
    terms = np.empty((n, 3), dtype=np.float64)
    R = removal_losses(near, dist, w, k, terms)
    loss = loss_sum(dist, w)
    n_iter = 0
    n_swap = 0
    while n_iter < max_iter:
        n_iter += 1
        best = 0.0
        bi = -1
        bc = -1
        for c in range(n):
            if ismed[c]:
                continue
            i, change = candidate_changes(diss[c], near, dist, terms, w, R, delta)
            if change < best:
                best = change
                bi = i
                bc = c
        if bi < 0:
            break
        ismed[med[bi]] = False
        ismed[bc] = True
        apply_msc_swap(diss, med, near, dist, bi, bc)
        R = removal_losses(near, dist, w, k, terms)
        n_swap += 1
        new_loss = loss_sum(dist, w)
        if not new_loss < loss:
            break
        loss = new_loss
    return n_iter, n_swap


def fastmsc(
    diss: object,
    medoids: object,
    max_iter: int = DEFAULT_MAX_ITER,
    init: str = "random",
    random_state: object = None,
    *,
    weights: object = None,
) -> KMedoidsResult:
    """FastMSC: maximise the average medoid silhouette by the best swap per iteration.

    Args as :func:`sparkmed.kernels.fasterpam` (``medoids``: k >= 2 or k initial indices; ``weights``: a
    point of weight w counts as w copies).

    Returns:
        ``KMedoidsResult`` with ``loss`` = the average medoid silhouette (higher is better, as
        ``kmedoids.fastmsc``), labels = nearest medoid positions, n_iter = iterations, n_swap = swaps.

    Complexity: O(n^2 + n k) per iteration (PAMMEDSIL: O(k^2 n^2)).
    """
    start = msc_prologue(diss, medoids, init, random_state, weights, max_iter)
    near, dist = assign_three(start.diss, start.med)
    n_iter, n_swap = _fastmsc_swap(start.diss, start.med, start.w, start.max_iter, near, dist)
    return msc_result(start.med, near, dist, start.w, n_iter, n_swap)
