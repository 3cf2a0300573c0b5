"""The pyspark.ml face of sparkmed: ``KMedoids`` (Estimator), ``KMedoidsModel`` (Model) and the summary.

Parameter names follow Spark's ``KMeans`` where they overlap (k, maxIter, seed, featuresCol,
predictionCol, weightCol). The fit itself lives in ``sparkmed.clara``; this module only maps Params to it
and wraps the result.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, replace

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

from sparkmed.clara import FitParams, FitResult, RoundInfo, check_params, fit
from sparkmed.columns import check_unique_names, col
from sparkmed.encoding import Encoding, pad_batch, plan_encoding
from sparkmed.errors import InputError
from sparkmed.features import FeatureSpec, feature_column, row_key
from sparkmed.kernels.custom import register_metric
from sparkmed.passes import full_data_pass
from sparkmed.persistence import PersistedParams, read_medoid_rows
from sparkmed.refine import RefinePass

#: Column metadata key under which ``transform`` records the medoids on the prediction column, so that
#: ``sparkmed.evaluation`` can score predictions (e.g. inside CrossValidator) without the model object.
PREDICTION_METADATA_KEY = "sparkmed"
#: Medoid tables larger than this many numbers are not copied into column metadata (the plan would grow).
MAX_METADATA_VALUES = 1_000_000


class _KMedoidsParams(HasFeaturesCol, HasInputCols, HasPredictionCol, HasMaxIter, HasSeed, HasWeightCol):
    """Params shared by KMedoids and KMedoidsModel."""

    k = Param(Params._dummy(), "k", "number of clusters (medoids), ≥ 2", TypeConverters.toInt)
    metric = Param(
        Params._dummy(), "metric",
        "dissimilarity: euclidean, sqeuclidean, manhattan, cosine, chebyshev, minkowski, haversine, jaccard, "
        "hamming, dice (sets), gower (mixed inputCols), or a numba.njit function (stored as custom:<module>.<name>)",
        TypeConverters.toString,
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
    vectorFormat = Param(
        Params._dummy(), "vectorFormat",
        "Vector features: auto (sparse encoding when the non-zeros are few and the metric is euclidean, "
        "manhattan, cosine or jaccard) | dense | sparse", TypeConverters.toString,
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

    def _feature_spec(self) -> FeatureSpec:
        input_cols = self.getOrDefault(self.inputCols) if self.isDefined(self.inputCols) else None
        weight = self.getOrDefault(self.weightCol) if self.isDefined(self.weightCol) else None
        return FeatureSpec(
            featuresCol=self.getOrDefault(self.featuresCol),
            inputCols=tuple(input_cols) if input_cols else None,
            idCol=self.getIdCol() or None,
            weightCol=weight or None,
            encoding=getattr(self, "_encoding", None),
        )

    def _fit_params(self) -> FitParams:
        """The Params in the fit's terms (``clara.FitParams``): the one mapping from Params to the fit."""
        g = self.getOrDefault
        return FitParams(
            k=g(self.k), metric=getattr(self, "_custom_metric", None) or g(self.metric), p=g(self.p),
            algorithm=g(self.algorithm), init=g(self.init),
            maxIter=g(self.maxIter), numSamples=g(self.numSamples), sampleSize=g(self.sampleSize) or None,
            refine=g(self.refine), refinePasses=g(self.refinePasses),
            refineCandidates=g(self.refineCandidates) or None,
            seed=g(self.seed), maxSampleMemoryMB=g(self.maxSampleMemoryMB),
        )

    def _check_loaded(self, where: str, meta: dict, custom_metrics: dict) -> None:
        """Restored Params go through the fit's own checks; a custom metric must be provided, never imported."""
        from sparkmed import model_fields

        metric = model_fields.metric_name(where, "paramMap.metric", self.getMetric())
        fn = model_fields.metric_function(where, metric, custom_metrics)
        if fn is not None:
            self._custom_metric = fn
        try:
            check_params(self._fit_params())
        except InputError as exc:
            raise InputError(f"{where}: its parameters do not pass the fit's checks: {exc}") from None

    def _kernel_metric(self):
        """The registry metric the kernels use (e.g. ``set_jaccard`` for metric ``jaccard`` on sets), or the
        user's function for a custom metric."""
        if getattr(self, "_custom_metric", None) is not None:
            return self._custom_metric
        enc = getattr(self, "_encoding", None)
        return enc.kernel_metric if enc is not None and enc.kind != "dense" else self.getMetric()


