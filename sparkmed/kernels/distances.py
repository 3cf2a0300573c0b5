"""Registry of named dissimilarity metrics, and dense dissimilarity-matrix builders.

Every metric is a plain ``@numba.njit(cache=True, fastmath=False)`` scalar function ``(a, b) -> float``
on two 1-D float arrays (float32 or float64; all arithmetic in float64), in the style of a flat registry
(pynndescent's ``distances.py``).  Kernels compiled with ``cache=True`` cannot take first-class function
arguments, so every metric also has an integer *code* and :func:`distance` dispatches on it with an
if-chain: any numba kernel in sparkmed can use any metric by passing ``(code, p)``.

Block kernels (the building blocks of every matrix / assignment kernel)
-----------------------------------------------------------------------
Many points are compared with many targets (medoids, candidates, matrix rows) a block of
:data:`BLOCK_ROWS` points at a time: :func:`load_block` stores the block transposed (``(d, R)``) and
:func:`reduced_block` loops over dimensions and targets outside and over the ``R`` points inside, so the
inner loop is an element-wise update of ``R`` independent accumulators that LLVM vectorises *without*
re-association (``fastmath=False``); per-point selections (nearest medoid, minimum of a set) then also
vectorise across the block.  Each accumulator still sums its ``d`` terms in the order ``t = 0 .. d-1``, so
the result is bit-identical to the scalar metric function.  ``reduced_block`` returns *reduced* distances
(squared euclidean, Minkowski sum of powers, haversine ``h``), which order points exactly like the true
distance; :func:`finalize_reduced` maps a reduced value to the distance (one ``sqrt`` etc.), so kernels
that only need a minimum pay it once per minimum.

Metrics on encoded rows
-----------------------
Sparse vectors (ELL rows ``[nnz, idx (L), values (L)]``), padded sets (``[s, codes (L)]``) and Gower rows
(``[m, types (m), weights (m), values (m)]``) are fixed-length float64 rows too; their metrics (codes
:data:`SPARSE_EUCLIDEAN` .. :data:`GOWER`, scalar functions in :mod:`sparkmed.kernels.encoded`) merge or
scan the layout, and :func:`reduced_block` reaches them through its generic branch (:func:`distance` on the
raw rows), so every kernel supports them.  :func:`check_dimension` checks the layout's length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from sparkmed.kernels.encoded import (
    _cosine_from,
    gower,
    set_dice,
    set_jaccard,
    sparse_cosine,
    sparse_euclidean,
    sparse_jaccard,
    sparse_manhattan,
)

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG) used by :func:`haversine`, in kilometres."""

_DEG = math.pi / 180.0
_INF = math.inf

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

ENCODED_LAYOUTS: dict[str, str] = {
    "sparse_euclidean": "ell",
    "sparse_manhattan": "ell",
    "sparse_cosine": "ell",
    "sparse_jaccard": "ell",
    "set_jaccard": "set",
    "set_dice": "set",
    "gower": "gower",
}
"""Layout of the rows each encoded-row metric reads ("ell", "set" or "gower"; see
:mod:`sparkmed.kernels.encoded`)."""


