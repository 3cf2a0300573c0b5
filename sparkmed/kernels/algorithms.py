"""The algorithm registry: every k-medoids algorithm on a dissimilarity matrix, by name.

Each entry runs its algorithm from given initial medoids with one uniform call
(:meth:`Algorithm.fit`), so the per-sample fit (:func:`sparkmed.kernels.fit.cluster_points`) and every
list of algorithm names (parameter validation, help texts) come from this one table.  Adding a per-sample
algorithm = its module + one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sparkmed.kernels.alternating import alternating
from sparkmed.kernels.clarans import clarans
from sparkmed.kernels.driver import DEFAULT_MAX_ITER
from sparkmed.kernels.fasterpam import fasterpam
from sparkmed.kernels.pam import fastpam1, pam
from sparkmed.kernels.result import KMedoidsResult


@dataclass(frozen=True)
class Algorithm:
    """A matrix algorithm of the registry.

    Attributes:
        name: the ``algorithm=`` value.
        function: the public function ``(diss, medoids, ...) -> KMedoidsResult``.
        summary: a few words for help texts (:func:`describe_algorithms`).
        complexity: its cost for n points and k medoids.
        iterative: whether the function takes ``max_iter`` as its third argument (CLARANS stops on
            consecutive failed tries instead).
    """

    name: str
    function: Callable[..., KMedoidsResult]
    summary: str
    complexity: str
    iterative: bool = True

    def fit(
        self,
        diss: np.ndarray,
        medoids: np.ndarray,
        *,
        max_iter: int = DEFAULT_MAX_ITER,
        random_state: object = None,
        weights: np.ndarray | None = None,
    ) -> KMedoidsResult:
        """Run the algorithm from the initial ``medoids`` (indices); ``max_iter`` is ignored by a
        non-iterative algorithm, ``random_state`` by one that does not draw."""
        if self.iterative:
            return self.function(diss, medoids, max_iter, random_state=random_state, weights=weights)
        return self.function(diss, medoids, random_state=random_state, weights=weights)


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm("fasterpam", fasterpam, "eager FasterPAM swaps, the default", "O(n^2) per pass"),
        Algorithm("fastpam1", fastpam1, "best swap per iteration, O(k) delta trick", "O(n^2) per iteration"),
        Algorithm("pam", pam, "original PAM SWAP, a reference", "O(k (n - k) n) per iteration"),
        Algorithm("alternating", alternating, "k-means-style medoid updates, fast but weaker",
                  "O(n k + sum |C_j|^2) per iteration"),
        Algorithm("clarans", clarans, "FastCLARANS randomized swaps with restarts", "O(n + k) per try",
                  iterative=False),
    )
}
"""All matrix algorithms, by name."""

ALGORITHM_NAMES: tuple[str, ...] = tuple(ALGORITHMS)
"""Names of the matrix algorithms, in registry order."""


def describe_algorithms() -> str:
    """One line for help texts: every algorithm with a short summary."""
    return ", ".join(f"{a.name} ({a.summary})" for a in ALGORITHMS.values())

