"""The one planning step of a fit: Params + DataFrame → what to fit and how (a ``FitPlan``).

``KMedoids.fit``, ``select_k`` and the job all call :func:`plan_fit`; nothing else maps Params to the fit.
The plan holds the feature spec (which columns, id, weight, and the features' encoding: dense, ELL sparse,
padded sets or Gower rows, chosen by ``sparkmed.data.encoding`` from the schema and a bounded sample) and the
fit parameters in the kernels' terms (``metric`` is the registry metric of that encoding, e.g. ``set_jaccard``
for ``jaccard`` on array columns, or the user's numba function).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from pyspark.sql import DataFrame

from sparkmed.data.encoding import Encoding, plan_encoding
from sparkmed.data.features import FeatureSpec, feature_column
from sparkmed.errors import InputError
from sparkmed.fit.params import FitParams, check_params

if TYPE_CHECKING:
    from sparkmed.ml.params import KMedoidsParams


@dataclass(frozen=True)
class FitPlan:
    """What a fit will do: its feature spec (with the chosen encoding) and its parameters (kernels' terms)."""

    spec: FeatureSpec
    params: FitParams

    @property
    def encoding(self) -> Encoding:
        return self.spec.encoding


def feature_spec(params: KMedoidsParams, encoding: Encoding | None = None) -> FeatureSpec:
    """The feature columns, id and weight the Params name (``encoding``: a model's, or None before a fit)."""
    input_cols = params.getOrDefault(params.inputCols) if params.isDefined(params.inputCols) else None
    weight = params.getOrDefault(params.weightCol) if params.isDefined(params.weightCol) else None
    return FeatureSpec(
        featuresCol=params.getOrDefault(params.featuresCol),
        inputCols=tuple(input_cols) if input_cols else None,
        idCol=params.getIdCol() or None,
        weightCol=weight or None,
        encoding=encoding,
    )


def fit_params(params: KMedoidsParams) -> FitParams:
    """The Params in the fit's terms, before the encoding is known (``metric``: the Param's name or the user's
    function). The one mapping from Params to ``FitParams``."""
    g = params.getOrDefault
    return FitParams(
        k=g(params.k), metric=params.getMetricFunction() or g(params.metric), p=g(params.p),
        algorithm=g(params.algorithm), init=g(params.init),
        maxIter=g(params.maxIter), numSamples=g(params.numSamples), sampleSize=g(params.sampleSize) or None,
        refine=g(params.refine), refinePasses=g(params.refinePasses),
        refineCandidates=g(params.refineCandidates) or None,
        seed=g(params.seed), maxSampleMemoryMB=g(params.maxSampleMemoryMB),
    )


def plan_fit(params: KMedoidsParams, dataset: DataFrame, k: int | None = None) -> FitPlan:
    """Check the parameters (before any Spark work), then choose the features' encoding (no pass over the
    data: the schema and at most a bounded sample decide) — the plan of a fit of ``dataset`` (with ``k``
    instead of the Param when given)."""
    fp = fit_params(params)
    if k is not None:
        fp = replace(fp, k=k)
    check_params(fp)
    spec = feature_spec(params)
    enc = plan_encoding(
        dataset, spec.featuresCol, spec.inputCols, params.getMetric(), vector_format=params.getVectorFormat(),
        column_types=params.getColumnTypes(), column_weights=params.getColumnWeights(),
    )
    spec = replace(spec, encoding=enc)
    if callable(fp.metric):
        check_custom_on(dataset, spec, fp.metric)
        return FitPlan(spec, fp)
    return FitPlan(spec, replace(fp, metric=enc.kernel_metric))


def check_custom_on(dataset: DataFrame, spec: FeatureSpec, fn) -> None:
    """Validate a custom metric on a few real rows (8, one tiny job) before any fit work."""
    from sparkmed.kernels.custom import check_custom_metric

    rows = [r[0] for r in dataset.select(feature_column(dataset, spec)).limit(8).collect() if r[0] is not None]
    try:
        check_custom_metric(fn, np.array(rows, dtype=np.float64) if rows else None)
    except ValueError as exc:
        raise InputError(f"metric: {exc}") from None
