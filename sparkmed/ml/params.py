"""The Params of ``KMedoids`` and ``KMedoidsModel``: names, defaults, documentation and getters.

Parameter names follow Spark's ``KMeans`` where they overlap (k, maxIter, seed, featuresCol, predictionCol,
weightCol). The lists of metric, algorithm and initialisation names in the Param docs come from the kernel
registries (``sparkmed.kernels``), so they cannot drift from what the fit accepts.
"""

from __future__ import annotations

from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (
    HasFeaturesCol,
    HasInputCols,
    HasMaxIter,
    HasPredictionCol,
    HasSeed,
    HasWeightCol,
)

from sparkmed.data.encoding import VECTOR_FORMATS
from sparkmed.errors import InputError
from sparkmed.fit.params import check_params
from sparkmed.kernels import (
    DEFAULT_MAX_ITER,
    PUBLIC_METRICS,
    describe_algorithms,
    describe_inits,
    public_metrics_for,
)
from sparkmed.kernels.custom import CUSTOM_PREFIX


class KMedoidsParams(HasFeaturesCol, HasInputCols, HasPredictionCol, HasMaxIter, HasSeed, HasWeightCol):
    """Params shared by KMedoids and KMedoidsModel."""

    k = Param(Params._dummy(), "k", "number of clusters (medoids), ≥ 2", TypeConverters.toInt)
    metric = Param(
        Params._dummy(), "metric",
        f"dissimilarity: {', '.join(PUBLIC_METRICS)}; {' and '.join(public_metrics_for('set'))} on array columns "
        f"are set metrics, {' and '.join(public_metrics_for('gower'))} takes mixed inputCols; or a numba.njit "
        f"function (a, b) -> float (stored as {CUSTOM_PREFIX}<module>.<name>). Formulas: sparkmed.kernels.METRICS",
        TypeConverters.toString,
    )
    p = Param(Params._dummy(), "p", "exponent of the minkowski metric (≥ 1)", TypeConverters.toFloat)
    algorithm = Param(Params._dummy(), "algorithm", f"per-sample algorithm: {describe_algorithms()}",
                      TypeConverters.toString)
    init = Param(Params._dummy(), "init", f"initialisation of each sample's fit: {describe_inits()}",
                 TypeConverters.toString)
    maxIter = Param(
        Params._dummy(), "maxIter",
        f"CLARA rounds of samples (≥ 1); each sample's own fit runs up to {DEFAULT_MAX_ITER} swap iterations",
        TypeConverters.toInt,
    )
    numSamples = Param(Params._dummy(), "numSamples", "samples clustered per round", TypeConverters.toInt)
    sampleSize = Param(
        Params._dummy(), "sampleSize", "points per sample (0 = default min(10000, max(4000, 40k)))",
        TypeConverters.toInt,
    )
    refine = Param(
        Params._dummy(), "refine",
        "full-data refinement: swaps (distributed FastCLARANS, exact deltas) | medoids (per-cluster update) "
        "| none", TypeConverters.toString,
    )
    refinePasses = Param(Params._dummy(), "refinePasses", "maximum refinement passes over the full data",
                         TypeConverters.toInt)
    refineCandidates = Param(
        Params._dummy(), "refineCandidates", "candidate points per refinement pass (0 = default max(256, 10k))",
        TypeConverters.toInt,
    )
    maxSampleMemoryMB = Param(
        Params._dummy(), "maxSampleMemoryMB", "largest per-sample dissimilarity matrix allowed (MB)",
        TypeConverters.toFloat,
    )
    idCol = Param(Params._dummy(), "idCol", "optional unique row id column (row key, reported for medoids)",
                  TypeConverters.toString)
    distanceCol = Param(Params._dummy(), "distanceCol",
                        "optional output column: distance to the assigned medoid", TypeConverters.toString)
    vectorFormat = Param(
        Params._dummy(), "vectorFormat",
        f"Vector features: {' | '.join(VECTOR_FORMATS)} (auto: sparse encoding when the non-zeros are few and "
        f"the metric is {', '.join(public_metrics_for('ell'))})", TypeConverters.toString,
    )
    columnTypes = Param(
        Params._dummy(), "columnTypes",
        "gower: per inputCol type numeric | ordinal | nominal | symm | asymm (default from the column type: "
        "numeric, string -> nominal, boolean -> asymm)", TypeConverters.toListString,
    )
    columnWeights = Param(Params._dummy(), "columnWeights", "gower: per inputCol positive weights (default 1)",
                          TypeConverters.toListFloat)

    def __init__(self, *args):
        super().__init__(*args)
        self._setDefault(
            k=2, metric="euclidean", p=2.0, algorithm="fasterpam", init="lab", maxIter=3, numSamples=5,
            sampleSize=0, refine="swaps", refinePasses=10, refineCandidates=0, maxSampleMemoryMB=1024.0,
            seed=0, featuresCol="features", predictionCol="prediction", vectorFormat="auto",
        )

    def getK(self) -> int:
        return self.getOrDefault(self.k)

    def getMetric(self) -> str:
        return self.getOrDefault(self.metric)

    def getP(self) -> float:
        return self.getOrDefault(self.p)

    def getAlgorithm(self) -> str:
        return self.getOrDefault(self.algorithm)

    def getInit(self) -> str:
        return self.getOrDefault(self.init)

    def getNumSamples(self) -> int:
        return self.getOrDefault(self.numSamples)

    def getSampleSize(self) -> int:
        return self.getOrDefault(self.sampleSize)

    def getRefine(self) -> str:
        return self.getOrDefault(self.refine)

    def getRefinePasses(self) -> int:
        return self.getOrDefault(self.refinePasses)

    def getRefineCandidates(self) -> int:
        return self.getOrDefault(self.refineCandidates)

    def getMaxSampleMemoryMB(self) -> float:
        return self.getOrDefault(self.maxSampleMemoryMB)

    def getIdCol(self) -> str | None:
        return self.getOrDefault(self.idCol) if self.isDefined(self.idCol) else None

    def getDistanceCol(self) -> str | None:
        return self.getOrDefault(self.distanceCol) if self.isDefined(self.distanceCol) else None

    def getVectorFormat(self) -> str:
        return self.getOrDefault(self.vectorFormat)

    def getColumnTypes(self) -> list[str] | None:
        return self.getOrDefault(self.columnTypes) if self.isDefined(self.columnTypes) else None

    def getColumnWeights(self) -> list[float] | None:
        return self.getOrDefault(self.columnWeights) if self.isDefined(self.columnWeights) else None

    def getMetricFunction(self):
        """The user's ``numba.njit`` function given as ``metric`` (the Param then holds its
        ``custom:<module.qualname>`` name), or None for a registry metric."""
        return getattr(self, "_custom_metric", None)

    def _check_loaded(self, where: str, meta: dict, custom_metrics: dict) -> None:
        """Restored Params go through the fit's own checks; a custom metric must be provided, never imported."""
        from sparkmed.ml import model_fields
        from sparkmed.ml.plan import fit_params

        metric = model_fields.metric_name(where, "paramMap.metric", self.getMetric())
        fn = model_fields.metric_function(where, metric, custom_metrics)
        if fn is not None:
            self._custom_metric = fn
        try:
            check_params(fit_params(self))
        except InputError as exc:
            raise InputError(f"{where}: its parameters do not pass the fit's checks: {exc}") from None

    def _kernel_metric(self):
        """The registry metric the kernels use (e.g. ``set_jaccard`` for metric ``jaccard`` on sets), or the
        user's function for a custom metric."""
        if getattr(self, "_custom_metric", None) is not None:
            return self._custom_metric
        enc = getattr(self, "_encoding", None)
        return enc.kernel_metric if enc is not None and enc.kind != "dense" else self.getMetric()