@dataclass(frozen=True)
class Metric:
    """A named metric of the registry.

    Attributes:
        name: public name, as accepted by every ``metric=`` argument.
        code: integer code passed to :func:`distance` and the numba kernels.
        formula: the definition, in plain text.
        needs_p: whether the metric uses the ``p`` parameter (Minkowski).
        power: the largest power of a coordinate difference the computation forms (2 for sums of squares
            and dot products, 1 for sums of absolute differences, ``p`` for Minkowski, 0 when only counts,
            codes or bounded terms are formed): values of magnitude M keep every intermediate finite while
            ``(2M)^power · d`` does (:func:`overflow_problem`).
        degree: scale degree, d(c·a, c·b) = c^degree · d(a, b) on dense rows (0: scale-free or bounded).
    """

    name: str
    code: int
    formula: str
    needs_p: bool = False
    power: int = 0
    degree: int = 0


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("euclidean", EUCLIDEAN, "sqrt(sum_i (a_i - b_i)^2)", power=2, degree=1),
        Metric("sqeuclidean", SQEUCLIDEAN, "sum_i (a_i - b_i)^2", power=2, degree=2),
        Metric("manhattan", MANHATTAN, "sum_i |a_i - b_i|", power=1, degree=1),
        Metric("cosine", COSINE, "1 - a.b / (|a| |b|); 0 if a = b = 0, 1 if exactly one is 0", power=2),
        Metric("chebyshev", CHEBYSHEV, "max_i |a_i - b_i|", power=1, degree=1),
        Metric("minkowski", MINKOWSKI, "(sum_i |a_i - b_i|^p)^(1/p), p >= 1 (p = inf: chebyshev)", True,
               power=1, degree=1),  # power: p at run time (see overflow_problem)
        Metric(
            "haversine",
            HAVERSINE,
            "2 R asin(sqrt(min(1, sin^2(dlat/2) + cos(lat_a) cos(lat_b) sin^2(dlon/2)))); "
            "a = (lat, lon) in degrees, R = 6371.0088 km",
        ),
        Metric("jaccard", JACCARD, "1 - |a and b| / |a or b| over non-zeros; 0 if both are all-zero"),
        Metric("hamming", HAMMING, "(1/d) #{i : a_i != b_i}"),
        Metric(
            "sparse_euclidean",
            SPARSE_EUCLIDEAN,
            "sqrt(sum_{i in idx(a) u idx(b)} (a_i - b_i)^2); ELL rows [nnz, idx (L), values (L)]",
            power=2,
            degree=1,
        ),
        Metric(
            "sparse_manhattan",
            SPARSE_MANHATTAN,
            "sum_{i in idx(a) u idx(b)} |a_i - b_i|; ELL rows [nnz, idx (L), values (L)]",
            power=1,
            degree=1,
        ),
        Metric(
            "sparse_cosine",
            SPARSE_COSINE,
            "1 - a.b / (|a| |b|); 0 if a = b = 0, 1 if exactly one is 0; ELL rows [nnz, idx (L), values (L)]",
            power=2,
        ),
        Metric(
            "sparse_jaccard",
            SPARSE_JACCARD,
            "1 - |nz(a) n nz(b)| / |nz(a) u nz(b)| (stored zeros are not non-zeros); 0 if both have none; "
            "ELL rows [nnz, idx (L), values (L)]",
        ),
        Metric("set_jaccard", SET_JACCARD, "1 - |A n B| / |A u B|; 0 if both are empty; rows [s, codes (L)]"),
        Metric("set_dice", SET_DICE, "1 - 2 |A n B| / (|A| + |B|); 0 if both are empty; rows [s, codes (L)]"),
        Metric(
            "gower",
            GOWER,
            "sum_j w_j delta_j s_j / sum_j w_j delta_j; delta_j = 0 if a value is missing or an asymmetric "
            "binary pair is 0-0; s_j = min(1, |a_j - b_j|) (numeric, range-scaled) or 1[a_j != b_j]; "
            "0 / 1 (identical / not) if no column counts; rows [m, types (m), weights (m), values (m)]",
        ),
    )
}
"""All metrics, in code order."""

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
"""Names of all metrics, in code order."""


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
    if name == "haversine" and d != 2:
        raise ValueError(f"metric 'haversine' needs d == 2 columns (lat, lon in degrees), got d={d}")
    layout = ENCODED_LAYOUTS.get(name)
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


@numba.njit(cache=True, fastmath=False)
def all_finite(a: np.ndarray) -> bool:
    """Whether a C-contiguous float array holds no NaN / inf. O(size), one pass, no temporary.

    ``v - v`` is 0 for finite ``v`` and NaN otherwise; the boolean OR reduction vectorises.
    """
    flat = a.reshape(-1)
    bad = False
    for i in range(flat.shape[0]):
        v = flat[i]
        bad |= (v - v) != 0.0
    return not bad


def as_points(X: object, arg: str, *, min_rows: int = 0) -> np.ndarray:
    """``X`` as a C-contiguous 2-D float32/float64 array of finite values (other dtypes -> float64).

    Raises:
        ValueError: naming ``arg``, if ``X`` is not 2-D, has fewer than ``min_rows`` rows, or is not finite.
    """
    A = np.asarray(X)
    if A.ndim != 2:
        raise ValueError(f"{arg} must be a 2-D array (n, d), got shape {A.shape}")
    if A.dtype != np.float32 and A.dtype != np.float64:
        if not (np.issubdtype(A.dtype, np.number) or A.dtype == np.bool_) or np.iscomplexobj(A):
            raise ValueError(f"{arg} must hold real numbers, got dtype {A.dtype}")
        A = A.astype(np.float64)
    if A.shape[0] < min_rows:
        raise ValueError(f"{arg} needs at least {min_rows} row(s), got {A.shape[0]}")
    A = np.ascontiguousarray(A)
    if not all_finite(A):
        raise ValueError(f"{arg} contains NaN or infinite values")
    return A


