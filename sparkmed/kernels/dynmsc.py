"""DynMSC (Lenssen & Schubert, Information Systems 2024): medoid-silhouette clustering that also chooses k.

Start from k_max medoids and optimise them with FasterMSC (:mod:`sparkmed.kernels.fastermsc`); record the
average medoid silhouette; remove the medoid whose removal raises the loss sum least (the smallest
removal loss R(i) of :mod:`sparkmed.kernels.msc_state`; first position on ties), re-optimise the k - 1
remaining with FasterMSC, and so on down to ``minimum_k``. Each k starts from the previous optimum, so
the whole range costs little more than a few FasterMSC runs. The clustering with the highest silhouette
is returned (the smaller k on ties), with the silhouette of every k.

Complexity: O(n k) per removal (reassignment) plus FasterMSC's O(n^2) per pass for every k.
"""

from __future__ import annotations

import numbers

import numba
import numpy as np

from sparkmed.kernels.driver import DEFAULT_MAX_ITER
from sparkmed.kernels.fastermsc import fastermsc_passes
from sparkmed.kernels.msc_state import assign_three, msc_prologue, msc_result, removal_losses
from sparkmed.kernels.result import DynkResult


@numba.njit(cache=True, nogil=True)
def _cheapest_removal(near, dist, w, k):
    """Position of the medoid whose removal raises the loss sum least (first on ties)."""
    R = removal_losses(near, dist, w, k, np.empty((near.shape[0], 3)))
    best = 0
    for i in range(1, k):
        if R[i] < R[best]:
            best = i
    return best


def dynmsc(
    diss: object,
    medoids: object,
    minimum_k: int = 2,
    max_iter: int = DEFAULT_MAX_ITER,
    init: str = "random",
    random_state: object = None,
    *,
    weights: object = None,
) -> DynkResult:
    """DynMSC: FasterMSC for every k from ``len(medoids)`` (or ``medoids`` = k_max) down to ``minimum_k``.

    Args as :func:`sparkmed.kernels.fastermsc`; ``minimum_k`` (>= 2, <= k_max) is the smallest k tried;
    ``max_iter`` bounds the passes of each k.

    Returns:
        ``DynkResult``: ``loss`` = the highest average medoid silhouette, ``medoids`` / ``labels`` of that
        k, ``bestk``, ``losses`` (silhouette of every k, ascending k), ``rangek``, and ``n_iter`` /
        ``n_swap`` summed over all k.

    Raises:
        ValueError: as ``fastermsc``, or ``minimum_k`` not an int in 2..k_max.
    """
    start = msc_prologue(diss, medoids, init, random_state, weights, max_iter)
    D, w = start.diss, start.w
    k_max = start.med.shape[0]
    if not isinstance(minimum_k, numbers.Integral) or isinstance(minimum_k, bool) or not 2 <= minimum_k <= k_max:
        raise ValueError(f"minimum_k must be an int in 2..{k_max} (the number of medoids), got {minimum_k!r}")
    med = start.med.copy()
    near, dist = assign_three(D, med)
    losses = np.empty(k_max - minimum_k + 1, dtype=np.float64)
    best = None
    n_iter = n_swap = 0
    for k in range(k_max, minimum_k - 1, -1):
        it, sw = fastermsc_passes(D, med, w, start.max_iter, near, dist)
        n_iter += it
        n_swap += sw
        res = msc_result(med, near, dist, w, 0, 0)
        losses[k - minimum_k] = res.loss
        if best is None or res.loss >= best.loss:
            best = res
        if k > minimum_k:
            med = np.delete(med, _cheapest_removal(near, dist, w, k))
            near, dist = assign_three(D, med)
    assert best is not None
    return DynkResult(loss=best.loss, medoids=best.medoids, labels=best.labels, n_iter=n_iter, n_swap=n_swap,
                      bestk=int(best.medoids.shape[0]), losses=losses, rangek=range(minimum_k, k_max + 1))
