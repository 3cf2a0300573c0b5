"""FastCLARANS (Schubert & Rousseeuw 2021) on a dissimilarity matrix.

CLARANS (Ng & Han 2002) explores random neighbours (single swaps) of the current medoid set and moves to the
first improving one, until ``maxneighbor`` consecutive neighbours fail; it restarts ``numlocal`` times and
keeps the best local optimum. FastCLARANS draws only a random non-medoid candidate c and evaluates its
swap with ALL k medoids in one O(n) scan (the FasterPAM delta with removal losses), so one try covers k
neighbours; the best of the k swaps is applied if it improves the loss. Default ``maxneighbor`` is the
rate 0.025 of the n - k non-medoids.

A swap whose recomputed loss is not strictly lower than before (float noise: an exchange of equivalent
medoids computed as a tiny negative change) is kept but counted as a failure, so every run terminates.

Complexity: O(n*k) per restart for the initial assignment, O(n + k) per try, O(n) (+ O(k) per re-scanned
point) per swap.
"""

from __future__ import annotations

import math
import numbers

import numba
import numpy as np

from sparkmed.kernels.checks import check_medoids_arg
from sparkmed.kernels.driver import check_problem, run_generator
from sparkmed.kernels.init import resolve_medoids
from sparkmed.kernels.prng import kernel_seed, random_below
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
def _clarans_local(diss, med, w, maxfail, seed, nearest, second, dn, ds, mdT):
    """One FastCLARANS local search from ``med`` (updated in place). Returns (tries, swaps)."""
    n = diss.shape[0]
    k = med.shape[0]
    if k >= n:
        return 0, 0
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed
    ismed = np.zeros(n, dtype=np.bool_)
    for j in range(k):
        ismed[med[j]] = True
    R = removal_loss(nearest, dn, ds, w, k)
    delta = np.empty(k, dtype=np.float64)
    mask, words = scan_workspace(n)
    loss = weighted_loss(dn, w)
    fails = 0
    tries = 0
    swaps = 0
    while fails < maxfail:
        c = random_below(state, n)
        while ismed[c]:
            c = random_below(state, n)
        tries += 1
        i, change = candidate_delta(diss[c], nearest, dn, ds, w, R, delta, mask, words)
        if change < 0.0:
            ismed[med[i]] = False
            ismed[c] = True
            apply_swap(diss, med, nearest, second, dn, ds, mdT, w, R, i, c)
            swaps += 1
            new_loss = weighted_loss(dn, w)
            if new_loss < loss:
                fails = 0
            else:
                fails += 1
            loss = new_loss
        else:
            fails += 1
    return tries, swaps


def _check_numlocal(numlocal) -> int:
    if not isinstance(numlocal, numbers.Integral) or isinstance(numlocal, bool) or numlocal < 1:
        raise ValueError(f"numlocal must be an int >= 1, got {numlocal!r}")
    return int(numlocal)


def _maxfail(maxneighbor, n: int, k: int) -> int:
    """Consecutive failed tries allowed: an int >= 1 is an absolute count, a float a rate of n - k."""
    if isinstance(maxneighbor, bool):
        raise ValueError(f"maxneighbor must be a positive rate (float) or count (int), got {maxneighbor!r}")
    if isinstance(maxneighbor, numbers.Integral):
        if maxneighbor < 1:
            raise ValueError(f"maxneighbor as an int is a count and must be >= 1, got {maxneighbor}")
        return int(maxneighbor)
    if isinstance(maxneighbor, numbers.Real) and math.isfinite(maxneighbor) and maxneighbor > 0:
        return max(1, math.ceil(float(maxneighbor) * (n - k)))
    raise ValueError(f"maxneighbor must be a positive rate (float) or count (int), got {maxneighbor!r}")


def clarans(
    diss: object,
    medoids: object,
    numlocal: int = 2,
    maxneighbor: float | int = 0.025,
    random_state: object = None,
    *,
    init: str = "random",
    weights: object = None,
) -> KMedoidsResult:
    """FastCLARANS k-medoids clustering.

    Args:
        diss: (n, n) symmetric, finite, non-negative dissimilarities (float32 or float64).
        medoids: k (each restart then draws its own initial medoids with ``init``) or an array of k
            initial medoids (every restart starts from them; restarts differ by their random candidates).
        numlocal: number of restarts (local searches); the best result is returned (the first on ties).
        maxneighbor: a local search stops after this many consecutive tries without improvement: a float
            is a rate of the n - k non-medoids (``ceil(rate * (n - k))``, at least 1), an int >= 1 an
            absolute count.
        random_state: None, int seed, ``numpy.random.Generator`` or ``RandomState`` (seed it for
            reproducible results).
        init: initialisation method when ``medoids`` is an int (see ``sparkmed.kernels.init``).
        weights: None or non-negative float64 (n,): a point of weight w counts as w copies.

    Returns:
        ``KMedoidsResult`` of the best restart; n_iter = candidates tried and n_swap = swaps, both summed
        over all restarts.

    Complexity: O(n*k) per restart plus O(n + k) per try and O(n) per swap.
    """
    diss, w = check_problem(diss, weights)
    n = diss.shape[0]
    numlocal = _check_numlocal(numlocal)
    k, _ = check_medoids_arg(medoids, n)
    maxfail = _maxfail(maxneighbor, n, k)
    rng = run_generator(random_state, medoids, always=True)
    best = None
    tot_tries = 0
    tot_swaps = 0
    for _r in range(numlocal):
        med = resolve_medoids(diss, medoids, init, rng, w)
        seed = kernel_seed(rng)
        nearest, second, dn, ds, mdT = assign_state(diss, med)
        tries, swaps = _clarans_local(diss, med, w, maxfail, seed, nearest, second, dn, ds, mdT)
        tot_tries += tries
        tot_swaps += swaps
        res = state_result(med, nearest, dn, w, 0, 0)
        if best is None or res.loss < best.loss:
            best = res
    return KMedoidsResult(
        loss=best.loss, medoids=best.medoids, labels=best.labels, n_iter=int(tot_tries), n_swap=int(tot_swaps)
    )
