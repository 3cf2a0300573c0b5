"""PAM (Kaufman & Rousseeuw 1990: BUILD + SWAP) and FastPAM1 (Schubert & Rousseeuw 2019).

* ``pam``: the original SWAP phase. Every iteration evaluates every (medoid, non-medoid) pair
  separately, each with a scan over all points, and performs the single best swap. O(k*(n-k)*n) per
  iteration; a reference implementation.
* ``fastpam1``: the same best-swap-per-iteration search, but the TD changes of a candidate against all k
  medoids come from ONE scan of its matrix row using the removal losses (the FasterPAM delta trick):
  O(n^2) per iteration. Same result as ``pam`` up to float round-off in ties.

Both stop when no swap has a negative computed TD change, after ``max_iter`` iterations, or when the loss
recomputed after a swap is not strictly lower than before it (float noise: a swap of equivalent medoids
computed as a tiny negative change; this rule reproduces the ``kmedoids`` package exactly). After such a
float-noise stop, polishing iterations continue with swaps that gain more than ``POLISH_TOL`` * loss
(:mod:`sparkmed.kernels.driver`), so the result is always a local optimum (in the tested cases this never
changed a result of the ``kmedoids`` package).
k = 1 is solved exactly by one O(n^2) scan (the first point of minimal weighted distance sum; the initial
medoid is kept if already optimal), counted as one iteration.
"""

from __future__ import annotations

import numba
import numpy as np

from sparkmed.kernels.driver import DEFAULT_MAX_ITER, prologue, run_with_polish, single_medoid
from sparkmed.kernels.result import KMedoidsResult
from sparkmed.kernels.swap_state import (
    apply_swap,
    assign_state,
    candidate_delta,
    removal_loss,
    scan_workspace,
    state_result,
    weighted_loss,
)


@numba.njit(cache=True, nogil=True)
def _swap_best(diss, med, nearest, second, dn, ds, mdT, w, R, ismed, bi, bc, loss):
    """Apply the iteration's best swap (medoid position bi -> point bc), shared by PAM and FastPAM1.

    Returns (new loss, noise): noise is True when the loss did not strictly fall (float noise from an
    exchange of equivalent medoids), which ends the run."""
    ismed[med[bi]] = False
    ismed[bc] = True
    apply_swap(diss, med, nearest, second, dn, ds, mdT, w, R, bi, bc)
    new_loss = weighted_loss(dn, w)
    return new_loss, not new_loss < loss


@numba.njit(cache=True, nogil=True)
def _pam_swap(diss, med, w, max_iter, nearest, second, dn, ds, mdT, tol):
    """Original PAM SWAP: best (medoid, non-medoid) pair per iteration, each pair by its own O(n) scan."""
    n = diss.shape[0]
    k = med.shape[0]
    ismed = np.zeros(n, dtype=np.bool_)
    for j in range(k):
        ismed[med[j]] = True
    R = np.zeros(k, dtype=np.float64)  # maintained by apply_swap, unused by the original SWAP
    n_iter = 0
    n_swap = 0
    loss = weighted_loss(dn, w)
    while n_iter < max_iter:
        n_iter += 1
        best = -tol
        bi = -1
        bc = -1
        for c in range(n):
            if ismed[c]:
                continue
            row = diss[c]
            for i in range(k):
                tot = 0.0
                for o in range(n):
                    d = row[o]
                    if nearest[o] == i:
                        # o loses its medoid: goes to c or to its second nearest
                        if d < ds[o]:
                            tot += w[o] * (np.float64(d) - np.float64(dn[o]))
                        else:
                            tot += w[o] * (np.float64(ds[o]) - np.float64(dn[o]))
                    elif d < dn[o]:
                        tot += w[o] * (np.float64(d) - np.float64(dn[o]))
                if tot < best:
                    best = tot
                    bi = i
                    bc = c
        if bi < 0:
            break
        loss, noise = _swap_best(diss, med, nearest, second, dn, ds, mdT, w, R, ismed, bi, bc, loss)
        n_swap += 1
        if noise:
            return n_iter, n_swap, True
    return n_iter, n_swap, False


@numba.njit(cache=True, nogil=True)
def _fastpam1_swap(diss, med, w, max_iter, nearest, second, dn, ds, mdT, tol):
    """FastPAM1: best swap per iteration, all k medoids of a candidate in one O(n) scan."""
    n = diss.shape[0]
    k = med.shape[0]
    ismed = np.zeros(n, dtype=np.bool_)
    for j in range(k):
        ismed[med[j]] = True
    delta = np.empty(k, dtype=np.float64)
    mask, words = scan_workspace(n)
    n_iter = 0
    n_swap = 0
    R = removal_loss(nearest, dn, ds, w, k)
    loss = weighted_loss(dn, w)
    while n_iter < max_iter:
        n_iter += 1
        best = -tol
        bi = -1
        bc = -1
        for c in range(n):
            if ismed[c]:
                continue
            i, change = candidate_delta(diss[c], nearest, dn, ds, w, R, delta, mask, words)
            if change < best:
                best = change
                bi = i
                bc = c
        if bi < 0:
            break
        loss, noise = _swap_best(diss, med, nearest, second, dn, ds, mdT, w, R, ismed, bi, bc, loss)
        n_swap += 1
        if noise:
            return n_iter, n_swap, True
    return n_iter, n_swap, False


def _swap_run(kernel, start) -> KMedoidsResult:
    """The swap iterations of ``kernel`` from the prologue's medoids, with polishing; k = 1 exactly."""
    diss, w, med = start.diss, start.w, start.med
    if med.shape[0] == 1 and start.max_iter > 0:
        return single_medoid(diss, med, w)
    state = assign_state(diss, med)
    n_iter, n_swap = run_with_polish(
        lambda mi, tol: kernel(diss, med, w, mi, *state, tol), start.max_iter, state[2], w
    )
    return state_result(med, state[0], state[2], w, n_iter, n_swap)


def pam(
    diss: object,
    medoids: object,
    max_iter: int = DEFAULT_MAX_ITER,
    init: str = "build",
    random_state: object = None,
    *,
    weights: object = None,
) -> KMedoidsResult:
    """PAM: BUILD (by default) + the original SWAP (Kaufman & Rousseeuw 1990).

    Args as ``fasterpam``; ``init`` defaults to ``"build"`` (O(k*n^2)). Each SWAP iteration evaluates all
    k*(n-k) (medoid, non-medoid) pairs, each by an O(n) scan, and applies the best one if it lowers the
    loss (ties: the first candidate index, then the first medoid position).

    Complexity: O(k*(n-k)*n) per iteration. A reference implementation; use ``fasterpam``.
    """
    return _swap_run(_pam_swap, prologue(diss, medoids, init, random_state, weights, max_iter))


def fastpam1(
    diss: object,
    medoids: object,
    max_iter: int = DEFAULT_MAX_ITER,
    init: str = "random",
    random_state: object = None,
    *,
    weights: object = None,
) -> KMedoidsResult:
    """FastPAM1: PAM's best-swap-per-iteration search with the O(k) delta trick (Schubert & Rousseeuw 2019).

    Args as ``fasterpam``. Each iteration scans every non-medoid candidate once (its row gives the TD
    change for all k medoids via the removal losses) and applies the overall best swap if it lowers the
    loss (ties: the first candidate index, then the first medoid position).

    Complexity: O(n^2 + n*k) per iteration, plus O(n) per swap.
    """
    return _swap_run(_fastpam1_swap, prologue(diss, medoids, init, random_state, weights, max_iter))
