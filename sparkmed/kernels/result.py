"""The one result type returned by every single-machine k-medoids algorithm."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KMedoidsResult:
    """Outcome of a k-medoids run on a dissimilarity matrix.

    Attributes:
        loss: total deviation TD = sum_o w(o) * d(o, nearest medoid) (a sum, not a mean).
        medoids: indices (int64) of the k medoids into the matrix rows.
        labels: int64 cluster label 0..k-1 of every point (position in ``medoids``).
        n_iter: number of iterations (full candidate cycles / swap rounds) performed.
        n_swap: number of swaps performed.
    """

    loss: float
    medoids: np.ndarray
    labels: np.ndarray
    n_iter: int
    n_swap: int


@dataclass(frozen=True)
class DynkResult(KMedoidsResult):
    """Outcome of a run that also chooses k (DynMSC): the fields of the best k's clustering, plus

    Attributes:
        bestk: the chosen number of clusters (``len(medoids)``).
        losses: the objective (average medoid silhouette) reached for every k of ``rangek``.
        rangek: the k values tried, ascending (``minimum_k .. k_max``).
    """

    bestk: int = 0
    losses: np.ndarray = None  # type: ignore[assignment]
    rangek: range = range(0)