class KMedoids(Estimator, _KMedoidsParams, PersistedParams):
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
                 predictionCol: str = "prediction", distanceCol: str | None = None, vectorFormat: str = "auto",
                 columnTypes: list[str] | None = None, columnWeights: list[float] | None = None):
        super().__init__()
        self._custom_metric = None
        self._set(**self._take_metric(self._input_kwargs))

    @keyword_only
    def setParams(self, **kwargs) -> KMedoids:
        """Set any of the constructor's parameters by name."""
        return self._set(**self._take_metric(self._input_kwargs))

    def setK(self, value: int) -> KMedoids:
        return self._set(k=value)

    def setMetric(self, value) -> KMedoids:
        """A registry metric name, or a user ``numba.njit`` function ``(a, b) -> float`` (see kernels.custom)."""
        return self._set(**self._take_metric({"metric": value}))

    def _take_metric(self, kwargs: dict) -> dict:
        """A callable ``metric`` is kept as the custom metric; the Param holds its ``custom:<module.qualname>``."""
        from sparkmed.kernels.custom import custom_name

        if "metric" in kwargs:
            fn = kwargs["metric"]
            self._custom_metric = fn if callable(fn) else None
            if callable(fn):
                kwargs = {**kwargs, "metric": custom_name(fn)}
                with contextlib.suppress(ValueError):  # not numba: the fit's check_custom_metric says why
                    register_metric(fn)  # the user's own function: models/predictions of it resolve in-process
        return kwargs

    def setP(self, value: float) -> KMedoids:
        return self._set(p=value)

    def setAlgorithm(self, value: str) -> KMedoids:
        return self._set(algorithm=value)

    def setInit(self, value: str) -> KMedoids:
        return self._set(init=value)

    def setMaxIter(self, value: int) -> KMedoids:
        return self._set(maxIter=value)

    def setNumSamples(self, value: int) -> KMedoids:
        return self._set(numSamples=value)

    def setSampleSize(self, value: int) -> KMedoids:
        return self._set(sampleSize=value)

    def setRefine(self, value: str) -> KMedoids:
        return self._set(refine=value)

    def setRefinePasses(self, value: int) -> KMedoids:
        return self._set(refinePasses=value)

    def setRefineCandidates(self, value: int) -> KMedoids:
        return self._set(refineCandidates=value)

    def setMaxSampleMemoryMB(self, value: float) -> KMedoids:
        return self._set(maxSampleMemoryMB=value)

    def setSeed(self, value: int) -> KMedoids:
        return self._set(seed=value)

    def setFeaturesCol(self, value: str) -> KMedoids:
        return self._set(featuresCol=value)

    def setInputCols(self, value: list[str]) -> KMedoids:
        return self._set(inputCols=value)

    def setIdCol(self, value: str) -> KMedoids:
        return self._set(idCol=value)

    def setWeightCol(self, value: str) -> KMedoids:
        return self._set(weightCol=value)

    def setPredictionCol(self, value: str) -> KMedoids:
        return self._set(predictionCol=value)

    def setDistanceCol(self, value: str) -> KMedoids:
        return self._set(distanceCol=value)

    def setVectorFormat(self, value: str) -> KMedoids:
        return self._set(vectorFormat=value)

    def setColumnTypes(self, value: list[str]) -> KMedoids:
        return self._set(columnTypes=value)

    def setColumnWeights(self, value: list[float]) -> KMedoids:
        return self._set(columnWeights=value)

    def _plan(self, dataset: DataFrame, k: int | None = None) -> tuple[FeatureSpec, FitParams]:
        """Check the parameters, then choose the features' encoding (``sparkmed.encoding``; one small pass for
        non-dense data): the spec and the fit parameters in the kernels' terms."""
        params = self._fit_params()
        if k is not None:
            params = replace(params, k=k)
        check_params(params)
        spec = self._feature_spec()
        enc = plan_encoding(
            dataset, spec.featuresCol, spec.inputCols, self.getMetric(), vector_format=self.getVectorFormat(),
            column_types=self.getColumnTypes(), column_weights=self.getColumnWeights(),
        )
        if callable(params.metric):
            _check_custom_on(dataset, spec, params.metric)
            return replace(spec, encoding=enc), params
        return replace(spec, encoding=enc), replace(params, metric=enc.kernel_metric)

    def _fit(self, dataset: DataFrame) -> KMedoidsModel:
        spec, params = self._plan(dataset)
        return self._model_from(fit(dataset, spec, params), dataset, spec.encoding)

    def _model_from(self, result: FitResult, dataset: DataFrame, encoding: Encoding) -> KMedoidsModel:
        """The model (with summary) for a fit result; also used by ``sparkmed.selection``."""
        model = KMedoidsModel(result.medoids.x, result.medoids.keys, list(result.medoids.ids), encoding)
        model._custom_metric = self._custom_metric
        self._copyValues(model)
        model._set(k=len(result.medoids.keys))
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

    @property
    def cluster(self) -> DataFrame:
        """The prediction column of :attr:`predictions` (as in Spark's ``KMeansSummary``)."""
        assert self._model is not None
        return self.predictions.select(self._model.getOrDefault(self._model.predictionCol))

    @property
    def costPerRound(self) -> list[float]:
        """Best full-data cost after each CLARA round."""
        return [r.best_cost for r in self.rounds]


