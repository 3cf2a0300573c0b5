"""Checking every model field read from outside the process: saved model metadata and prediction-column metadata.

A saved model or a prediction column's metadata is data that somebody else may have written (models are
shared between teams; column metadata travels with any DataFrame). Nothing in it is imported, evaluated or
executed; every field is checked for type, range and consistency BEFORE it sizes an allocation or reaches a
kernel, so a crafted ``k = 1e13`` or a sparse width of ``1e12`` is an ``InputError`` naming the source and the
field instead of a ``MemoryError`` on the driver or an allocation failure in a worker.

Custom metrics (``custom:<module>.<qualname>``) are resolved only through functions the user provided in
this process (``sparkmed.kernels.custom``): a name is never imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from sparkmed.data.encoding import GOWER_TYPES, KINDS, LAYOUTS, Encoding
from sparkmed.errors import InputError
from sparkmed.kernels import METRICS, PUBLIC_METRICS, kernel_metric_for
from sparkmed.kernels.custom import CUSTOM_PREFIX, resolve_custom

MAX_K = 1_000_000
"""Largest k a loaded model may claim (a fit with more medoids than this is not a clustering)."""
MAX_DIM = 10_000_000
"""Largest row width (features, or encoded layout) a loaded model may claim."""
MAX_VALUES = 100_000_000
"""Largest k × dim a loaded model may claim (800 MB of float64 on the driver)."""


def integer(where: str, field: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int in [lo, hi]; an ``InputError`` naming ``where`` and ``field`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InputError(f"{where}: field '{field}' must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def number(where: str, field: str, value: Any, *, lo: float = -math.inf, positive: bool = False) -> float:
    """``value`` as a finite float ≥ lo (> 0 with ``positive``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= lo
    if not ok or (positive and value <= 0):
        want = "a positive finite number" if positive else f"a finite number ≥ {lo:g}" if lo > -math.inf else \
            "a finite number"
        raise InputError(f"{where}: field '{field}' must be {want}, got {value!r}")
    return float(value)


def string(where: str, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: field '{field}' must be a non-empty string, got {value!r}")
    return value


def string_list(where: str, field: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{where}: field '{field}' must be a list of column names, got {value!r}")
    return value


def _tuple(where: str, field: str, value: Any, length: int, item: Callable[[str, Any], Any]) -> tuple:
    if not isinstance(value, list | tuple) or len(value) != length:
        raise InputError(f"{where}: field '{field}' must be a list of {length} entries, got {value!r:.200}")
    return tuple(item(f"{field}[{i}]", v) for i, v in enumerate(value))


def encoding(where: str, raw: Any, metric: str, dim: int) -> Encoding:
    """The feature encoding of a model, every field checked against the metric and the row width ``dim``."""
    field = "encoding"
    if raw is None or raw == {}:
        raw = {"kind": "dense", "kernel_metric": metric}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: field '{field}' must be an object, got {raw!r:.200}")
    unknown = sorted(set(raw) - set(Encoding.__dataclass_fields__))
    if unknown:
        raise InputError(f"{where}: field '{field}' has unknown entries {unknown}")
    kind = raw.get("kind", "dense")
    if kind not in KINDS:
        raise InputError(f"{where}: field 'encoding.kind' is {kind!r}; valid: {', '.join(KINDS)}")
    kernel = raw.get("kernel_metric", "euclidean")
    if kind == "dense":  # dense rows are labelled with the metric itself (a registry name or custom:...)
        kernel = metric
    else:
        expected = kernel_metric_for(LAYOUTS[kind], metric)
        if not isinstance(kernel, str) or kernel not in METRICS or kernel != expected:
            raise InputError(f"{where}: field 'encoding.kernel_metric' is {kernel!r:.100} but the model's metric "
                             f"'{metric}' on {kind} features means {expected!r}")
    width = integer(where, "encoding.width", raw.get("width", 0), 0, MAX_DIM)
    size = integer(where, "encoding.size", raw.get("size", 0), 0, 2**31 - 1)
    layout = {"dense": None, "sparse": 1 + 2 * width, "set": 1 + width, "gower": 1 + 3 * width}[kind]
    if layout is not None and layout != dim:
        raise InputError(f"{where}: field 'encoding.width' ({width}) does not match the medoid rows' width {dim} "
                         f"for {kind} features")
    if kind == "sparse" and not width <= size:
        raise InputError(f"{where}: field 'encoding.size' ({size}) is smaller than 'encoding.width' ({width})")
    m = width if kind == "gower" else 0
    columns = _tuple(where, "encoding.columns", raw.get("columns", []), m, lambda f, v: string(where, f, v))
    codes = set(GOWER_TYPES.values())

    def gower_type(f: str, v: Any) -> int:
        if isinstance(v, bool) or v not in codes:
            raise InputError(f"{where}: field 'encoding.{f}' must be one of {sorted(codes)}, got {v!r}")
        return int(v)

    types = _tuple(where, "encoding.types", raw.get("types", []), m, gower_type)
    weights = _tuple(where, "encoding.weights", raw.get("weights", []), m,
                     lambda f, v: number(where, f"encoding.{f}", v, positive=True))
    mins = _tuple(where, "encoding.mins", raw.get("mins", []), m, lambda f, v: number(where, f"encoding.{f}", v))
    ranges = _tuple(where, "encoding.ranges", raw.get("ranges", []), m,
                    lambda f, v: number(where, f"encoding.{f}", v, lo=0.0))
    return Encoding(kind, kernel, width, size, columns, types, weights, mins, ranges)


def metric_function(where: str, metric: str, provided: Mapping[str, Callable] | None) -> Callable | None:
    """The user's function for a ``custom:`` metric (registry or ``provided``; never imported), else None."""
    if not metric.startswith(CUSTOM_PREFIX):
        return None
    try:
        return resolve_custom(metric, provided)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def metric_name(where: str, field: str, value: Any) -> str:
    """A metric name as stored: a registry or user-level name, or ``custom:<module>.<qualname>``."""
    if not isinstance(value, str) or not (value in METRICS or value in PUBLIC_METRICS or (
            value.startswith(CUSTOM_PREFIX) and len(value) > len(CUSTOM_PREFIX))):
        raise InputError(f"{where}: field '{field}' is {value!r:.200}, not a known metric")
    return value


def model_shape(where: str, info: Any) -> tuple[int, int]:
    """(k, dim) of a saved model's ``sparkmed`` metadata, in range before anything is allocated."""
    if not isinstance(info, dict):
        raise InputError(f"{where}: field 'sparkmed' must be an object")
    k = integer(where, "sparkmed.k", info.get("k"), 2, MAX_K)
    dim = integer(where, "sparkmed.dim", info.get("dim"), 1, MAX_DIM)
    if k * dim > MAX_VALUES:
        raise InputError(f"{where}: k × dim = {k * dim} is more than {MAX_VALUES} medoid values")
    return k, dim


def cluster_sizes(where: str, info: dict, k: int) -> list[float] | None:
    """The training cluster sizes a saved model recorded (``sparkmed.trainingSummary.clusterSizes``): k
    finite numbers ≥ 0, or None when the model has no training summary (what a warm start's drift compares
    the new sizes with)."""
    summary = info.get("trainingSummary")
    if summary is None:
        return None
    field = "sparkmed.trainingSummary.clusterSizes"
    if not isinstance(summary, dict) or not isinstance(summary.get("clusterSizes"), list) or \
            len(summary["clusterSizes"]) != k:
        raise InputError(f"{where}: field '{field}' must be a list of {k} sizes")
    return [number(where, field, v, lo=0.0) for v in summary["clusterSizes"]]
