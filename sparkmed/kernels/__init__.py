"""Single-machine k-medoids kernels: numba, numpy in / numpy out, never Spark.

- ``distances``: the registry of named metrics (``METRICS``, ``metric_code``) and the parallel dense
  (``pairwise``) and rectangular (``cross``) dissimilarity builders.
- ``encoded``: metrics on encoded rows (ELL sparse vectors, padded sets, Gower rows of mixed tables) and
  their numpy encoders ``encode_sparse`` / ``encode_sets`` / ``encode_gower``.
- ``fasterpam`` / ``fastpam1`` / ``pam`` / ``alternating`` / ``clarans``: algorithms on a dissimilarity
  matrix, all returning ``KMedoidsResult``; ``initialize``: random, first, build, lab, kmedoids++.
- ``assign``: nearest / second-nearest medoid, cost and candidate scoring on raw points (the hot loops of
  the distributed passes); ``swap_delta``: the additive full-data swap deltas of the refinement.
- ``silhouette``: medoid silhouette (O(n·k)) and the classic silhouette on a matrix.
- ``fit.cluster_points``: one sample's fit (matrix + init + algorithm), what an executor runs.
"""

from sparkmed.kernels.alternating import alternating
from sparkmed.kernels.assign import cluster_stats, nearest_two, score_candidates, total_cost
from sparkmed.kernels.clarans import clarans
from sparkmed.kernels.distances import METRIC_NAMES, METRICS, cross, metric_code, pairwise
from sparkmed.kernels.encoded import MISSING, encode_gower, encode_sets, encode_sparse
from sparkmed.kernels.fasterpam import fasterpam
from sparkmed.kernels.fit import cluster_points
from sparkmed.kernels.init import initialize
from sparkmed.kernels.pam import fastpam1, pam
from sparkmed.kernels.result import KMedoidsResult
from sparkmed.kernels.silhouette import (
    medoid_silhouette,
    medoid_silhouette_samples,
    silhouette,
    silhouette_samples,
    simplified_silhouette_samples,
)
from sparkmed.kernels.swap_delta import swap_deltas

__all__ = [
    "METRICS",
    "METRIC_NAMES",
    "MISSING",
    "KMedoidsResult",
    "alternating",
    "clarans",
    "cluster_points",
    "cluster_stats",
    "cross",
    "encode_gower",
    "encode_sets",
    "encode_sparse",
    "fasterpam",
    "fastpam1",
    "initialize",
    "medoid_silhouette",
    "medoid_silhouette_samples",
    "metric_code",
    "nearest_two",
    "pairwise",
    "pam",
    "score_candidates",
    "silhouette",
    "silhouette_samples",
    "simplified_silhouette_samples",
    "swap_deltas",
    "total_cost",
]