class KMedoidsModel(Model, _KMedoidsParams, PersistedParams):
    """Fitted k-medoids: the medoids (real rows) and a transform that assigns every row to its nearest one."""

    def __init__(self, medoids: np.ndarray | None = None, medoid_keys: np.ndarray | None = None,
                 medoid_ids: list | None = None, encoding: Encoding | None = None):
        super().__init__()
        self._encoding = encoding or Encoding()  # dense: the kernels use the metric Param itself
        self._custom_metric = None  # a user's numba function (Param metric = "custom:<module.qualname>")
        self._medoids = None if medoids is None else np.asarray(medoids, dtype=np.float64)
        self._medoid_keys = None if medoid_keys is None else np.asarray(medoid_keys, dtype=np.int64)
        self._medoid_ids = medoid_ids
        self._summary: KMedoidsSummary | None = None

    def medoids(self) -> np.ndarray:
        """The k × d medoid features (rows of the training data); for sparse, set and Gower features the
        encoded rows (``sparkmed.encoding``) — ``medoidRows(df)`` gives the original rows."""
        return self._medoids.copy()

    def medoidIds(self) -> list:
        """The medoids' ``idCol`` values as strings (None entries when no idCol was set)."""
        return list(self._medoid_ids or [])

    def medoidKeys(self) -> np.ndarray:
        """The medoids' row keys (xxhash64 of the idCol value, or of the features without an idCol)."""
        return self._medoid_keys.copy()

    def medoidRows(self, dataset: DataFrame, clusterCol: str = "cluster") -> DataFrame:
        """The medoids' original rows of ``dataset`` (all its columns) with a leading ``clusterCol`` column.

        Rows are found by their row key (see ``medoidKeys``): with an ``idCol`` exactly one row per medoid;
        without one, every row whose features equal a medoid's. One pass over ``dataset`` (lazy).
        """
        if clusterCol in dataset.columns:
            raise InputError(f"medoidRows: the data already has a column '{clusterCol}'; pass clusterCol=...")
        check_unique_names(dataset, "medoidRows")
        session = dataset.sparkSession
        keys = session.createDataFrame(
            [(int(key), i) for i, key in enumerate(self._medoid_keys)], "_sm_medoid_key long, _sm_cluster int"
        )
        with_key = dataset.withColumn("_sm_medoid_key", row_key(dataset, self._feature_spec()))
        joined = with_key.join(F.broadcast(keys), "_sm_medoid_key")
        return joined.select(F.col("_sm_cluster").alias(clusterCol), *[col(c) for c in dataset.columns])

    def setFeaturesCol(self, value: str) -> KMedoidsModel:
        return self._set(featuresCol=value)

    def setInputCols(self, value: list[str]) -> KMedoidsModel:
        return self._set(inputCols=value)

    def setPredictionCol(self, value: str) -> KMedoidsModel:
        return self._set(predictionCol=value)

    def setDistanceCol(self, value: str) -> KMedoidsModel:
        return self._set(distanceCol=value)

    def setIdCol(self, value: str) -> KMedoidsModel:
        return self._set(idCol=value)

    def setWeightCol(self, value: str) -> KMedoidsModel:
        return self._set(weightCol=value)

    def _persisted_metadata(self) -> dict:
        meta = {**super()._persisted_metadata(), "k": int(self._medoids.shape[0]),
                "dim": int(self._medoids.shape[1]), "metric": self.getMetric(), "p": self.getP(),
                "encoding": self._encoding.to_dict()}
        if self._summary is not None:
            s = self._summary
            meta["trainingSummary"] = {
                "trainingCost": s.trainingCost, "meanCost": s.meanCost, "clusterSizes": s.clusterSizes,
                "medoidSilhouette": s.medoidSilhouette, "numRows": s.numRows, "numIter": s.numIter,
            }
        return meta

    def _persisted_rows(self) -> list:
        ids = self._medoid_ids or [None] * len(self._medoid_keys)
        return [
            (i, int(key), None if mid is None else str(mid), [float(v) for v in row])
            for i, (key, mid, row) in enumerate(zip(self._medoid_keys, ids, self._medoids, strict=True))
        ]

    @classmethod
    def _from_persisted(cls, session, path: str, meta: dict) -> KMedoidsModel:
        """The model of a saved path: every metadata field checked (``sparkmed.model_fields``) before the
        medoid rows are read; the Params are restored and checked by the reader afterwards."""
        from sparkmed import model_fields

        where = f"saved model '{path}'"
        info = meta["sparkmed"]
        k, dim = model_fields.model_shape(where, info)
        metric = model_fields.metric_name(where, "sparkmed.metric", info.get("metric"))
        param = meta["paramMap"].get("metric", meta["defaultParamMap"].get("metric", "euclidean"))
        if param != metric:
            raise InputError(f"{where}: field 'sparkmed.metric' ({metric!r}) differs from paramMap.metric "
                             f"({param!r:.100})")
        model_fields.number(where, "sparkmed.p", info.get("p", 2.0), positive=True)
        encoding = model_fields.encoding(where, info.get("encoding"), metric, dim)
        if encoding.kind != "dense" or not metric.startswith("custom:"):
            from sparkmed.kernels.distances import check_dimension

            try:
                check_dimension(encoding.kernel_metric, dim)
            except ValueError as exc:
                raise InputError(f"{where}: metric and medoid width disagree: {exc}") from None
        x, keys, ids = read_medoid_rows(session, path, k, dim)
        return cls(x, keys, ids, encoding)

    def _check_loaded(self, where: str, meta: dict, custom_metrics: dict) -> None:
        """The restored Params must describe these medoids (k, metric) and pass the fit's checks."""
        super()._check_loaded(where, meta, custom_metrics)
        if self.getK() != self._medoids.shape[0]:
            raise InputError(f"{where}: paramMap.k = {self.getK()} but the model has {self._medoids.shape[0]} medoids")
        self._checked_spec(f"{where}: paramMap.")

    def _checked_spec(self, prefix: str = "") -> FeatureSpec:
        """The feature spec, refused (before any job) when its inputCols cannot match the medoids: another
        number of columns than the model's dimension (dense) or Gower columns. ``prefix`` starts the message."""
        spec = self._feature_spec()
        kind = self._encoding.kind
        if spec.inputCols and kind in ("dense", "gower"):
            width = self._medoids.shape[1] if kind == "dense" else self._encoding.width
            if len(spec.inputCols) != width:
                raise InputError(f"{prefix}inputCols {list(spec.inputCols)}: {len(spec.inputCols)} column(s), but the "
                                 f"model's medoids have {width} features")
        return spec

    @property
    def hasSummary(self) -> bool:
        return self._summary is not None

    @property
    def summary(self) -> KMedoidsSummary:
        if self._summary is None:
            raise RuntimeError("no training summary: this model was not produced by KMedoids.fit")
        return self._summary

    def predict(self, features) -> int:
        """Cluster index of one dense feature vector (list, numpy array or pyspark.ml Vector); for sparse,
        set or Gower features use ``transform``."""
        from sparkmed.kernels.assign import nearest_two

        if self._encoding.kind != "dense":
            raise InputError(f"predict() takes one dense vector; this model's features are {self._encoding.kind} "
                             "encoded: use transform() on a DataFrame")
        x = np.asarray(features.toArray() if hasattr(features, "toArray") else features, dtype=np.float64)
        labels, _, _ = nearest_two(x.reshape(1, -1), self._medoids, self._kernel_metric(), p=self.getP())
        return int(labels[0])

    def computeCost(self, dataset: DataFrame) -> float:
        """Sum over all rows of the (weighted) distance to the nearest medoid: one pass.

        Rows whose features are null or not finite are an ``InputError``.
        """
        spec = self._checked_spec()
        a = assign_column(feature_column(dataset, spec, padded=False), self._medoids, self._kernel_metric(),
                          self.getP(), self._encoding)
        w = col(spec.weightCol).cast("double") if spec.weightCol else F.lit(1.0)
        full_data_pass(f"cost for k={self._medoids.shape[0]}")
        row = dataset.select(a.alias("a"), w.alias("w")).agg(
            F.sum(F.col("a.distance") * F.col("w")).alias("cost"),
            F.sum(F.col("a.distance").isNull().cast("long")).alias("bad"),
        ).collect()[0]
        if row["bad"]:
            raise InputError(f"{spec.describe()}: {row['bad']} row(s) have null or non-finite features")
        return float(row["cost"] or 0.0)

    def _prediction_metadata(self) -> dict:
        """What the evaluator needs to score these predictions without the model (column metadata)."""
        spec = self._feature_spec()
        metric = self.getMetric() if self._custom_metric is not None else self._kernel_metric()
        meta = {"metric": metric, "p": self.getP(), "k": int(self._medoids.shape[0]),
                "featuresCol": spec.featuresCol, "inputCols": list(spec.inputCols) if spec.inputCols else None,
                "encoding": json.dumps(self._encoding.to_dict())}
        if self._medoids.size <= MAX_METADATA_VALUES:
            meta["dim"] = int(self._medoids.shape[1])
            meta["medoids"] = self._medoids.ravel().tolist()  # row-major k × dim (Spark metadata: flat arrays)
        return {PREDICTION_METADATA_KEY: meta}

    def _transform(self, dataset: DataFrame) -> DataFrame:
        features = feature_column(dataset, self._checked_spec(), padded=False)
        struct = assign_column(features, self._medoids, self._kernel_metric(), self.getP(), self._encoding)
        out = dataset.withColumn("_sm_assign", struct)
        pred = self.getOrDefault(self.predictionCol)
        # withMetadata, not alias(metadata=) inside withColumn: Spark Connect drops the latter.
        out = out.withColumn(pred, F.col("_sm_assign.prediction")).withMetadata(pred, self._prediction_metadata())
        if self.getDistanceCol():
            out = out.withColumn(self.getDistanceCol(), F.col("_sm_assign.distance"))
        return out.drop("_sm_assign")


