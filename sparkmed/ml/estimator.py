"""The pyspark.ml face of sparkmed: ``KMedoids`` (Estimator), ``KMedoidsModel`` (Model) and the summary.

The Params are declared in ``sparkmed.ml.params``, planned by ``sparkmed.ml.plan`` and fitted by
``sparkmed.fit.clara``; this module wraps the result (model, summary, transform, cost, persistence).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

import numpy as np
from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.data.columns import check_unique_names, col
from sparkmed.data.encoding import Encoding
from sparkmed.data.features import FeatureSpec, feature_column, row_key
from sparkmed.errors import InputError
from sparkmed.fit.clara import FitResult, RoundInfo, fit
from sparkmed.fit.passes import assign_column, cost_pass
from sparkmed.fit.refine import MedoidSet, RefinePass
from sparkmed.kernels.custom import CUSTOM_PREFIX, register_metric
from sparkmed.ml.params import KMedoidsParams
from sparkmed.ml.persistence import PersistedParams, read_medoid_rows
from sparkmed.ml.plan import FitPlan, feature_spec, plan_fit

#: Column metadata key under which ``transform`` records the medoids on the prediction column, so that
#: ``sparkmed.ml.evaluation`` can score predictions (e.g. inside CrossValidator) without the model object.
PREDICTION_METADATA_KEY = "sparkmed"
#: Medoid tables larger than this many numbers are not copied into column metadata (the plan would grow).
MAX_METADATA_VALUES = 1_000_000


class KMedoids(Estimator, KMedoidsParams, PersistedParams):
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
        self._initial_model: KMedoidsModel | None = None
        self._set(**self._take_metric(self._input_kwargs))

    def setInitialModel(self, model: KMedoidsModel | None) -> KMedoids:
        """Warm-start the next fits from a previous model (as Spark's Scala ``KMeans.setInitialModel``).

        Its medoids start round 1 and are carried into every sample of round 1, and they are scored as a
        candidate of round 1: the refit is never worse on the new data than ``model``, and its summary has a
        ``drift`` section (``sparkmed.fit.drift``). The model must have this estimator's k, metric and p,
        the same feature encoding and dimension, and an idCol exactly when this estimator has one (a clear
        ``InputError`` otherwise, before any pass). A previous medoid may stay a medoid even when its row is
        no longer in the data (it is still a real row, of the previous data). Not saved with the estimator.
        ``None`` clears it.
        """
        if model is not None and not isinstance(model, KMedoidsModel):
            raise InputError(f"initialModel must be a KMedoidsModel, got {type(model).__name__}")
        self._initial_model = model
        return self

    def getInitialModel(self) -> KMedoidsModel | None:
        return self._initial_model

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

    def _fit(self, dataset: DataFrame) -> KMedoidsModel:
        plan = plan_fit(self, dataset)
        initial = initial_medoids(self, plan)
        return model_of(self, fit(dataset, plan.spec, plan.params, initial), dataset, plan.encoding)


def initial_medoids(estimator: KMedoids, plan: FitPlan) -> MedoidSet | None:
    """The warm start's medoids (``setInitialModel``), checked against the plan before any pass."""
    model = getattr(estimator, "_initial_model", None)
    if model is None:
        return None
    k = int(model.medoids().shape[0])
    if k != plan.params.k:
        raise InputError(f"initialModel has k={k} medoids but k={plan.params.k}: set k={k} to warm-start from "
                         "it, or fit without an initial model")
    for name in ("metric", "p"):
        mine, theirs = estimator.getOrDefault(name), model.getOrDefault(name)
        if mine != theirs:
            raise InputError(f"initialModel was fitted with {name}={theirs!r} but this fit has {name}={mine!r}")
    if model.getEncoding() != plan.encoding:
        raise InputError(f"initialModel's feature encoding ({model.getEncoding().kind}, "
                         f"{model.getEncoding().kernel_metric}) differs from this fit's ({plan.encoding.kind}, "
                         f"{plan.encoding.kernel_metric}); fit without an initial model")
    if bool(model.getIdCol()) != bool(plan.spec.idCol):
        raise InputError(f"initialModel was fitted {'with' if model.getIdCol() else 'without'} an idCol but this fit "
                         f"{'has one' if plan.spec.idCol else 'has none'}: row keys would not match")
    ids = model.medoidIds() or [None] * k
    sizes = model.trainingClusterSizes()
    return MedoidSet(model.medoidKeys(), ids, model.medoids(),
                     sizes=None if sizes is None else np.asarray(sizes, dtype=np.float64))


def model_of(estimator: KMedoids, result: FitResult, dataset: DataFrame, encoding: Encoding) -> KMedoidsModel:
    """The model (with summary) of ``estimator`` for a fit result (``fit`` and ``select_k``)."""
    model = KMedoidsModel(result.medoids.x, result.medoids.keys, list(result.medoids.ids), encoding)
    model._custom_metric = estimator.getMetricFunction()
    estimator._copyValues(model)
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
    drift: dict | None = None  # warm starts (setInitialModel) only: sparkmed.fit.drift.Drift.to_dict()
    _model: KMedoidsModel | None = None
    _dataset: DataFrame | None = None

    @classmethod
    def from_result(cls, result: FitResult, model: KMedoidsModel, dataset: DataFrame) -> KMedoidsSummary:
        return cls(
            k=len(result.medoids.keys), trainingCost=result.cost, meanCost=result.mean_cost,
            clusterSizes=result.sizes.tolist(), clusterCosts=result.cluster_costs.tolist(),
            medoidSilhouette=result.silhouette, numRows=result.stats.n_rows, numIter=len(result.rounds),
            rounds=result.rounds, refinePasses=result.refine_passes, refineMode=result.refine_mode,
            timings=result.timings, drift=None if result.drift is None else result.drift.to_dict(),
            _model=model, _dataset=dataset,
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


class KMedoidsModel(Model, KMedoidsParams, PersistedParams):
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
        self._training_sizes: list[float] | None = None  # a loaded model's saved trainingSummary.clusterSizes

    def medoids(self) -> np.ndarray:
        """The k × d medoid features (rows of the training data); for sparse, set and Gower features the
        encoded rows (``sparkmed.data.encoding``) — ``medoidRows(df)`` gives the original rows."""
        return self._medoids.copy()

    def getEncoding(self) -> Encoding:
        """How the features are encoded for the kernels (dense, sparse, set or gower; widths, Gower scaling)."""
        return self._encoding

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
        with_key = dataset.withColumn("_sm_medoid_key", row_key(dataset, feature_spec(self, self._encoding)))
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
        """The model of a saved path: every metadata field checked (``sparkmed.ml.model_fields``) before the
        medoid rows are read; the Params are restored and checked by the reader afterwards."""
        from sparkmed.ml import model_fields

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
        if encoding.kind != "dense" or not metric.startswith(CUSTOM_PREFIX):
            from sparkmed.kernels import check_dimension

            try:
                check_dimension(encoding.kernel_metric, dim)
            except ValueError as exc:
                raise InputError(f"{where}: metric and medoid width disagree: {exc}") from None
        sizes = model_fields.cluster_sizes(where, info, k)
        x, keys, ids = read_medoid_rows(session, path, k, dim)
        model = cls(x, keys, ids, encoding)
        model._training_sizes = sizes
        return model

    def _check_loaded(self, where: str, meta: dict, custom_metrics: dict) -> None:
        """The restored Params must describe these medoids (k, metric) and pass the fit's checks."""
        super()._check_loaded(where, meta, custom_metrics)
        if self.getK() != self._medoids.shape[0]:
            raise InputError(f"{where}: paramMap.k = {self.getK()} but the model has {self._medoids.shape[0]} medoids")
        self._checked_spec(f"{where}: paramMap.")

    def _checked_spec(self, prefix: str = "") -> FeatureSpec:
        """The feature spec, refused (before any job) when its inputCols cannot match the medoids: another
        number of columns than the model's dimension (dense) or Gower columns. ``prefix`` starts the message."""
        spec = feature_spec(self, self._encoding)
        kind = self._encoding.kind
        if spec.inputCols and kind in ("dense", "gower"):
            width = self._medoids.shape[1] if kind == "dense" else self._encoding.width
            if len(spec.inputCols) != width:
                raise InputError(f"{prefix}inputCols {list(spec.inputCols)}: {len(spec.inputCols)} column(s), but the "
                                 f"model's medoids have {width} features")
        return spec

    def trainingClusterSizes(self) -> list[float] | None:
        """The cluster sizes (weights) on the data this model was fitted on: from its summary, or from the
        saved model's metadata; None when neither is known."""
        if self._summary is not None:
            return list(self._summary.clusterSizes)
        return None if self._training_sizes is None else list(self._training_sizes)

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
        from sparkmed.kernels import nearest_two

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
        w = col(spec.weightCol).cast("double") if spec.weightCol else F.lit(1.0)
        cost, bad = cost_pass(dataset, feature_column(dataset, spec, padded=False), w, self._medoids,
                              self._kernel_metric(), self.getP(), self._encoding)
        if bad:
            raise InputError(f"{spec.describe()}: {bad} row(s) have null or non-finite features")
        return cost

    def _prediction_metadata(self) -> dict:
        """What the evaluator needs to score these predictions without the model (column metadata)."""
        spec = feature_spec(self, self._encoding)
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