def as_weights(weights: object, n: int) -> np.ndarray:
    """Per-row weights as a contiguous float64 ``(n,)`` array; ``None`` means all ones.

    Raises:
        ValueError: wrong shape, non-finite or negative weights.
    """
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = np.ascontiguousarray(np.asarray(weights, dtype=np.float64))
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not all_finite(w):
        raise ValueError("weights contains NaN or infinite values")
    if (w < 0).any():
        raise ValueError("weights must be non-negative")
    return w


def check_same_dim(X: np.ndarray, Y: np.ndarray, xarg: str, yarg: str) -> None:
    """Raise ValueError unless ``X`` and ``Y`` have the same number of columns."""
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"{xarg} and {yarg} must have the same dimension d, got {X.shape[-1]} and {Y.shape[-1]}"
        )


# ----------------------------------------------------------------------------------------------------
# Scalar helpers shared by the metrics and the row kernels (so both give bit-identical results);
# ``_cosine_from`` (cosine from a.b, |a|^2, |b|^2) lives in ``encoded`` (shared with sparse_cosine)
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def _haversine_h(lat1: float, lon1: float, cos1: float, lat2: float, lon2: float, cos2: float) -> float:
    """Haversine ``h = sin^2(dlat/2) + cos(lat1) cos(lat2) sin^2(dlon/2)`` (angles in radians)."""
    s1 = math.sin((lat2 - lat1) * 0.5)
    s2 = math.sin((lon2 - lon1) * 0.5)
    return s1 * s1 + (cos1 * cos2) * (s2 * s2)


@numba.njit(cache=True, fastmath=False)
def finalize_reduced(code: int, r: float, p: float) -> float:
    """Map a reduced distance (see :func:`reduced_block`) to the distance. O(1).

    euclidean: ``sqrt(r)``; minkowski: ``r^(1/p)``; haversine: ``2 R asin(sqrt(clamp(h, 0, 1)))``;
    every other metric (the encoded-row metrics too): ``r`` itself.
    """
    if code == EUCLIDEAN:
        return math.sqrt(r)
    if code == MINKOWSKI:
        if p == _INF or r == 0.0:
            return r
        return r ** (1.0 / p)
    if code == HAVERSINE:
        h = min(max(r, 0.0), 1.0)
        return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
    return r


# ----------------------------------------------------------------------------------------------------
# The metrics
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def sqeuclidean(a: np.ndarray, b: np.ndarray) -> float:
    """Squared euclidean distance ``sum_i (a_i - b_i)^2``. O(d)."""
    s = 0.0
    for t in range(a.shape[0]):
        diff = np.float64(a[t]) - np.float64(b[t])
        s += diff * diff
    return s


