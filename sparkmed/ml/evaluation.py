"""Distributed silhouettes for k-medoids, as functions and as a pyspark.ml ``Evaluator``.

Two criteria, both computed in ONE pass over the data with O(k·d) state, for every metric:

- **medoid silhouette** (Van der Laan et al. 2003; Lenssen & Schubert 2022):
  ``s(o) = 1 - d1(o) / d2(o)``, ``d1``/``d2`` the distances to the nearest and second-nearest medoid
  (``s = 0`` where ``d2 = 0``). It ignores the prediction column: it scores the medoids themselves.
- **simplified silhouette** (Hruschka et al. 2004, medoids as centres):
  ``s(o) = (b - a) / max(a, b)`` with ``a`` the distance to the medoid of the row's *predicted* cluster
  and ``b`` the distance to the nearest other medoid. For predictions from ``KMedoidsModel.transform``
  (nearest medoid) both criteria coincide; they differ for other assignments.

The result is the (weighted) mean over all rows; larger is better, both lie in [-1, 1] (the medoid
silhouette in [0, 1]).

The medoids come either from a model/array given explicitly, or — so that the Evaluator works inside
``CrossValidator`` / ``TrainValidationSplit``, which only hand it the transformed DataFrame — from the
metadata ``KMedoidsModel.transform`` attaches to its prediction column (medoids, metric, feature columns).
"""

from __future__ import annotations

import json

import numpy as np
from pyspark import keyword_only
from pyspark.ml.evaluation import Evaluator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasPredictionCol, HasWeightCol
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.data.columns import col
from sparkmed.data.encoding import Encoding
from sparkmed.data.features import FeatureSpec, feature_column
from sparkmed.errors import InputError
from sparkmed.fit.passes import silhouette_pass
from sparkmed.kernels import METRICS
from sparkmed.ml.persistence import PersistedParams

CRITERIA = ("medoidSilhouette", "simplifiedSilhouette")


def silhouette(
    dataset: DataFrame,
    medoids: np.ndarray,
    *,
    metric: str = "euclidean",
    p: float = 2.0,
    criterion: str = "medoidSilhouette",
    featuresCol: str = "features",
    inputCols: list[str] | None = None,
    predictionCol: str = "prediction",
    weightCol: str | None = None,
    encoding: Encoding | None = None,
) -> float:
    """Weighted mean medoid or simplified silhouette of ``dataset`` for ``medoids`` (k × d): ONE pass.

    ``encoding``: the model's feature encoding for sparse, set or Gower features (then ``metric`` is the
    kernel metric and ``medoids`` the encoded rows, as ``KMedoidsModel`` holds them).

    ``predictionCol`` is read only for the simplified silhouette. Rows with null/non-finite features, a null
    or out-of-range prediction, or a null/negative weight are an ``InputError`` naming the column.
    """
    if criterion not in CRITERIA:
        raise InputError(f"criterion '{criterion}' is unknown; valid: {', '.join(CRITERIA)}")
    med = np.ascontiguousarray(np.asarray(medoids, dtype=np.float64))
    if med.ndim != 2 or med.shape[0] < 2:
        raise InputError(f"medoids must be a k × d array with k ≥ 2, got shape {med.shape}")
    k, dim = med.shape
    enc = encoding or Encoding()
    spec = FeatureSpec(featuresCol=featuresCol, inputCols=tuple(inputCols) if inputCols else None, encoding=enc)
    cols = [feature_column(dataset, spec, padded=False).alias("x")]
    simplified = criterion == "simplifiedSilhouette"
    if simplified:
        if predictionCol not in dataset.columns:
            raise InputError(f"predictionCol '{predictionCol}' is not a column of the DataFrame")
        cols.append(col(predictionCol).cast("int").alias("label"))
    cols.append((col(weightCol).cast("double") if weightCol else F.lit(1.0)).alias("w"))

    sums = silhouette_pass(dataset.select(*cols), med, enc, metric, p, simplified=simplified,
                           description=f"{criterion} for k={k}")
    if sums.bad_features:
        raise InputError(f"{spec.describe()}: {sums.bad_features} row(s) have null, non-finite or wrongly sized "
                         f"features (expected dimension {dim})")
    if sums.bad_labels:
        raise InputError(f"predictionCol '{predictionCol}': {sums.bad_labels} row(s) are null or outside 0..{k - 1}")
    if sums.bad_weights:
        raise InputError(f"weightCol '{weightCol}': {sums.bad_weights} row(s) are null, NaN or negative")
    if not sums.total_weight > 0:
        raise InputError("cannot evaluate: the data is empty or its total weight is zero")
    return float(sums.weighted_sum / sums.total_weight)


