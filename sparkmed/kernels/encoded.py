"""Metrics on *encoded* rows: sparse vectors (ELL), padded sets and Gower rows as fixed-length float64 rows.

Data that is not a dense vector is encoded, one row at a time, into a fixed-length float64 row, so every
dense kernel (matrices, assignment, scoring, swap deltas, FasterPAM) runs unchanged on it; the metrics
below read the layout.  The Spark side builds these rows in the JVM; the numpy encoders of
:mod:`sparkmed.kernels.encoders` build the same rows on a single machine.  All metric functions are
``@numba.njit(cache=True, fastmath=False)`` scalar functions ``(a, b) -> float`` on two 1-D float arrays
(float32 or float64; all arithmetic in float64), registered in :mod:`sparkmed.kernels.metrics` (layout,
public name) and dispatched by :func:`sparkmed.kernels.dispatch.distance`.

Layouts
-------
**ELL sparse vector** of width ``L`` (the largest non-zero count of the data set), length ``1 + 2L``::

    [nnz, idx_1 .. idx_nnz, 0 .. 0, val_1 .. val_nnz, 0 .. 0]
     r[0]  r[1 : 1+nnz] (strictly ascending)    r[1+L : 1+L+nnz]

Indices are floats holding non-negative integers (exact below 2^53); padding is 0.  A stored value may be
0.0 (an *explicit zero*): it adds nothing to the sums and is not a non-zero for ``sparse_jaccard``.

**Padded set** of width ``L`` (the largest set size), length ``1 + L``::

    [s, c_1 .. c_s, 0 .. 0]     with the distinct element codes strictly ascending (integers < 2^53)

**Gower row** for ``m`` columns, length ``1 + 3m``::

    [m, type_1 .. type_m, w_1 .. w_m, x_1 .. x_m]

``type`` is :data:`GOWER_NUMERIC` (0: interval or ordinal, scaled to [0, 1] by its range),
:data:`GOWER_NOMINAL` (1: nominal / symmetric binary, any code) or :data:`GOWER_ASYMM` (2: asymmetric binary
0/1); ``w_j > 0`` are the column weights; a missing value is :data:`MISSING` (anything below
:data:`MISSING_BELOW`, so a float32 copy, where it is ``-inf``, still reads as missing).  The header
(types, weights) is the same for every row of a data set; the metric reads it from its first argument.

All metrics merge (sparse, set) or scan (Gower) the two rows once: O(nnz_a + nnz_b), O(|A| + |B|), O(m).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sparkmed.kernels.dense import cosine_from

MISSING = -1e300
"""Missing-value marker of a Gower row."""

MISSING_BELOW = -1e299
"""A Gower value below this is missing."""

GOWER_NUMERIC = 0
"""Gower column type: interval or ordinal (ranks), scaled to [0, 1]: ``s = min(1, |a - b|)``."""
GOWER_NOMINAL = 1
"""Gower column type: nominal or symmetric binary: ``s = 1[a != b]``."""
GOWER_ASYMM = 2
"""Gower column type: asymmetric binary 0/1: ``s = 1[a != b]``, and a 0-0 pair does not count."""
GOWER_TYPES: tuple[int, ...] = (GOWER_NUMERIC, GOWER_NOMINAL, GOWER_ASYMM)

SCALED_LIMIT = 1e6
"""Scaled numeric Gower values lie within +-this (the encoders clamp them, as the Spark side does): far
from :data:`MISSING`."""

MAX_CODE = 2.0**53
"""Indices and set element codes must be integers below this (exact in float64)."""


# ----------------------------------------------------------------------------------------------------
# Row headers
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def _ell_nnz(a: np.ndarray) -> tuple[int, int]:
    """``(nnz, L)`` of an ELL row; ``nnz`` clamped to ``[0, L]`` so a malformed row never reads out of bounds."""
    L = (a.shape[0] - 1) // 2
    k = int(np.float64(a[0]))
    return min(max(k, 0), L), L


@numba.njit(cache=True, fastmath=False)
def _set_size(a: np.ndarray) -> int:
    """Size of a padded set row, clamped to ``[0, L]``."""
    k = int(np.float64(a[0]))
    return min(max(k, 0), a.shape[0] - 1)


# ----------------------------------------------------------------------------------------------------
# Sparse vectors (ELL rows)
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def sparse_sqeuclidean(a: np.ndarray, b: np.ndarray) -> float:
    """Squared euclidean distance of two ELL rows: ``sum_{i in idx(a) u idx(b)} (a_i - b_i)^2``.

    Merge-join of the two index lists, terms summed in ascending index order (so the result is exactly
    symmetric). O(nnz_a + nnz_b).
    """
    na, La = _ell_nnz(a)
    nb, Lb = _ell_nnz(b)
    i = 0
    j = 0
    s = 0.0
    while i < na and j < nb:
        ia = np.float64(a[1 + i])
        ib = np.float64(b[1 + j])
        if ia == ib:
            diff = np.float64(a[1 + La + i]) - np.float64(b[1 + Lb + j])
            s += diff * diff
            i += 1
            j += 1
        elif ia < ib:
            x = np.float64(a[1 + La + i])
            s += x * x
            i += 1
        else:
            y = np.float64(b[1 + Lb + j])
            s += y * y
            j += 1
    while i < na:
        x = np.float64(a[1 + La + i])
        s += x * x
        i += 1
    while j < nb:
        y = np.float64(b[1 + Lb + j])
        s += y * y
        j += 1
    return s


@numba.njit(cache=True, fastmath=False)
def sparse_euclidean(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two ELL rows ``sqrt(sum_{i in idx(a) u idx(b)} (a_i - b_i)^2)``.

    Merge-join, ascending index order. O(nnz_a + nnz_b).
    """
    return math.sqrt(sparse_sqeuclidean(a, b))