def _check_custom_on(dataset: DataFrame, spec: FeatureSpec, fn) -> None:
    """Validate a custom metric on a few real rows (8, one tiny job) before any fit work."""
    from sparkmed.kernels.custom import check_custom_metric

    rows = [r[0] for r in dataset.select(feature_column(dataset, spec)).limit(8).collect() if r[0] is not None]
    try:
        check_custom_metric(fn, np.array(rows, dtype=np.float64) if rows else None)
    except ValueError as exc:
        raise InputError(f"metric: {exc}") from None


def assign_column(features: F.Column, medoids: np.ndarray, metric: str, p: float,
                  encoding: Encoding | None = None) -> F.Column:
    """Column expression: struct(prediction int, distance double) of each row's nearest medoid.

    An Arrow UDF: the ``array<double>`` features arrive as an Arrow list array (sparse/set rows unpadded,
    padded per batch by ``encoding.pad_batch``); rows with null or non-finite features get nulls.
    """
    med = np.ascontiguousarray(medoids, dtype=np.float64)
    enc = encoding or Encoding()

    @F.arrow_udf("struct<prediction:int,distance:double>")
    def assign(x: pa.Array) -> pa.Array:
        from sparkmed.kernels.assign import nearest_two
        from sparkmed.kernels.layout import repad

        rows, ok, width = pad_batch(x, enc, med.shape[1])
        targets = repad(med, enc.kind, width) if enc.padded else med
        labels, dn, _ = nearest_two(rows, targets, metric, p=p)
        mask = pa.array(~ok)
        return pa.StructArray.from_arrays(
            [pa.array(labels.astype(np.int32), mask=~ok), pa.array(dn, mask=~ok)],
            names=["prediction", "distance"], mask=mask if not ok.all() else None,
        )

    return assign(features)
