"""What every matrix algorithm does around its numba kernel: the argument prologue and the polishing rule.

Prologue (:func:`prologue`): validate the matrix, the weights (positive total) and ``max_iter``, turn
``random_state`` into a Generator when something will draw from it, and resolve ``medoids`` (an int k:
the ``init`` method of :mod:`sparkmed.kernels.init`; an array: validated explicit medoids).

Polishing (:func:`run_with_polish`).  A swap whose true TD change is exactly 0 (e.g. exchanging the two
points of a two-point cluster) can be computed as a tiny negative number by float64 round-off, in both
directions, so the pair would be swapped back and forth forever.  As in the ``kmedoids`` package
(Schubert & Rousseeuw 2021, "Fast and eager k-medoids clustering: O(k) runtime improvement of the PAM,
CLARA, and CLARANS algorithms"), a swap pass is the last one when the loss recomputed after it is not
strictly lower than before (a *noise stop*).  Such a noise exchange can, rarely, leave the run in an
equivalent state where a genuine improvement was not seen; so after a noise stop the passes continue with
swaps that gain more than ``POLISH_TOL * loss`` (far above the round-off, far below any meaningful gain).
The result is therefore always a local optimum up to that tolerance; polishing passes count only if they
swap.  Used by FasterPAM, FastPAM1 and PAM.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sparkmed.kernels.checks import check_diss, check_max_iter, check_weights
from sparkmed.kernels.init import resolve_medoids
from sparkmed.kernels.prng import as_generator
from sparkmed.kernels.result import KMedoidsResult
from sparkmed.kernels.swap_state import assign_state, best_single_medoid, state_result, weighted_loss

DEFAULT_MAX_ITER = 100
"""Default ``max_iter`` of the iterative algorithms (passes / iterations), as the ``kmedoids`` package."""

POLISH_TOL = 1e-11
"""Relative to the loss: after a float-noise stop, swaps must gain more than this (see the module doc)."""


def check_problem(diss: object, weights: object) -> tuple[np.ndarray, np.ndarray]:
    """The validated matrix (C-contiguous float32/float64) and float64 weights with a positive total."""
    D = check_diss(diss)
    return D, check_weights(weights, D.shape[0], positive_total=True)


def run_generator(random_state: object, medoids: object, *, always: bool = False) -> np.random.Generator | None:
    """The run's Generator: made when ``medoids`` is an int k (the initialisation draws) or ``always``;
    None otherwise (``random_state`` is then not even validated, as it is unused)."""
    if always or isinstance(medoids, numbers.Integral):
        return as_generator(random_state)
    return None


@dataclass(frozen=True)
class Start:
    """A validated problem and its initial medoids (output of :func:`prologue`)."""

    diss: np.ndarray
    w: np.ndarray
    max_iter: int
    med: np.ndarray
    rng: np.random.Generator | None


def prologue(
    diss: object,
    medoids: object,
    init: str,
    random_state: object,
    weights: object,
    max_iter: object,
    *,
    rng_always: bool = False,
) -> Start:
    """Validate the arguments shared by the matrix algorithms and choose the initial medoids.

    Order of the checks (the first failing one raises ValueError): matrix, weights, ``max_iter``,
    ``random_state`` (when used), ``medoids`` / ``init``.
    """
    D, w = check_problem(diss, weights)
    mi = check_max_iter(max_iter)
    rng = run_generator(random_state, medoids, always=rng_always)
    med = resolve_medoids(D, medoids, init, rng, w)
    return Start(D, w, mi, med, rng)


def run_with_polish(
    passes: Callable[[int, float], tuple[int, int, bool]], max_iter: int, dn: np.ndarray, w: np.ndarray
) -> tuple[int, int]:
    """Run swap passes with exact ``< 0`` acceptance; after a float-noise stop, polish (module doc).

    ``passes(max_iter, tol)`` runs the algorithm's passes on its state (updated in place, ``dn`` included)
    and returns ``(n_iter, n_swap, noise_stop)``.  Returns the counted ``(n_iter, n_swap)``.
    """
    n_iter, n_swap, noise_stop = passes(max_iter, 0.0)
    loss = weighted_loss(dn, w)
    if noise_stop and n_iter < max_iter and loss > 0.0:
        it2, sw2, _ = passes(max_iter - n_iter, POLISH_TOL * loss)
        if sw2 > 0:
            n_iter += it2
            n_swap += sw2
    return n_iter, n_swap


def single_medoid(diss: np.ndarray, med: np.ndarray, w: np.ndarray) -> KMedoidsResult:
    """k = 1 solved exactly by one O(n^2) scan: the first point of minimal weighted distance sum (the
    initial medoid is kept when already optimal); one iteration, 0 or 1 swap."""
    n_swap = best_single_medoid(diss, med, w)
    nearest, _, dn, _, _ = assign_state(diss, med)
    return state_result(med, nearest, dn, w, 1, n_swap)
