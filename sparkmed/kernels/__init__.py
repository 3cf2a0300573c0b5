"""Single-machine k-medoids kernels: numba, numpy in / numpy out, never Spark.

Code outside this package imports kernel names from here (and ``sparkmed.kernels.custom``) only.

Registries (every list of names is derived from one of them):

- ``metrics``: the metric registry (``METRICS``: code, layout, public name, scale degree, prunable...),
  ``PUBLIC_METRICS``, ``kernel_metric_for``, ``public_metrics_for`` and the parameter checks.
- ``algorithms``: the matrix algorithms (``ALGORITHMS``, ``ALGORITHM_NAMES``); ``init``: the
  initialisations (``INITS``, ``INIT_NAMES``).

Metrics and distances:

- ``dense``: scalar metrics on dense vectors; ``encoded``: metrics on encoded rows (ELL sparse vectors,
  padded sets, Gower rows); ``encoders``: their numpy encoders; ``layout``: re-padding encoded rows.
- ``dispatch``: metric code -> scalar metric (``distance``); ``block_engine``: a block of points against
  a tile of targets, vectorised; ``matrix``: ``pairwise`` / ``cross`` dissimilarity matrices.
- ``custom``: user numba metrics, through kernels that take the function as an argument.

Distributed-pass kernels (points, not matrices):

- ``assign``: nearest / second-nearest medoid, cost and candidate scoring; ``swap_delta``: the additive
  full-data swap deltas of the refinement, with the exact triangle-inequality pruning in ``swap_pruned``.
- ``silhouette``: medoid silhouette (O(n·k)), simplified and classic silhouettes.

Matrix algorithms (all return ``KMedoidsResult``):

- ``fasterpam`` / ``pam`` (``pam``, ``fastpam1``) / ``alternating`` / ``clarans``, sharing
  ``swap_state`` (nearest / second caches, removal losses, the one-scan delta), ``driver`` (argument
  prologue, float-noise polishing, ``DEFAULT_MAX_ITER``), ``checks`` (argument checks) and ``prng``.
- medoid-silhouette clustering (``loss`` = the average medoid silhouette, higher is better): ``fastermsc``
  (eager, the fast one), ``fastmsc`` (best swap per iteration), ``pammedsil`` / ``pamsil`` (naive
  references; PAMSIL optimises the classic silhouette) and ``dynmsc`` (FasterMSC over a range of k, chooses
  k; ``DynkResult``), sharing ``msc_state`` (nearest / second / third caches, removal losses, one-scan
  changes).
- ``fit``: one sample's fit (``cluster_points``: matrix + init + algorithm), what an executor runs.
"""

from sparkmed.kernels.algorithms import ALGORITHM_NAMES, ALGORITHMS, Algorithm, describe_algorithms
from sparkmed.kernels.alternating import alternating
from sparkmed.kernels.assign import (
    cluster_stats,
    cluster_sums,
    nearest_two,
    score_candidates,
    total_cost,
    transition_sums,
)
from sparkmed.kernels.clarans import clarans
from sparkmed.kernels.driver import DEFAULT_MAX_ITER
from sparkmed.kernels.dynmsc import dynmsc
from sparkmed.kernels.encoded import MISSING, SCALED_LIMIT
from sparkmed.kernels.encoders import encode_gower, encode_sets, encode_sparse
from sparkmed.kernels.fastermsc import fastermsc
from sparkmed.kernels.fasterpam import fasterpam
from sparkmed.kernels.fastmsc import fastmsc
from sparkmed.kernels.fit import SCALE_DEGREE, cluster_points, merge_duplicates, sample_matrix
from sparkmed.kernels.init import INIT_NAMES, INITS, Init, describe_inits, initialize
from sparkmed.kernels.layout import pad_unpadded, repad, unpadded_count
from sparkmed.kernels.matrix import cross, pairwise
from sparkmed.kernels.metrics import (
    LAYOUTS,
    METRIC_NAMES,
    METRICS,
    PRUNABLE_METRICS,
    PUBLIC_METRICS,
    Metric,
    check_dimension,
    check_metric_params,
    describe_metrics,
    kernel_metric_for,
    metric_code,
    overflow_problem,
    public_metrics_for,
)
from sparkmed.kernels.pam import fastpam1, pam
from sparkmed.kernels.pammedsil import pammedsil
from sparkmed.kernels.pamsil import pamsil
from sparkmed.kernels.result import DynkResult, KMedoidsResult
from sparkmed.kernels.silhouette import (
    medoid_silhouette,
    medoid_silhouette_samples,
    silhouette,
    silhouette_samples,
    simplified_silhouette_samples,
)
from sparkmed.kernels.swap_delta import swap_deltas

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_NAMES",
    "DEFAULT_MAX_ITER",
    "INITS",
    "INIT_NAMES",
    "LAYOUTS",
    "METRICS",
    "METRIC_NAMES",
    "MISSING",
    "PRUNABLE_METRICS",
    "PUBLIC_METRICS",
    "SCALED_LIMIT",
    "SCALE_DEGREE",
    "Algorithm",
    "DynkResult",
    "Init",
    "KMedoidsResult",
    "Metric",
    "alternating",
    "check_dimension",
    "check_metric_params",
    "clarans",
    "cluster_points",
    "cluster_stats",
    "cluster_sums",
    "cross",
    "describe_algorithms",
    "describe_inits",
    "describe_metrics",
    "dynmsc",
    "encode_gower",
    "encode_sets",
    "encode_sparse",
    "fastermsc",
    "fasterpam",
    "fastmsc",
    "fastpam1",
    "initialize",
    "kernel_metric_for",
    "medoid_silhouette",
    "medoid_silhouette_samples",
    "merge_duplicates",
    "metric_code",
    "nearest_two",
    "overflow_problem",
    "pad_unpadded",
    "pairwise",
    "pam",
    "pammedsil",
    "pamsil",
    "public_metrics_for",
    "repad",
    "sample_matrix",
    "score_candidates",
    "silhouette",
    "silhouette_samples",
    "simplified_silhouette_samples",
    "swap_deltas",
    "total_cost",
    "transition_sums",
    "unpadded_count",
]