def prediction_metadata(dataset: DataFrame, predictionCol: str) -> dict:
    """The sparkmed metadata ``KMedoidsModel.transform`` put on ``predictionCol`` (medoids, metric, features)."""
    from sparkmed.ml.estimator import PREDICTION_METADATA_KEY

    if predictionCol not in dataset.columns:
        raise InputError(f"predictionCol '{predictionCol}' is not a column of the DataFrame")
    meta = dataset.schema[predictionCol].metadata.get(PREDICTION_METADATA_KEY)
    if not meta:
        raise InputError(
            f"column '{predictionCol}' carries no sparkmed medoids: evaluate the output of KMedoidsModel.transform, "
            "or call sparkmed.ml.evaluation.silhouette(df, medoids, ...) with the medoids"
        )
    if "medoids" not in meta:
        raise InputError(
            f"the model behind '{predictionCol}' is too large to travel in column metadata (k·d > 1e6): call "
            "sparkmed.ml.evaluation.silhouette(df, model.medoids(), ...) instead"
        )
    return meta


class MedoidSilhouetteEvaluator(Evaluator, HasPredictionCol, HasWeightCol, PersistedParams):
    """pyspark.ml Evaluator: mean medoid silhouette (default) or simplified silhouette of k-medoids predictions.

    Reads the medoids, metric and feature columns from the prediction column's metadata (set by
    ``KMedoidsModel.transform``), so it works in ``CrossValidator`` and ``TrainValidationSplit``.
    Larger is better. One pass over the data.

    >>> MedoidSilhouetteEvaluator().evaluate(model.transform(df))   # doctest: +SKIP
    """

    metricName = Param(Params._dummy(), "metricName", "medoidSilhouette | simplifiedSilhouette",
                       TypeConverters.toString)

    @keyword_only
    def __init__(self, *, metricName: str = "medoidSilhouette", predictionCol: str = "prediction",
                 weightCol: str | None = None):
        super().__init__()
        self._setDefault(metricName="medoidSilhouette", predictionCol="prediction")
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, metricName: str = "medoidSilhouette", predictionCol: str = "prediction",
                  weightCol: str | None = None) -> MedoidSilhouetteEvaluator:
        return self._set(**self._input_kwargs)

    def getMetricName(self) -> str:
        return self.getOrDefault(self.metricName)

    def setMetricName(self, value: str) -> MedoidSilhouetteEvaluator:
        return self._set(metricName=value)

    def setPredictionCol(self, value: str) -> MedoidSilhouetteEvaluator:
        return self._set(predictionCol=value)

    def setWeightCol(self, value: str) -> MedoidSilhouetteEvaluator:
        return self._set(weightCol=value)

    def isLargerBetter(self) -> bool:
        return True

    def _evaluate(self, dataset: DataFrame) -> float:
        pred = self.getOrDefault(self.predictionCol)
        meta = prediction_metadata(dataset, pred)
        fields = checked_metadata(f"metadata of column '{pred}'", meta)
        weight = self.getOrDefault(self.weightCol) if self.isDefined(self.weightCol) else None
        return silhouette(
            dataset, fields["medoids"], metric=fields["metric"], p=fields["p"], criterion=self.getMetricName(),
            featuresCol=fields["featuresCol"], inputCols=fields["inputCols"], predictionCol=pred,
            weightCol=weight or None, encoding=fields["encoding"],
        )


def checked_metadata(where: str, meta: dict, custom_metrics: dict | None = None) -> dict:
    """The prediction metadata's fields, each checked (``sparkmed.ml.model_fields``) before use: medoids as a
    k × dim array, the kernel metric (a custom one only if the user registered it), p, feature columns and
    the encoding. Column metadata travels with any DataFrame, so it is treated as untrusted input."""
    from sparkmed.ml import model_fields as mf

    k = mf.integer(where, "k", meta.get("k"), 2, mf.MAX_K)
    dim = mf.integer(where, "dim", meta.get("dim"), 1, mf.MAX_DIM)
    values = meta.get("medoids")
    if not isinstance(values, list) or len(values) != k * dim or k * dim > mf.MAX_VALUES:
        raise InputError(f"{where}: field 'medoids' must hold k × dim = {k * dim} numbers")
    try:
        medoids = np.asarray(values, dtype=np.float64).reshape(k, dim)
    except (TypeError, ValueError):
        raise InputError(f"{where}: field 'medoids' must hold numbers") from None
    if not np.isfinite(medoids).all():
        raise InputError(f"{where}: field 'medoids' contains NaN or infinity")
    metric = mf.metric_name(where, "metric", meta.get("metric"))
    raw = meta.get("encoding") or "{}"
    try:
        enc_raw = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        raise InputError(f"{where}: field 'encoding' is not valid JSON") from None
    kind = enc_raw.get("kind", "dense") if isinstance(enc_raw, dict) else None
    # transform stores the kernel metric for encoded features: map it back to the user-level name to check
    user_metric = metric if kind in (None, "dense", "gower") or metric not in METRICS else METRICS[metric].selects
    enc = mf.encoding(where, enc_raw, user_metric, dim)
    fn = mf.metric_function(where, metric, custom_metrics)
    if fn is None:
        from sparkmed.kernels import check_dimension

        try:
            check_dimension(enc.kernel_metric, dim)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
    return {"medoids": medoids, "metric": fn or enc.kernel_metric, "encoding": enc,
            "p": mf.number(where, "p", meta.get("p", 2.0), positive=True),
            "featuresCol": mf.string(where, "featuresCol", meta.get("featuresCol", "features")),
            "inputCols": mf.string_list(where, "inputCols", meta.get("inputCols"))}