@numba.njit(cache=True, fastmath=False)
def sparse_manhattan(a: np.ndarray, b: np.ndarray) -> float:
    """Manhattan (L1) distance of two ELL rows ``sum_{i in idx(a) u idx(b)} |a_i - b_i|``.

    Merge-join, ascending index order. O(nnz_a + nnz_b).
    """
    na, La = _ell_nnz(a)
    nb, Lb = _ell_nnz(b)
    i = 0
    j = 0
    s = 0.0
    while i < na and j < nb:
        ia = np.float64(a[1 + i])
        ib = np.float64(b[1 + j])
        if ia == ib:
            s += abs(np.float64(a[1 + La + i]) - np.float64(b[1 + Lb + j]))
            i += 1
            j += 1
        elif ia < ib:
            s += abs(np.float64(a[1 + La + i]))
            i += 1
        else:
            s += abs(np.float64(b[1 + Lb + j]))
            j += 1
    while i < na:
        s += abs(np.float64(a[1 + La + i]))
        i += 1
    while j < nb:
        s += abs(np.float64(b[1 + Lb + j]))
        j += 1
    return s


@numba.njit(cache=True, fastmath=False)
def sparse_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine distance of two ELL rows ``1 - a.b / (|a| |b|)``, clamped to [0, 2].

    The conventions of the dense ``cosine`` (shared :func:`~sparkmed.kernels.dense.cosine_from`): 0 if
    both vectors are zero (no non-zero value), 1 if exactly one is.  ``a.b`` sums over the common
    indices, ``|a|^2`` over the stored values of ``a``, each in ascending index order. O(nnz_a + nnz_b).
    """
    na, La = _ell_nnz(a)
    nb, Lb = _ell_nnz(b)
    sa = 0.0
    for i in range(na):
        x = np.float64(a[1 + La + i])
        sa += x * x
    sb = 0.0
    for j in range(nb):
        y = np.float64(b[1 + Lb + j])
        sb += y * y
    dot = 0.0
    i = 0
    j = 0
    while i < na and j < nb:
        ia = np.float64(a[1 + i])
        ib = np.float64(b[1 + j])
        if ia == ib:
            dot += np.float64(a[1 + La + i]) * np.float64(b[1 + Lb + j])
            i += 1
            j += 1
        elif ia < ib:
            i += 1
        else:
            j += 1
    return cosine_from(dot, sa, sb)


@numba.njit(cache=True, fastmath=False)
def sparse_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard distance of the non-zero patterns of two ELL rows ``1 - |nz(a) n nz(b)| / |nz(a) u nz(b)|``.

    Explicitly stored zeros are not non-zeros.  Computed as ``(union - inter) / union``; 0 when neither
    row has a non-zero. O(nnz_a + nnz_b).
    """
    na, La = _ell_nnz(a)
    nb, Lb = _ell_nnz(b)
    union = 0
    inter = 0
    i = 0
    j = 0
    while i < na and j < nb:
        ia = np.float64(a[1 + i])
        ib = np.float64(b[1 + j])
        if ia == ib:
            x = np.float64(a[1 + La + i]) != 0.0
            y = np.float64(b[1 + Lb + j]) != 0.0
            if x or y:
                union += 1
                if x and y:
                    inter += 1
            i += 1
            j += 1
        elif ia < ib:
            if np.float64(a[1 + La + i]) != 0.0:
                union += 1
            i += 1
        else:
            if np.float64(b[1 + Lb + j]) != 0.0:
                union += 1
            j += 1
    while i < na:
        if np.float64(a[1 + La + i]) != 0.0:
            union += 1
        i += 1
    while j < nb:
        if np.float64(b[1 + Lb + j]) != 0.0:
            union += 1
        j += 1
    if union == 0:
        return 0.0
    return (union - inter) / union


