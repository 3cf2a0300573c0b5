"""PAMSIL (Van der Laan, Pollard & Bryan 2003): swap medoids to maximise the classic silhouette.

Each iteration evaluates every (non-medoid candidate, medoid) pair by the classic (Rousseeuw) silhouette
of the nearest-medoid assignment with that swap made (O(n^2) per pair,
:func:`sparkmed.kernels.silhouette.silhouette`'s definition, with weights), and applies the pair with the
highest silhouette (ties: the first medoid position, then the first candidate index) if it is strictly
above the current one.

Complexity: O(k (n - k) n^2) per iteration: only for small n (a reference; the medoid silhouette of
FasterMSC is the scalable objective).
"""

from __future__ import annotations

import numba
import numpy as np

from sparkmed.kernels.driver import DEFAULT_MAX_ITER
from sparkmed.kernels.msc_state import assign_three, msc_prologue
from sparkmed.kernels.result import KMedoidsResult
from sparkmed.kernels.silhouette import silhouette_sum


@numba.njit(cache=True, nogil=True)
def _labels_after(diss, med, i, c, lab):
    """Nearest-medoid positions (first wins ties) with position i replaced by point c, into ``lab``."""
    k = med.shape[0]
    for o in range(diss.shape[0]):
        best = np.inf
        for j in range(k):
            m = c if j == i else med[j]
            d = np.float64(diss[m, o])
            if d < best:
                best = d
                lab[o] = j


@numba.njit(cache=True, nogil=True)
def _pamsil_swap(diss, med, w, max_iter):
    """Best (candidate, medoid) pair per iteration by the classic silhouette; returns (n_iter, n_swap)."""
    n = diss.shape[0]
    k = med.shape[0]
    ismed = np.zeros(n, dtype=np.bool_)
    for j in range(k):
        ismed[med[j]] = True
    lab = np.empty(n, dtype=np.int64)
    _labels_after(diss, med, 0, med[0], lab)
    score = silhouette_sum(diss, lab, k, w)
    n_iter = 0
    n_swap = 0
    while n_iter < max_iter:
        n_iter += 1
        best = score
        bi = -1
        bc = -1
        for i in range(k):
            for c in range(n):
                if ismed[c]:
                    continue
                _labels_after(diss, med, i, c, lab)
                s = silhouette_sum(diss, lab, k, w)
                if s > best:
                    best = s
                    bi = i
                    bc = c
        if bi < 0:
            break
        ismed[med[bi]] = False
        ismed[bc] = True
        med[bi] = bc
        score = best
        n_swap += 1
    return n_iter, n_swap


def pamsil(
    diss: object,
    medoids: object,
    max_iter: int = DEFAULT_MAX_ITER,
    init: str = "build",
    random_state: object = None,
    *,
    weights: object = None,
) -> KMedoidsResult:
    """PAMSIL: the best classic-silhouette swap per iteration.

    Args as :func:`sparkmed.kernels.fasterpam`; ``init`` defaults to ``"build"`` as in ``kmedoids``.

    Returns:
        ``KMedoidsResult`` with ``loss`` = the (weighted) mean classic silhouette of the nearest-medoid
        assignment (higher is better, as ``kmedoids.pamsil``).

    Complexity: O(k (n - k) n^2) per iteration.
    """
    start = msc_prologue(diss, medoids, init, random_state, weights, max_iter)
    D, med, w = start.diss, start.med, start.w
    n_iter, n_swap = _pamsil_swap(D, med, w, start.max_iter)
    near, _ = assign_three(D, med)
    labels = np.ascontiguousarray(near[:, 0]).copy()
    labels[med] = np.arange(med.shape[0], dtype=np.int64)
    score = silhouette_sum(D, labels, med.shape[0], w) / float(np.sum(w))
    return KMedoidsResult(loss=float(score), medoids=med.copy(), labels=labels, n_iter=int(n_iter),
                          n_swap=int(n_swap))
