"""How a warm-started refit moved the clusters (``KMedoids.setInitialModel``, ``sparkmed fit --init-model``).

Everything is computed on the new data, from what the fit already has:

- ``previous_cost``: the previous medoids' cost on the new data (they are a scored candidate of round 1, so
  this costs no pass) next to the refit's ``cost`` (never larger: the previous set can always win);
- the transition table ``T[i, j]`` = weight of the rows whose nearest previous medoid is ``i`` and nearest new
  medoid is ``j``, summed in the final statistics pass (``passes.cluster_stats_pass(previous=...)``);
- per new cluster ``j``: its previous cluster ``i = argmax_i T[i, j]`` (matched by assignments, ties to the
  lower index; a split matches both parts to the same previous cluster), the medoid shift
  ``d(previous medoid i, medoid j)`` under the fit's metric, its size, the previous cluster's size in the
  previous model's own training data (its summary or saved metadata; None if unknown) and the change from it,
  the previous medoid's cluster size on the new rows (``Σ_j T[i, j]``), and the share of its weight that
  came from ``i``;
- ``reassigned_share`` = ``1 - Σ_j T[i(j), j] / Σ T``: the share of rows (by weight) whose new cluster is
  not the one matched to their previous cluster.

Driver work: O(k²·d) for the medoid shifts. Sizes and shares are weights (row counts without a weight column).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class ClusterDrift:
    """One new cluster against the previous cluster it was matched to."""

    cluster: int
    previous_cluster: int
    medoid_shift: float
    size: float
    previous_size: float | None  # in the previous model's training data
    size_change: float | None
    previous_size_on_new_data: float
    kept_share: float  # share of this cluster's weight whose previous cluster is previous_cluster


@dataclass(frozen=True)
class Drift:
    """The ``drift`` section of metrics.json and of the report."""

    previous_cost: float
    cost: float
    cost_change: float
    reassigned_share: float
    clusters: list[ClusterDrift]

    def to_dict(self) -> dict:
        return asdict(self)


def drift_of(previous: np.ndarray, medoids: np.ndarray, transitions: np.ndarray, previous_cost: float,
             cost: float, metric, p: float, previous_sizes: np.ndarray | None = None) -> Drift:
    """The drift of ``medoids`` from ``previous`` (both k × d, the fit's encoding) given the transition table
    and, when known, the previous model's training cluster sizes."""
    from sparkmed.kernels import cross

    t = np.asarray(transitions, dtype=np.float64)
    shift = cross(np.asarray(previous, dtype=np.float64), np.asarray(medoids, dtype=np.float64), metric, p=p)
    sizes, on_new = t.sum(axis=0), t.sum(axis=1)
    match = np.where(sizes > 0, np.argmax(t, axis=0), np.argmin(shift, axis=0))  # an empty cluster: nearest
    clusters = [
        ClusterDrift(
            cluster=j, previous_cluster=int(i), medoid_shift=float(shift[i, j]), size=float(sizes[j]),
            previous_size=None if previous_sizes is None else float(previous_sizes[i]),
            size_change=None if previous_sizes is None else float(sizes[j] - previous_sizes[i]),
            previous_size_on_new_data=float(on_new[i]), kept_share=float(t[i, j] / sizes[j]) if sizes[j] > 0 else 0.0,
        )
        for j, i in enumerate(match)
    ]
    total = float(t.sum())
    kept = float(sum(t[i, j] for j, i in enumerate(match)))
    return Drift(previous_cost=float(previous_cost), cost=float(cost), cost_change=float(cost - previous_cost),
                 reassigned_share=1.0 - kept / total if total > 0 else 0.0, clusters=clusters)
