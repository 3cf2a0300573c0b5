"""The metric registry: every named dissimilarity, its integer code and its properties, in one table.

Kernels compiled with ``cache=True`` cannot take first-class function arguments, so every metric has an
integer *code* (its position in :data:`METRICS`) and the numba kernels branch on it
(:func:`sparkmed.kernels.dispatch.distance`, the block engine, the pruned swap deltas).  Everything else a
caller needs to know about a metric is a field of its :class:`Metric` entry, so every list of metric names
(the public ``metric=`` values, the metrics of each row layout, the scale-homogeneous and the prunable
metrics) is derived from this table instead of being written down again.

Adding a dense metric: one :class:`Metric` line here, its scalar function in :mod:`sparkmed.kernels.dense`,
its branch in :func:`~sparkmed.kernels.dispatch.distance` (a code without a branch raises there), and its
naive reference in ``tests/naive_metrics.py``.

This module is plain Python (no numba): the Spark driver validates parameters with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EUCLIDEAN = 0
SQEUCLIDEAN = 1
MANHATTAN = 2
COSINE = 3
CHEBYSHEV = 4
MINKOWSKI = 5
HAVERSINE = 6
JACCARD = 7
HAMMING = 8
SPARSE_EUCLIDEAN = 9
SPARSE_MANHATTAN = 10
SPARSE_COSINE = 11
SPARSE_JACCARD = 12
SET_JACCARD = 13
SET_DICE = 14
GOWER = 15

LAYOUTS: dict[str, str] = {
    "dense": "dense",
    "ell": "sparse",
    "set": "sets",
    "gower": "mixed",
}
"""Row layouts a metric can read, with a short label for help texts: dense vectors, ELL sparse vectors,
padded sets, Gower rows of mixed tables (see :mod:`sparkmed.kernels.encoded` for the encoded ones)."""


@dataclass(frozen=True)
class Metric:
    """A named metric of the registry.

    Attributes:
        name: registry name, as accepted by every kernel's ``metric=`` argument.
        code: integer code passed to the numba kernels (the entry's position in :data:`METRICS`).
        summary: a few words for help texts (:func:`describe_metrics`).
        formula: the definition, in plain text.
        layout: the rows it reads: a key of :data:`LAYOUTS`.
        selects: the public metric name (:data:`PUBLIC_METRICS`) that selects this metric for its layout
            (``sparse_euclidean`` is what ``metric="euclidean"`` means on sparse vectors).
        needs_p: whether the metric uses the ``p`` parameter (Minkowski).
        power: the largest power of a coordinate difference the computation forms (2 for sums of squares
            and dot products, 1 for sums of absolute differences, ``p`` for Minkowski, 0 when only counts,
            codes or bounded terms are formed): values of magnitude M keep every intermediate finite while
            ``(2M)^power · d`` does (:func:`overflow_problem`).
        degree: scale degree, d(c·a, c·b) = c^degree · d(a, b) on dense rows (0: scale-free or bounded).
        prunable: the triangle inequality holds, so the pruned swap-delta kernel is exact for it
            (:mod:`sparkmed.kernels.swap_pruned`, which must have a branch for it).
        dimension: the only dimension it accepts (haversine: 2), or 0 for any the layout allows.
    """

    name: str
    code: int
    summary: str
    formula: str
    layout: str = "dense"
    selects: str = ""
    needs_p: bool = False
    power: int = 0
    degree: int = 0
    prunable: bool = False
    dimension: int = 0

    @property
    def public_name(self) -> str:
        """The public name selecting this metric (its own name for a dense metric)."""
        return self.selects or self.name


_ELL = "ELL rows [nnz, idx (L), values (L)]"

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("euclidean", EUCLIDEAN, "L2", "sqrt(sum_i (a_i - b_i)^2)", power=2,
               degree=1, prunable=True),
        Metric("sqeuclidean", SQEUCLIDEAN, "squared L2", "sum_i (a_i - b_i)^2", power=2, degree=2),
        Metric("manhattan", MANHATTAN, "L1", "sum_i |a_i - b_i|", power=1, degree=1,
               prunable=True),
        Metric("cosine", COSINE, "1 - cosine similarity",
               "1 - a.b / (|a| |b|); 0 if a = b = 0, 1 if exactly one is 0", power=2),
        Metric("chebyshev", CHEBYSHEV, "L-infinity", "max_i |a_i - b_i|", power=1, degree=1,
               prunable=True),
        Metric("minkowski", MINKOWSKI, "Lp, p >= 1",
               "(sum_i |a_i - b_i|^p)^(1/p), p >= 1 (p = inf: chebyshev)", needs_p=True,
               power=1, degree=1, prunable=True),  # power: p at run time (see overflow_problem)
        Metric(
            "haversine",
            HAVERSINE,
            "great-circle km, lat/lon in degrees",
            "2 R asin(sqrt(min(1, sin^2(dlat/2) + cos(lat_a) cos(lat_b) sin^2(dlon/2)))); "
            "a = (lat, lon) in degrees, R = 6371.0088 km",
            prunable=True,
            dimension=2,
        ),
        Metric("jaccard", JACCARD, "of the non-zero patterns",
               "1 - |a and b| / |a or b| over non-zeros; 0 if both are all-zero", prunable=True),
        Metric("hamming", HAMMING, "share of differing coordinates", "(1/d) #{i : a_i != b_i}",
               prunable=True),
        Metric(
            "sparse_euclidean",
            SPARSE_EUCLIDEAN,
            "L2",
            f"sqrt(sum_{{i in idx(a) u idx(b)}} (a_i - b_i)^2); {_ELL}",
            layout="ell",
            selects="euclidean",
            power=2,
            degree=1,
        ),
        Metric(
            "sparse_manhattan",
            SPARSE_MANHATTAN,
            "L1",
            f"sum_{{i in idx(a) u idx(b)}} |a_i - b_i|; {_ELL}",
            layout="ell",
            selects="manhattan",
            power=1,
            degree=1,
        ),
        Metric(
            "sparse_cosine",
            SPARSE_COSINE,
            "1 - cosine similarity",
            f"1 - a.b / (|a| |b|); 0 if a = b = 0, 1 if exactly one is 0; {_ELL}",
            layout="ell",
            selects="cosine",
            power=2,
        ),
        Metric(
            "sparse_jaccard",
            SPARSE_JACCARD,
            "of the non-zero patterns",
            "1 - |nz(a) n nz(b)| / |nz(a) u nz(b)| (stored zeros are not non-zeros); 0 if both have none; "
            f"{_ELL}",
            layout="ell",
            selects="jaccard",
        ),
        Metric("set_jaccard", SET_JACCARD, "of sets",
               "1 - |A n B| / |A u B|; 0 if both are empty; rows [s, codes (L)]", layout="set", selects="jaccard"),
        Metric("set_dice", SET_DICE, "of sets",
               "1 - 2 |A n B| / (|A| + |B|); 0 if both are empty; rows [s, codes (L)]", layout="set",
               selects="dice"),
        Metric(
            "gower",
            GOWER,
            "numeric and categorical columns",
            "sum_j w_j delta_j s_j / sum_j w_j delta_j; delta_j = 0 if a value is missing or an asymmetric "
            "binary pair is 0-0; s_j = min(1, |a_j - b_j|) (numeric, range-scaled) or 1[a_j != b_j]; "
            "0 / 1 (identical / not) if no column counts; rows [m, types (m), weights (m), values (m)]",
            layout="gower",
            selects="gower",
        ),
    )
}
"""All metrics, in code order."""

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
"""Names of all registry metrics, in code order."""

PUBLIC_METRICS: tuple[str, ...] = tuple(dict.fromkeys(m.public_name for m in METRICS.values()))
"""The names a user passes as ``metric=`` (each selects one registry metric per layout), in registry order."""

PRUNABLE_METRICS: tuple[str, ...] = tuple(m.name for m in METRICS.values() if m.prunable)
"""Metrics for which the triangle inequality holds (the pruned swap-delta kernel is exact for them)."""

if [m.code for m in METRICS.values()] != list(range(len(METRICS))):  # pragma: no cover - a registry typo
    raise RuntimeError("metric codes must be the positions 0..n-1 of the METRICS entries")
if any(m.layout not in LAYOUTS for m in METRICS.values()):  # pragma: no cover
    raise RuntimeError("every metric's layout must be a key of LAYOUTS")


# ----------------------------------------------------------------------------------------------------
# Queries of the registry
# ----------------------------------------------------------------------------------------------------


def _check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; valid layouts: {', '.join(LAYOUTS)}")


def kernel_metric_for(layout: str, public: str) -> str | None:
    """The registry metric of ``layout`` that the public name ``public`` selects, or None.

    ``("ell", "euclidean")`` -> ``"sparse_euclidean"``, ``("dense", "cosine")`` -> ``"cosine"``,
    ``("dense", "dice")`` -> None.

    Raises:
        ValueError: an unknown layout (not a key of :data:`LAYOUTS`).
    """
    _check_layout(layout)
    for m in METRICS.values():
        if m.layout == layout and m.public_name == public:
            return m.name
    return None


def public_metrics_for(layout: str) -> tuple[str, ...]:
    """The public metric names accepted on rows of ``layout``, in registry order (``"set"`` ->
    ``("jaccard", "dice")``).

    Raises:
        ValueError: an unknown layout.
    """
    _check_layout(layout)
    return tuple(m.public_name for m in METRICS.values() if m.layout == layout)


def describe_metrics() -> str:
    """One line for help texts: every public metric with a short summary and the layouts accepting it."""
    parts = []
    for public in PUBLIC_METRICS:
        entries = [m for m in METRICS.values() if m.public_name == public]
        layouts = ", ".join(LAYOUTS[m.layout] for m in entries)
        parts.append(f"{public} ({entries[0].summary}; {layouts})")
    return ", ".join(parts)


# ----------------------------------------------------------------------------------------------------
# Python-side validation
# ----------------------------------------------------------------------------------------------------


def metric_code(name: str) -> int:
    """Integer code of the metric called ``name``.

    Raises:
        ValueError: for an unknown name; the message names the value and lists every valid name.
    """
    metric = METRICS.get(name) if isinstance(name, str) else None
    if metric is None:
        valid = ", ".join(sorted(METRIC_NAMES))
        raise ValueError(f"unknown metric {name!r}; valid metrics: {valid}")
    return metric.code


def check_metric_params(name: str, p: float) -> None:
    """Check the metric parameter: Minkowski needs ``p >= 1`` (``inf`` allowed); others ignore ``p``.

    Raises:
        ValueError: unknown metric, or a Minkowski ``p`` that is NaN or below 1.
    """
    metric_code(name)
    if METRICS[name].needs_p:
        try:
            pf = float(p)
        except (TypeError, ValueError):
            raise ValueError(f"metric {name!r} needs a real parameter p >= 1, got p={p!r}") from None
        if not pf >= 1.0:  # also rejects NaN
            raise ValueError(f"metric {name!r} needs p >= 1, got p={p!r}")


def check_dimension(name: str, d: int) -> None:
    """Check that metric ``name`` is defined for points of dimension ``d``.

    Every metric needs ``d >= 1``; haversine needs ``d == 2`` (latitude, longitude in degrees); the
    encoded-row metrics need the length of their layout: ELL rows ``1 + 2L`` (odd, >= 3), set rows ``1 + L``
    (>= 2), Gower rows ``1 + 3m`` (>= 4).

    Raises:
        ValueError: a dimension the metric does not accept.
    """
    metric_code(name)
    if d < 1:
        raise ValueError(f"metric {name!r} needs points of dimension >= 1, got d={d}")
    metric = METRICS[name]
    if metric.dimension and d != metric.dimension:
        raise ValueError(f"metric 'haversine' needs d == 2 columns (lat, lon in degrees), got d={d}")
    layout = metric.layout
    if layout == "ell" and (d < 3 or d % 2 == 0):
        raise ValueError(
            f"metric {name!r} needs ELL sparse rows [nnz, idx_1..idx_L, val_1..val_L] of length 1 + 2L "
            f"(odd, >= 3), got d={d}"
        )
    if layout == "set" and d < 2:
        raise ValueError(f"metric {name!r} needs padded set rows [s, c_1..c_L] of length 1 + L (>= 2), got d={d}")
    if layout == "gower" and (d < 4 or (d - 1) % 3 != 0):
        raise ValueError(
            f"metric {name!r} needs Gower rows [m, types (m), weights (m), values (m)] of length 1 + 3m "
            f"(>= 4), got d={d}"
        )


FLOAT64_HEADROOM_LOG10 = 307.0
"""Every intermediate and total must stay below 10^307 (float64 holds 1.8e308: a little room for sums)."""


def overflow_problem(name: str, p: float, d: int, max_abs: float, total_weight: float) -> str | None:
    """Why float64 would overflow on data with values up to ``max_abs`` in ``d`` dimensions, or None.

    Two bounds, in log10 so the check itself cannot overflow: every intermediate ``(2M)^power · d`` (the
    largest coordinate difference raised to the metric's power, summed over d) and the total cost
    ``total_weight · D_max`` with ``D_max <= (2M)^degree · d`` (bounded metrics: ``D_max <= 2·10^4``,
    haversine's half circumference in km). Values of 1e±150 pass for euclidean at moderate d.
    """
    metric = METRICS[name]
    power = (float(p) if math.isfinite(p) else 1.0) if metric.needs_p else float(metric.power)
    if max_abs <= 0 or not math.isfinite(max_abs):
        return None if max_abs == 0 else f"feature values reach {max_abs!r}"
    lg = math.log10(2.0 * max_abs)
    if power and power * lg + math.log10(d) > FLOAT64_HEADROOM_LOG10:
        return (f"values up to {max_abs:.3g} in {d} dimensions overflow float64 in metric '{name}' (it forms "
                f"power-{power:g} terms of the values)")
    d_max = metric.degree * lg + math.log10(d) if metric.degree else math.log10(2e4)
    if total_weight > 0 and math.log10(total_weight) + d_max > FLOAT64_HEADROOM_LOG10:
        return (f"values up to {max_abs:.3g} and a total weight of {total_weight:.3g} can make the total "
                "cost overflow float64")
    return None


def resolve_metric(name: str, p: float, d: int) -> int:
    """Validate ``name``, ``p`` and the dimension ``d`` together; return the metric code."""
    code = metric_code(name)
    check_metric_params(name, p)
    check_dimension(name, d)
    return code
