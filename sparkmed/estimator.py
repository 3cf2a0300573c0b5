"""The pyspark.ml face of sparkmed: ``KMedoids`` (Estimator), ``KMedoidsModel`` (Model) and the summary.

Parameter names follow Spark's ``KMeans`` where they overlap (k, maxIter, seed, featuresCol,
predictionCol, weightCol). The fit itself lives in ``sparkmed.clara``; this module only maps Params to it
and wraps the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (
    HasFeaturesCol,
    HasInputCols,
    HasMaxIter,
    HasPredictionCol,
    HasSeed,
    HasWeightCol,
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.clara import FitParams, FitResult, RoundInfo, fit
from sparkmed.features import FeatureSpec, feature_column
from sparkmed.refine import RefinePass


class _KMedoidsParams(HasFeaturesCol, HasInputCols, HasPredictionCol, HasMaxIter, HasSeed, HasWeightCol):
    """Params shared by KMedoids and KMedoidsModel."""

    k = Param(Params._dummy(), "k", "number of clusters (medoids), ≥ 2", TypeConverters.toInt)
    metric = Param(
        Params._dummy(), "metric",
        "dissimilarity: euclidean, sqeuclidean, manhattan, cosine, chebyshev, minkowski, haversine, jaccard, "
        "hamming", TypeConverters.toString,
    )
    p = Param(Params._dummy(), "p", "exponent of the minkowski metric (≥ 1)", TypeConverters.toFloat)
    algorithm = Param(
        Params._dummy(), "algorithm", "per-sample algorithm: fasterpam | fastpam1 | pam | alternating | clarans",
        TypeConverters.toString,
    )
    init = Param(Params._dummy(), "init", "initialisation: lab | kmedoids++ | random | first | build",
                 TypeConverters.toString)
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

    def __init__(self, *args):
        super().__init__(*args)
        self._setDefault(
            k=2, metric="euclidean", p=2.0, algorithm="fasterpam", init="lab", maxIter=3, numSamples=5,
            sampleSize=0, refine="swaps", refinePasses=10, refineCandidates=0, maxSampleMemoryMB=1024.0,
            seed=0, featuresCol="features", predictionCol="prediction",
        )

    def getK(self) -> int:
        return self.getOrDefault(self.k)

    def getMetric(self) -> str:
        return self.getOrDefault(self.metric)

    def getP(self) -> float:
        return self.getOrDefault(self.p)

    def getIdCol(self) -> str | None:
        return self.getOrDefault(self.idCol) if self.isDefined(self.idCol) else None

    def getDistanceCol(self) -> str | None:
        return self.getOrDefault(self.distanceCol) if self.isDefined(self.distanceCol) else None

    def _feature_spec(self) -> FeatureSpec:
        input_cols = self.getOrDefault(self.inputCols) if self.isDefined(self.inputCols) else None
        weight = self.getOrDefault(self.weightCol) if self.isDefined(self.weightCol) else None
        return FeatureSpec(
            featuresCol=self.getOrDefault(self.featuresCol),
            inputCols=tuple(input_cols) if input_cols else None,
            idCol=self.getIdCol() or None,
            weightCol=weight or None,
        )


class KMedoids(Estimator, _KMedoidsParams):
    """k-medoids clustering of a Spark DataFrame with any supported dissimilarity.

    FasterCLARA rounds (FasterPAM on ``numSamples`` seeded samples per round on the executors, best medoids
    carried into the next round's samples), every candidate scored on the full data in one pass, then
    full-data swap refinement (distributed FastCLARANS with exact deltas). Medoids are real rows.

    >>> model = KMedoids(k=20, metric="euclidean", seed=7).fit(df)   # doctest: +SKIP
    """

    @keyword_only
    def __init__(self, *, k: int = 2, metric: str = "euclidean", p: float = 2.0, algorithm: str = "fasterpam",
                 init: str = "lab", maxIter: int = 3, numSamples: int = 5, sampleSize: int = 0,
                 refine: str = "swaps", refinePasses: int = 10, refineCandidates: int = 0,
                 maxSampleMemoryMB: float = 1024.0, seed: int = 0, featuresCol: str = "features",
                 inputCols: list[str] | None = None, idCol: str | None = None, weightCol: str | None = None,
                 predictionCol: str = "prediction", distanceCol: str | None = None):
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(self, **kwargs) -> KMedoids:
        """Set any of the constructor's parameters by name."""
        return self._set(**self._input_kwargs)

    def setK(self, value: int) -> KMedoids:
        return self._set(k=value)

    def setMetric(self, value: str) -> KMedoids:
        return self._set(metric=value)

    def setSeed(self, value: int) -> KMedoids:
        return self._set(seed=value)

    def _fit_params(self) -> FitParams:
        g = self.getOrDefault
        return FitParams(
            k=g(self.k), metric=g(self.metric), p=g(self.p), algorithm=g(self.algorithm), init=g(self.init),
            maxIter=g(self.maxIter), numSamples=g(self.numSamples), sampleSize=g(self.sampleSize) or None,
            refine=g(self.refine), refinePasses=g(self.refinePasses),
            refineCandidates=g(self.refineCandidates) or None,
            seed=g(self.seed), maxSampleMemoryMB=g(self.maxSampleMemoryMB),
        )

    def _fit(self, dataset: DataFrame) -> KMedoidsModel:
        result = fit(dataset, self._feature_spec(), self._fit_params())
        model = KMedoidsModel(result.medoids.x, result.medoids.keys, list(result.medoids.ids))
        self._copyValues(model)
        model._summary = KMedoidsSummary.from_result(result, model, dataset)
        return model


@dataclass
class KMedoidsSummary:
    """Training summary: cost (sum and mean of distances to the nearest medoid over ALL rows), sizes, rounds."""

    k: int
    trainingCost: float
    meanCost: float
    clusterSizes: list[float]
    clusterCosts: list[float]
    medoidSilhouette: float
    numRows: int
    numIter: int
    rounds: list[RoundInfo]
    refinePasses: list[RefinePass]
    refineMode: str
    timings: dict[str, float]
    _model: KMedoidsModel | None = None
    _dataset: DataFrame | None = None

    @classmethod
    def from_result(cls, result: FitResult, model: KMedoidsModel, dataset: DataFrame) -> KMedoidsSummary:
        return cls(
            k=len(result.medoids.keys), trainingCost=result.cost, meanCost=result.mean_cost,
            clusterSizes=result.sizes.tolist(), clusterCosts=result.cluster_costs.tolist(),
            medoidSilhouette=result.silhouette, numRows=result.stats.n_rows, numIter=len(result.rounds),
            rounds=result.rounds, refinePasses=result.refine_passes, refineMode=result.refine_mode,
            timings=result.timings, _model=model, _dataset=dataset,
        )

    @property
    def predictions(self) -> DataFrame:
        """The training data with the prediction (and distance) columns added (lazy)."""
        assert self._model is not None and self._dataset is not None
        return self._model.transform(self._dataset)


class KMedoidsModel(Model, _KMedoidsParams):
    """Fitted k-medoids: the medoids (real rows) and a transform that assigns every row to its nearest one."""

    def __init__(self, medoids: np.ndarray | None = None, medoid_keys: np.ndarray | None = None,
                 medoid_ids: list | None = None):
        super().__init__()
        self._medoids = None if medoids is None else np.asarray(medoids, dtype=np.float64)
        self._medoid_keys = None if medoid_keys is None else np.asarray(medoid_keys, dtype=np.int64)
        self._medoid_ids = medoid_ids
        self._summary: KMedoidsSummary | None = None

    def medoids(self) -> np.ndarray:
        """The k × d medoid features (rows of the training data)."""
        return self._medoids.copy()

    def medoidIds(self) -> list:
        """The medoids' ``idCol`` values (None entries when no idCol was set)."""
        return list(self._medoid_ids or [])

    @property
    def hasSummary(self) -> bool:
        return self._summary is not None

    @property
    def summary(self) -> KMedoidsSummary:
        if self._summary is None:
            raise RuntimeError("no training summary: this model was not produced by KMedoids.fit")
        return self._summary

    def predict(self, features) -> int:
        """Cluster index of one feature vector (list, numpy array or pyspark.ml Vector)."""
        from sparkmed.kernels.assign import nearest_two

        x = np.asarray(features.toArray() if hasattr(features, "toArray") else features, dtype=np.float64)
        labels, _, _ = nearest_two(x.reshape(1, -1), self._medoids, self.getMetric(), p=self.getP())
        return int(labels[0])

    def computeCost(self, dataset: DataFrame) -> float:
        """Sum over all rows of the (weighted) distance to the nearest medoid: one pass."""
        from sparkmed.blocks import to_blocks
        from sparkmed.features import prepare
        from sparkmed.passes import score_candidates_pass

        dim = self._medoids.shape[1]
        blocks = to_blocks(prepare(dataset, self._feature_spec()), dim)
        return float(score_candidates_pass(blocks, dim, self._medoids[None], self.getMetric(), self.getP())[0])

    def _transform(self, dataset: DataFrame) -> DataFrame:
        struct = assign_column(feature_column(dataset, self._feature_spec()), self._medoids, self.getMetric(),
                               self.getP())
        out = dataset.withColumn("_sm_assign", struct)
        out = out.withColumn(self.getOrDefault(self.predictionCol), F.col("_sm_assign.prediction"))
        if self.getDistanceCol():
            out = out.withColumn(self.getDistanceCol(), F.col("_sm_assign.distance"))
        return out.drop("_sm_assign")


def assign_column(features: F.Column, medoids: np.ndarray, metric: str, p: float) -> F.Column:
    """Column expression: struct(prediction int, distance double) of each row's nearest medoid.

    An Arrow UDF: the ``array<double>`` features arrive as an Arrow list array and are reshaped to n × d
    without copying; rows with null or non-finite features get nulls.
    """
    med = np.ascontiguousarray(medoids, dtype=np.float64)
    dim = med.shape[1]

    @F.arrow_udf("struct<prediction:int,distance:double>")
    def assign(x: pa.Array) -> pa.Array:
        from sparkmed.kernels.assign import nearest_two

        n = len(x)
        valid = np.asarray(x.is_valid(), dtype=bool) if x.null_count else np.ones(n, dtype=bool)
        flat = x.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
        lengths = x.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
        ok = valid & (lengths == dim)
        rows = np.zeros((n, dim))
        if ok.all():
            rows = flat.reshape(n, dim)
        else:
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            for i in np.flatnonzero(ok):
                rows[i] = flat[offsets[i] : offsets[i] + dim]
        ok &= np.isfinite(rows).all(axis=1)
        labels, dn, _ = nearest_two(np.ascontiguousarray(rows), med, metric, p=p)
        mask = pa.array(~ok)
        return pa.StructArray.from_arrays(
            [pa.array(labels.astype(np.int32), mask=~ok), pa.array(dn, mask=~ok)],
            names=["prediction", "distance"], mask=mask if not ok.all() else None,
        )

    return assign(features)