@numba.njit(cache=True, fastmath=False)
def euclidean(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance ``sqrt(sum_i (a_i - b_i)^2)``. O(d)."""
    return math.sqrt(sqeuclidean(a, b))


@numba.njit(cache=True, fastmath=False)
def manhattan(a: np.ndarray, b: np.ndarray) -> float:
    """Manhattan (city-block, L1) distance ``sum_i |a_i - b_i|``. O(d)."""
    s = 0.0
    for t in range(a.shape[0]):
        s += abs(np.float64(a[t]) - np.float64(b[t]))
    return s


@numba.njit(cache=True, fastmath=False)
def chebyshev(a: np.ndarray, b: np.ndarray) -> float:
    """Chebyshev (L-infinity) distance ``max_i |a_i - b_i|``. O(d)."""
    m = 0.0
    for t in range(a.shape[0]):
        v = abs(np.float64(a[t]) - np.float64(b[t]))
        m = max(m, v)
    return m


@numba.njit(cache=True, fastmath=False)
def minkowski(a: np.ndarray, b: np.ndarray, p: float = 2.0) -> float:
    """Minkowski distance ``(sum_i |a_i - b_i|^p)^(1/p)`` for ``p >= 1``; ``p = inf`` is chebyshev. O(d).

    Plain (unscaled) power sum, as scipy's ``minkowski``: it overflows only when some
    ``|a_i - b_i|^p`` exceeds ~1e308.
    """
    if p == _INF:
        return chebyshev(a, b)
    s = 0.0
    for t in range(a.shape[0]):
        s += abs(np.float64(a[t]) - np.float64(b[t])) ** p
    return finalize_reduced(MINKOWSKI, s, p)


@numba.njit(cache=True, fastmath=False)
def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine distance ``1 - a.b / (|a| |b|)``, clamped to [0, 2]. O(d).

    Defined as 0 when both vectors are zero and 1 when exactly one is.  A vector whose squared norm
    underflows to 0 (every ``|a_i| < ~1e-162``) counts as the zero vector.
    """
    dot = 0.0
    na = 0.0
    nb = 0.0
    for t in range(a.shape[0]):
        x = np.float64(a[t])
        y = np.float64(b[t])
        dot += x * y
        na += x * x
        nb += y * y
    return _cosine_from(dot, na, nb)


@numba.njit(cache=True, fastmath=False)
def haversine(a: np.ndarray, b: np.ndarray) -> float:
    """Great-circle distance in km between ``a = (lat, lon)`` and ``b`` given in DEGREES. O(1).

    ``h = sin^2((lat_b - lat_a)/2) + cos(lat_a) cos(lat_b) sin^2((lon_b - lon_a)/2)``,
    ``d = 2 R asin(sqrt(min(1, h)))`` with ``R = 6371.0088`` km (the asin form is accurate for small
    distances; the clamp guards against ``h`` rounding above 1 near antipodes).
    """
    lat1 = np.float64(a[0]) * _DEG
    lat2 = np.float64(b[0]) * _DEG
    h = _haversine_h(
        lat1, np.float64(a[1]) * _DEG, math.cos(lat1), lat2, np.float64(b[1]) * _DEG, math.cos(lat2)
    )
    return finalize_reduced(HAVERSINE, h, 0.0)


@numba.njit(cache=True, fastmath=False)
def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard distance of binary vectors ``1 - |a and b| / |a or b|`` (non-zero = 1). O(d).

    Computed as ``#{a_i xor b_i} / #{a_i or b_i}``; 0 when both vectors are all-zero.
    """
    union = 0
    inter = 0
    for t in range(a.shape[0]):
        x = a[t] != 0
        y = b[t] != 0
        if x or y:
            union += 1
            if x and y:
                inter += 1
    if union == 0:
        return 0.0
    return (union - inter) / union


@numba.njit(cache=True, fastmath=False)
def hamming(a: np.ndarray, b: np.ndarray) -> float:
    """Hamming distance: fraction of differing coordinates ``(1/d) #{i : a_i != b_i}``. O(d)."""
    count = 0.0
    for t in range(a.shape[0]):
        if np.float64(a[t]) != np.float64(b[t]):
            count += 1.0
    return count / a.shape[0]


@numba.njit(cache=True, fastmath=False)
def distance(code: int, a: np.ndarray, b: np.ndarray, p: float) -> float:
    """Distance between ``a`` and ``b`` under the metric with integer ``code`` (``p``: Minkowski). O(d).

    An if-chain dispatch, so kernels compiled with ``cache=True`` can use any metric (the encoded-row
    metrics, codes >= :data:`SPARSE_EUCLIDEAN`, after the dense ones).  Returns NaN for an unknown code
    (the Python wrappers validate codes first).
    """
    if code == EUCLIDEAN:
        return euclidean(a, b)
    if code == SQEUCLIDEAN:
        return sqeuclidean(a, b)
    if code == MANHATTAN:
        return manhattan(a, b)
    if code == COSINE:
        return cosine(a, b)
    if code == CHEBYSHEV:
        return chebyshev(a, b)
    if code == MINKOWSKI:
        return minkowski(a, b, p)
    if code == HAVERSINE:
        return haversine(a, b)
    if code == JACCARD:
        return jaccard(a, b)
    if code == HAMMING:
        return hamming(a, b)
    if code == SPARSE_EUCLIDEAN:
        return sparse_euclidean(a, b)
    if code == SPARSE_MANHATTAN:
        return sparse_manhattan(a, b)
    if code == SPARSE_COSINE:
        return sparse_cosine(a, b)
    if code == SPARSE_JACCARD:
        return sparse_jaccard(a, b)
    if code == SET_JACCARD:
        return set_jaccard(a, b)
    if code == SET_DICE:
        return set_dice(a, b)
    if code == GOWER:
        return gower(a, b)
    return math.nan


# ----------------------------------------------------------------------------------------------------
# Block kernels: a block of rows against a tile of targets
# ----------------------------------------------------------------------------------------------------

BLOCK_ROWS = 64
"""Rows per block: the SIMD axis of :func:`reduced_block`."""

TARGET_TILE = 128
"""Targets per tile: bounds the (tile, BLOCK_ROWS) float64 scratch of a block to 64 KiB."""


@numba.njit(cache=True, fastmath=False)
def prepare_targets(code: int, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float64 copy of the targets ``Y`` (m, d) for :func:`reduced_block`. O(m d).

    Returns ``(Yp, aux)``: ``Yp`` (m, d) is ``Y`` in float64 (for haversine: in radians), and ``aux``
    (m,) holds ``|y|^2`` for cosine and ``cos(lat)`` for haversine (zeros otherwise).
    """
    m, d = Y.shape
    Yp = np.empty((m, d), dtype=np.float64)
    aux = np.zeros(m, dtype=np.float64)
    for j in range(m):
        for t in range(d):
            Yp[j, t] = np.float64(Y[j, t])
        if code == HAVERSINE:
            Yp[j, 0] = Yp[j, 0] * _DEG
            Yp[j, 1] = Yp[j, 1] * _DEG
            aux[j] = math.cos(Yp[j, 0])
        elif code == COSINE:
            s = 0.0
            for t in range(d):
                s += Yp[j, t] * Yp[j, t]
            aux[j] = s
    return Yp, aux


@numba.njit(cache=True, fastmath=False)
def new_block(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed scratch ``(XbT (d, BLOCK_ROWS), xaux (BLOCK_ROWS,))`` for :func:`load_block`."""
    return np.zeros((d, BLOCK_ROWS), dtype=np.float64), np.zeros(BLOCK_ROWS, dtype=np.float64)


@numba.njit(cache=True, fastmath=False)
def load_block(code: int, X: np.ndarray, i0: int, nr: int, XbT: np.ndarray, xaux: np.ndarray) -> None:
    """Load rows ``X[i0:i0+nr]`` transposed into ``XbT`` (d, R) as float64, plus their ``xaux``
    (``|x|^2`` for cosine, ``cos(lat)`` for haversine, whose ``XbT`` is in radians). O(nr d).

    Columns ``r >= nr`` keep the (finite) values of an earlier block; their results are ignored.
    """
    d = X.shape[1]
    for r in range(nr):
        for t in range(d):
            XbT[t, r] = np.float64(X[i0 + r, t])
        if code == HAVERSINE:
            XbT[0, r] = XbT[0, r] * _DEG
            XbT[1, r] = XbT[1, r] * _DEG
            xaux[r] = math.cos(XbT[0, r])
        elif code == COSINE:
            s = 0.0
            for t in range(d):
                s += XbT[t, r] * XbT[t, r]
            xaux[r] = s


@numba.njit(cache=True, fastmath=False)
def reduced_block(
    code: int,
    X: np.ndarray,
    i0: int,
    nr: int,
    XbT: np.ndarray,
    xaux: np.ndarray,
    Y: np.ndarray,
    Yp: np.ndarray,
    aux: np.ndarray,
    p: float,
    j0: int,
    j1: int,
    out: np.ndarray,
) -> None:
    """Reduced distances of a block of rows to the targets ``j0 <= j < j1``. O((j1 - j0) R d).

    Writes ``out[j - j0, r]`` for the rows ``X[i0 + r]``, ``r < nr``, loaded by :func:`load_block`
    into ``(XbT, xaux)``; ``Y`` is the original (m, d) target array and ``(Yp, aux)`` come from
    :func:`prepare_targets`.  Reduced value per metric: euclidean -> squared distance;
    minkowski -> ``sum |diff|^p``; haversine -> ``h``; all others -> the distance itself.  Each value
    sums its ``d`` terms in the order of :func:`distance`, so :func:`finalize_reduced` of it is
    bit-identical to :func:`distance`.  The innermost loops run over the ``R`` rows of the block
    (element-wise, no re-association), which LLVM vectorises.
    """
    d = XbT.shape[0]
    R = XbT.shape[1]
    mt = j1 - j0
    for jj in range(mt):
        for r in range(R):
            out[jj, r] = 0.0
    if code in (EUCLIDEAN, SQEUCLIDEAN):
        for t in range(d):
            xr = XbT[t]
            for jj in range(mt):
                y = Yp[j0 + jj, t]
                acc = out[jj]
                for r in range(R):
                    diff = xr[r] - y
                    acc[r] += diff * diff
    elif code == MANHATTAN:
        for t in range(d):
            xr = XbT[t]
            for jj in range(mt):
                y = Yp[j0 + jj, t]
                acc = out[jj]
                for r in range(R):
                    acc[r] += abs(xr[r] - y)
    elif code == CHEBYSHEV or (code == MINKOWSKI and p == _INF):
        for t in range(d):
            xr = XbT[t]
            for jj in range(mt):
                y = Yp[j0 + jj, t]
                acc = out[jj]
                for r in range(R):
                    v = abs(xr[r] - y)
                    acc[r] = v if v > acc[r] else acc[r]
    elif code == MINKOWSKI:
        for t in range(d):
            xr = XbT[t]
            for jj in range(mt):
                y = Yp[j0 + jj, t]
                acc = out[jj]
                for r in range(R):
                    acc[r] += abs(xr[r] - y) ** p
    elif code == HAMMING:
        for t in range(d):
            xr = XbT[t]
            for jj in range(mt):
                y = Yp[j0 + jj, t]
                acc = out[jj]
                for r in range(R):
                    acc[r] += 1.0 if xr[r] != y else 0.0
        for jj in range(mt):
            for r in range(R):
                out[jj, r] = out[jj, r] / d
    elif code == COSINE:
        for t in range(d):
            xr = XbT[t]
            for jj in range(mt):
                y = Yp[j0 + jj, t]
                acc = out[jj]
                for r in range(R):
                    acc[r] += xr[r] * y
        for jj in range(mt):
            for r in range(R):
                out[jj, r] = _cosine_from(out[jj, r], xaux[r], aux[j0 + jj])
    elif code == HAVERSINE:
        for jj in range(mt):
            j = j0 + jj
            for r in range(R):
                out[jj, r] = _haversine_h(XbT[0, r], XbT[1, r], xaux[r], Yp[j, 0], Yp[j, 1], aux[j])
    else:
        for jj in range(mt):
            for r in range(nr):
                out[jj, r] = distance(code, X[i0 + r], Y[j0 + jj], p)


# ----------------------------------------------------------------------------------------------------
# Matrix builders
# ----------------------------------------------------------------------------------------------------

_TILE = 64  # tile edge for the blocked mirror copy


@numba.njit(cache=True, fastmath=False)
def _pairwise_upper_block(
    code: int, X: np.ndarray, Xp: np.ndarray, aux: np.ndarray, p: float, b: int, out: np.ndarray
) -> None:
    """Fill ``out[i, i:]`` for the rows ``i`` of block ``b``: zero diagonal, distances to ``j > i``."""
    n, d = X.shape
    i0 = b * BLOCK_ROWS
    nr = min(BLOCK_ROWS, n - i0)
    XbT, xaux = new_block(d)
    buf = np.empty((TARGET_TILE, BLOCK_ROWS), dtype=np.float64)
    load_block(code, X, i0, nr, XbT, xaux)
    for j0 in range(i0 + 1, n, TARGET_TILE):
        j1 = min(n, j0 + TARGET_TILE)
        reduced_block(code, X, i0, nr, XbT, xaux, X, Xp, aux, p, j0, j1, buf)
        for r in range(nr):
            i = i0 + r
            for j in range(max(j0, i + 1), j1):
                out[i, j] = finalize_reduced(code, buf[j - j0, r], p)
    for r in range(nr):
        out[i0 + r, i0 + r] = 0.0


@numba.njit(cache=True, parallel=True, fastmath=False)
def _mirror_upper(out: np.ndarray) -> None:
    """Copy the strict upper triangle of square ``out`` onto the lower one, in cache-sized tiles."""
    n = out.shape[0]
    nt = (n + _TILE - 1) // _TILE
    for bi in numba.prange(nt):
        i0 = bi * _TILE
        i1 = min(n, i0 + _TILE)
        for bj in range(bi + 1):
            j0 = bj * _TILE
            j1 = min(n, j0 + _TILE)
            for i in range(i0, i1):
                for j in range(j0, min(j1, i)):
                    out[i, j] = out[j, i]


@numba.njit(cache=True, parallel=True, fastmath=False)
def _pairwise_kernel(code: int, X: np.ndarray, p: float, out: np.ndarray) -> None:
    """Dense symmetric dissimilarity matrix of the rows of ``X`` into ``out``. O(n^2 d / 2).

    Row block ``b`` is paired with block ``nb-1-b`` so every parallel task does about the same work.
    """
    n = X.shape[0]
    Xp, aux = prepare_targets(code, X)
    nb = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    for b in numba.prange((nb + 1) // 2):
        _pairwise_upper_block(code, X, Xp, aux, p, b, out)
        if nb - 1 - b != b:
            _pairwise_upper_block(code, X, Xp, aux, p, nb - 1 - b, out)
    _mirror_upper(out)


@numba.njit(cache=True, parallel=True, fastmath=False)
def _cross_kernel(code: int, X: np.ndarray, Y: np.ndarray, p: float, out: np.ndarray) -> None:
    """Rectangular dissimilarities ``out[i, j] = d(X[i], Y[j])``. O(n m d), parallel over row blocks."""
    n, d = X.shape
    m = Y.shape[0]
    Yp, aux = prepare_targets(code, Y)
    nb = (n + BLOCK_ROWS - 1) // BLOCK_ROWS
    for b in numba.prange(nb):
        i0 = b * BLOCK_ROWS
        nr = min(BLOCK_ROWS, n - i0)
        XbT, xaux = new_block(d)
        buf = np.empty((TARGET_TILE, BLOCK_ROWS), dtype=np.float64)
        load_block(code, X, i0, nr, XbT, xaux)
        for j0 in range(0, m, TARGET_TILE):
            j1 = min(m, j0 + TARGET_TILE)
            reduced_block(code, X, i0, nr, XbT, xaux, Y, Yp, aux, p, j0, j1, buf)
            for r in range(nr):
                for j in range(j0, j1):
                    out[i0 + r, j] = finalize_reduced(code, buf[j - j0, r], p)


def _check_dtype(dtype: object) -> np.dtype:
    """The output dtype as a numpy dtype; only float32 and float64 are allowed."""
    dt = np.dtype(dtype)
    if dt != np.float32 and dt != np.float64:
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def pairwise(
    X: np.ndarray, metric: str = "euclidean", *, p: float = 2.0, dtype: object = np.float32
) -> np.ndarray:
    """Dense ``(n, n)`` dissimilarity matrix of the rows of ``X`` (float32 by default).

    Parallel over rows; each unordered pair is computed once (in float64) and mirrored, and the diagonal
    is exactly zero.  Cost O(n^2 d / 2), memory n^2 * itemsize.

    Raises:
        ValueError: unknown metric, bad ``p``/dimension/dtype, or ``X`` not a finite 2-D array.
    """
    if callable(metric):  # a user's numba function: see kernels.custom
        from sparkmed.kernels import custom

        return custom.pairwise(metric, as_points(X, "X"), dtype=_check_dtype(dtype))
    A = as_points(X, "X")
    code = resolve_metric(metric, p, A.shape[1])
    out = np.empty((A.shape[0], A.shape[0]), dtype=_check_dtype(dtype))
    _pairwise_kernel(code, A, float(p), out)
    return out


def cross(
    X: np.ndarray, Y: np.ndarray, metric: str = "euclidean", *, p: float = 2.0, dtype: object = np.float64
) -> np.ndarray:
    """Rectangular ``(n, m)`` dissimilarities ``d(X[i], Y[j])`` (float64 by default). O(n m d), parallel.

    Raises:
        ValueError: unknown metric, bad ``p``/dimension/dtype, non-finite or non-2-D inputs, or
            ``X`` and ``Y`` of different dimension.
    """
    if callable(metric):  # a user's numba function: see kernels.custom
        from sparkmed.kernels import custom

        return custom.cross(metric, as_points(X, "X"), as_points(Y, "Y"), dtype=_check_dtype(dtype))
    A = as_points(X, "X")
    B = as_points(Y, "Y")
    check_same_dim(A, B, "X", "Y")
    code = resolve_metric(metric, p, A.shape[1])
    out = np.empty((A.shape[0], B.shape[0]), dtype=_check_dtype(dtype))
    _cross_kernel(code, A, B, float(p), out)
    return out
