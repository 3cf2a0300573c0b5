"""Scalar metrics on dense vectors, and the scalar pieces the block engine shares with them.

Every metric is a plain ``@numba.njit(cache=True, fastmath=False)`` function ``(a, b) -> float`` on two 1-D
float arrays (float32 or float64; all arithmetic in float64), in the style of a flat registry
(pynndescent's ``distances.py``); its registry entry (code, formula, properties) is in
:mod:`sparkmed.kernels.metrics`.  Each is O(d).

The helpers :func:`cosine_from`, :func:`haversine_h`, :func:`haversine_from_h` and :func:`minkowski_root`
are the last steps of a metric, shared with the block engine (:mod:`sparkmed.kernels.block_engine`) and the
sparse cosine, so that every path computes bit-identical distances.
"""

from __future__ import annotations

import math

import numba
import numpy as np

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG) used by :func:`haversine`, in kilometres."""

DEG = math.pi / 180.0
"""Degrees to radians."""

_INF = math.inf
_MIN_NORMAL = 2.2250738585072014e-308


# ----------------------------------------------------------------------------------------------------
# Shared last steps (also used by the block engine and the sparse cosine)
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def cosine_from(dot: float, na: float, nb: float) -> float:
    """Cosine distance ``1 - dot / sqrt(na nb)`` from ``a.b``, ``|a|^2`` and ``|b|^2``, clamped to [0, 2]. O(1).

    0 if both vectors are zero, 1 if exactly one is.  ``sqrt(na * nb)`` is exact for ``a == b`` (so
    ``d(a, a) == 0``); when the product over- or underflows, the mantissas and exponents are split (frexp)
    so the same holds.
    """
    if na == 0.0 and nb == 0.0:
        return 0.0
    if na == 0.0 or nb == 0.0:
        return 1.0
    prod = na * nb
    if prod >= _MIN_NORMAL and prod < _INF:
        denom = math.sqrt(prod)
    else:
        ma, ea = math.frexp(na)
        mb, eb = math.frexp(nb)
        if (ea + eb) % 2 != 0:
            ma *= 2.0
            ea -= 1
        denom = math.ldexp(math.sqrt(ma * mb), (ea + eb) // 2)
    r = 1.0 - dot / denom
    if r < 0.0:
        return 0.0
    if r > 2.0:
        return 2.0
    return r


@numba.njit(cache=True, fastmath=False)
def haversine_h(lat1: float, lon1: float, cos1: float, lat2: float, lon2: float, cos2: float) -> float:
    """Haversine ``h = sin^2(dlat/2) + cos(lat1) cos(lat2) sin^2(dlon/2)`` (angles in radians). O(1)."""
    s1 = math.sin((lat2 - lat1) * 0.5)
    s2 = math.sin((lon2 - lon1) * 0.5)
    return s1 * s1 + (cos1 * cos2) * (s2 * s2)


@numba.njit(cache=True, fastmath=False)
def haversine_from_h(h: float) -> float:
    """Great-circle distance in km from the haversine ``h``: ``2 R asin(sqrt(clamp(h, 0, 1)))``. O(1)."""
    h = min(max(h, 0.0), 1.0)
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@numba.njit(cache=True, fastmath=False)
def minkowski_root(s: float, p: float) -> float:
    """Minkowski distance from the power sum ``s = sum |a_i - b_i|^p``: ``s^(1/p)`` (``s`` itself for
    ``p = inf``, where ``s`` is the maximum, and for ``s = 0``). O(1)."""
    if p == _INF or s == 0.0:
        return s
    return s ** (1.0 / p)


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
    return minkowski_root(s, p)


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
    return cosine_from(dot, na, nb)


@numba.njit(cache=True, fastmath=False)
def haversine(a: np.ndarray, b: np.ndarray) -> float:
    """Great-circle distance in km between ``a = (lat, lon)`` and ``b`` given in DEGREES. O(1).

    ``h = sin^2((lat_b - lat_a)/2) + cos(lat_a) cos(lat_b) sin^2((lon_b - lon_a)/2)``,
    ``d = 2 R asin(sqrt(min(1, h)))`` with ``R = 6371.0088`` km (the asin form is accurate for small
    distances; the clamp guards against ``h`` rounding above 1 near antipodes).
    """
    lat1 = np.float64(a[0]) * DEG
    lat2 = np.float64(b[0]) * DEG
    h = haversine_h(
        lat1, np.float64(a[1]) * DEG, math.cos(lat1), lat2, np.float64(b[1]) * DEG, math.cos(lat2)
    )
    return haversine_from_h(h)


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
