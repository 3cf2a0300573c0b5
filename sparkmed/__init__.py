"""sparkmed: k-medoids clustering (FasterPAM, FasterCLARA, FastCLARANS) of big data on Apache Spark.

``sparkmed.kernels`` holds the single-machine numba kernels (no Spark); ``KMedoids`` / ``KMedoidsModel``
are the pyspark.ml Estimator and Model. The Spark side is imported lazily, so ``import sparkmed.kernels``
never loads pyspark.
"""

from __future__ import annotations

from sparkmed import numba_target

# Before anything imports numba: compile for a portable CPU level so the cache shipped in the wheel loads on
# every machine of that level (sparkmed.numba_target says why and how to opt out).
numba_target.apply()

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "KMedoids",
    "KMedoidsModel",
    "KMedoidsSummary",
    "MedoidSilhouetteEvaluator",
    "SelectKResult",
    "__version__",
    "register_metric",
    "select_k",
]

_LAZY = {
    "InputError": "sparkmed.errors",
    "KMedoids": "sparkmed.ml.estimator",
    "KMedoidsModel": "sparkmed.ml.estimator",
    "KMedoidsSummary": "sparkmed.ml.estimator",
    "MedoidSilhouetteEvaluator": "sparkmed.ml.evaluation",
    "SelectKResult": "sparkmed.ml.select_k",
    "select_k": "sparkmed.ml.select_k",
    "register_metric": "sparkmed.kernels.custom",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sparkmed' has no attribute {name!r}")
