"""FasterMSC (Lenssen & Schubert, Information Systems 2024): eager medoid-silhouette swaps, O(n^2) per pass.

FastMSC's one-scan evaluation of all k swaps of a candidate (:mod:`sparkmed.kernels.msc_state`) combined with
FasterPAM's eager strategy: visit the non-medoid candidates in index order, cyclically; as soon as a
candidate's best swap lowers the loss sum ``L = sum_o w(o) f(d1, d2)``, perform it and update the
nearest / second / third caches and the removal losses. Stop when a full cycle of candidates performs no
swap, when a pass with swaps does not strictly lower the recomputed L (float noise: an exchange of
equivalent medoids), or after ``max_iter`` passes. Usually needs far fewer scans than FastMSC's
steepest descent; the local optimum may differ.

Complexity: O(n k) initial assignment; O(n + k) per candidate, O(n^2) per pass; O(n) plus O(k) per
rescanned point per swap.
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
def fastermsc_passes(diss, med, w, max_iter, near, dist):
    """Eager medoid-silhouette swap passes on the caches (updated in place); returns (n_iter, n_swap)."""
    n = diss.shape[0]
    k = med.shape[0]
    ismed = np.zeros(n, dtype=np.bool_)
    for j in range(k):
        ismed[med[j]] = True
    delta = np.empty(k, dtype=np.float64)
    terms = np.empty((n, 3), dtype=np.float64)
    R = removal_losses(near, dist, w, k, terms)
    loss = loss_sum(dist, w)
    lastswap = -1
    n_iter = 0
    n_swap = 0
    done = False
    while n_iter < max_iter and not done:
        n_iter += 1
        swaps_before = n_swap
        for c in range(n):
            if c == lastswap:  # a full cycle without improvement
                done = True
                break
            if ismed[c]:
                continue
            i, change = candidate_changes(diss[c], near, dist, terms, w, R, delta)
            if change < 0.0:
                ismed[med[i]] = False
                ismed[c] = True
                apply_msc_swap(diss, med, near, dist, i, c)
                R = removal_losses(near, dist, w, k, terms)
                n_swap += 1
                lastswap = c
        if not done:
            new_loss = loss_sum(dist, w)
            if n_swap == swaps_before or not new_loss < loss:
                done = True
            loss = new_loss
    return n_iter, n_swap


def fastermsc(
    diss: object,
    medoids: object,
    max_iter: int = DEFAULT_MAX_ITER,
    init: str = "random",
    random_state: object = None,
    *,
    weights: object = None,
) -> KMedoidsResult:
    """FasterMSC: maximise the average medoid silhouette with eager swaps.

    Args as :func:`sparkmed.kernels.fasterpam` (``medoids``: k >= 2 or k initial indices; ``weights``: a
    point of weight w counts as w copies).

    Returns:
        ``KMedoidsResult`` with ``loss`` = the average medoid silhouette (higher is better, as
        ``kmedoids.fastermsc``), labels = nearest medoid positions, n_iter = passes, n_swap = swaps.

    Complexity: O(n^2) per pass (O(n + k) per candidate).
    """
    start = msc_prologue(diss, medoids, init, random_state, weights, max_iter)
    near, dist = assign_three(start.diss, start.med)
    n_iter, n_swap = fastermsc_passes(start.diss, start.med, start.w, start.max_iter, near, dist)
    return msc_result(start.med, near, dist, start.w, n_iter, n_swap)