# ----------------------------------------------------------------------------------------------------
# Sets (padded rows of sorted distinct codes)
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def _set_intersection(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
    """``(|A|, |B|, |A n B|)`` of two padded set rows by a merge-join. O(|A| + |B|)."""
    sa = _set_size(a)
    sb = _set_size(b)
    i = 0
    j = 0
    inter = 0
    while i < sa and j < sb:
        x = np.float64(a[1 + i])
        y = np.float64(b[1 + j])
        if x == y:
            inter += 1
            i += 1
            j += 1
        elif x < y:
            i += 1
        else:
            j += 1
    return sa, sb, inter


@numba.njit(cache=True, fastmath=False)
def set_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard distance of two padded sets ``1 - |A n B| / |A u B|``, as ``(|A u B| - |A n B|) / |A u B|``.

    0 when both sets are empty. O(|A| + |B|).
    """
    sa, sb, inter = _set_intersection(a, b)
    union = sa + sb - inter
    if union == 0:
        return 0.0
    return (union - inter) / union


@numba.njit(cache=True, fastmath=False)
def set_dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice (Sorensen) dissimilarity of two padded sets ``1 - 2 |A n B| / (|A| + |B|)``, as
    ``(|A| + |B| - 2 |A n B|) / (|A| + |B|)``.

    0 when both sets are empty.  Not a metric (no triangle inequality). O(|A| + |B|).
    """
    sa, sb, inter = _set_intersection(a, b)
    total = sa + sb
    if total == 0:
        return 0.0
    return (total - 2 * inter) / total


# ----------------------------------------------------------------------------------------------------
# Gower rows
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def gower(a: np.ndarray, b: np.ndarray) -> float:
    """Gower dissimilarity of two Gower rows ``sum_j w_j delta_j s_j / sum_j w_j delta_j``.

    ``delta_j = 0`` if either value is missing or (asymmetric binary and both are 0), else 1;
    ``s_j = min(1, |a_j - b_j|)`` for numeric/ordinal columns (scaled by their range), ``1[a_j != b_j]``
    for nominal and binary ones.  If ``sum_j w_j delta_j = 0``: 0 when the two value vectors are identical
    (same missing pattern, same values), else 1.  Types and weights are read from ``a``.  As R's
    ``cluster::daisy(metric = "gower")``.  Not a metric in general (missing values). O(m).
    """
    m = (a.shape[0] - 1) // 3
    num = 0.0
    den = 0.0
    same = True
    for j in range(m):
        x = np.float64(a[1 + 2 * m + j])
        y = np.float64(b[1 + 2 * m + j])
        xm = x < MISSING_BELOW
        ym = y < MISSING_BELOW
        if xm or ym:
            if xm != ym:
                same = False
            continue
        if x != y:
            same = False
        t = np.float64(a[1 + j])
        if t == GOWER_ASYMM and x == 0.0 and y == 0.0:
            continue
        w = np.float64(a[1 + m + j])
        s = min(1.0, abs(x - y)) if t == GOWER_NUMERIC else (0.0 if x == y else 1.0)
        num += w * s
        den += w
    if den == 0.0:
        return 0.0 if same else 1.0
    return num / den
