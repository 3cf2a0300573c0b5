"""The fit's parameters in the kernels' terms (``FitParams``), their defaults and their checks.

``sparkmed.ml.plan`` maps the pyspark.ml Params to ``FitParams`` (the one mapping); the job's configuration
check and the estimator both run :func:`check_params` before any Spark work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparkmed.errors import InputError

REFINE_MODES = ("swaps", "medoids", "none")


def default_sample_size(k: int) -> int:
    """Default points per sample: 40·k, at least 4000, at most 10000 (chosen by scripts/bench_quality.py).

    4000 points cost a 64 MB float32 matrix and well under a second of FasterPAM per sample.
    """
    return int(min(10000, max(4000, 40 * k)))


def default_refine_candidates(k: int) -> int:
    """Default candidate points per refinement pass: 10·k, at least 256 (scripts/bench_quality.py).

    A pass costs O(n·(k + C)) distances; structural swaps at large k need many candidates per pass.
    """
    return int(max(256, 10 * k))


@dataclass(frozen=True)
class FitParams:
    """Parameters of the distributed fit (Spark ML names; see ``KMedoids`` for their meaning)."""

    k: int = 2
    metric: str = "euclidean"
    p: float = 2.0
    algorithm: str = "fasterpam"
    init: str = "lab"
    maxIter: int = 3
    numSamples: int = 5
    sampleSize: int | None = None
    refine: str = "swaps"
    refinePasses: int = 10
    refineCandidates: int | None = None
    seed: int = 0
    maxSampleMemoryMB: float = 1024.0

    def sample_size(self) -> int:
        return int(self.sampleSize) if self.sampleSize else default_sample_size(self.k)

    def refine_candidates(self) -> int:
        return int(self.refineCandidates) if self.refineCandidates else default_refine_candidates(self.k)


def check_params(params: FitParams) -> None:
    """Reject bad parameters before any Spark work, naming the parameter."""
    from sparkmed.kernels import ALGORITHM_NAMES, INIT_NAMES, METRICS, PUBLIC_METRICS, check_metric_params

    if isinstance(params.k, bool) or not isinstance(params.k, (int, np.integer)):
        raise InputError(f"k must be an integer ≥ 2, got {params.k!r}")
    if params.k < 2:
        raise InputError(f"k must be ≥ 2, got {params.k}")
    if callable(params.metric):  # a user's numba function: validated on data rows by the Estimator
        pass
    elif isinstance(params.metric, str) and params.metric in METRICS:
        try:
            check_metric_params(params.metric, params.p)
        except ValueError as exc:
            raise InputError(f"metric: {exc}") from None
    elif params.metric not in PUBLIC_METRICS:
        raise InputError(f"metric: unknown metric {params.metric!r}; valid: {', '.join(PUBLIC_METRICS)}, or a "
                         "numba function")
    if params.algorithm not in ALGORITHM_NAMES:
        raise InputError(f"algorithm '{params.algorithm}' is unknown; valid: {', '.join(ALGORITHM_NAMES)}")
    if params.init not in INIT_NAMES:
        raise InputError(f"init '{params.init}' is unknown; valid: {', '.join(INIT_NAMES)}")
    if params.refine not in REFINE_MODES:
        raise InputError(f"refine '{params.refine}' is unknown; valid: {', '.join(REFINE_MODES)}")
    if params.refineCandidates is not None and params.refineCandidates < 0:
        raise InputError(f"refineCandidates must be ≥ 0 (0 = default), got {params.refineCandidates}")
    for name in ("maxIter", "numSamples"):
        if int(getattr(params, name)) < 1:
            raise InputError(f"{name} must be ≥ 1, got {getattr(params, name)}")
    if params.refinePasses < 0:
        raise InputError(f"refinePasses must be ≥ 0, got {params.refinePasses}")
    m = params.sample_size()
    if m < params.k:
        raise InputError(f"sampleSize ({m}) must be at least k ({params.k})")
    need_mb = m * m * 4 / 2**20
    if need_mb > params.maxSampleMemoryMB:
        raise InputError(
            f"sampleSize {m} needs a {need_mb:.0f} MB dissimilarity matrix per sample, more than "
            f"maxSampleMemoryMB={params.maxSampleMemoryMB:g}; lower sampleSize or raise maxSampleMemoryMB"
        )
