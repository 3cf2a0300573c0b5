"""Metrics on *encoded* rows: sparse vectors (ELL), padded sets and Gower rows as fixed-length float64 rows.

Data that is not a dense vector is encoded, one row at a time, into a fixed-length float64 row, so every
dense kernel (matrices, assignment, scoring, swap deltas, FasterPAM) runs unchanged on it; the metrics
below read the layout.  The Spark side (``sparkmed.encoding``) builds these rows in the JVM; the numpy
encoders here (:func:`encode_sparse`, :func:`encode_sets`, :func:`encode_gower`) build the same rows on a
single machine.  All metric functions are ``@numba.njit(cache=True, fastmath=False)`` scalar functions
``(a, b) -> float`` on two 1-D float arrays (float32 or float64; all arithmetic in float64), registered in
``sparkmed.kernels.distances`` (this module must not import it: ``distances`` imports this one).

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
from collections.abc import Iterable, Sequence

import numba
import numpy as np

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
"""Scaled numeric Gower values are clamped to +-this (as on the Spark side): far from :data:`MISSING`."""

MAX_CODE = 2.0**53
"""Indices and set element codes must be integers below this (exact in float64)."""

_MIN_NORMAL = 2.2250738585072014e-308
_INF = math.inf


# ----------------------------------------------------------------------------------------------------
# Shared scalar helper (also the dense cosine's, so both follow the same conventions bit for bit)
# ----------------------------------------------------------------------------------------------------


@numba.njit(cache=True, fastmath=False)
def _cosine_from(dot: float, na: float, nb: float) -> float:
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

    The conventions of the dense ``cosine`` (shared :func:`_cosine_from`): 0 if both vectors are zero
    (no non-zero value), 1 if exactly one is.  ``a.b`` sums over the common indices, ``|a|^2`` over the
    stored values of ``a``, each in ascending index order. O(nnz_a + nnz_b).
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
    return _cosine_from(dot, sa, sb)


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


# ----------------------------------------------------------------------------------------------------
# numpy encoders (single machine, tests)
# ----------------------------------------------------------------------------------------------------


def _integer_codes(values: object, what: str) -> np.ndarray:
    """``values`` as a 1-D float64 array of integers in ``[0, 2^53)``; ValueError naming ``what`` otherwise."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.float64)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{what} must hold integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and (not np.isfinite(arr).all() or (arr != np.floor(arr)).any()):
        raise ValueError(f"{what} must hold integers, got {arr.tolist()}")
    if (arr < 0).any() or (arr.astype(np.float64) >= MAX_CODE).any():
        raise ValueError(f"{what} must lie in [0, 2^53), got {arr.tolist()}")
    return arr.astype(np.float64)


def _check_width(width: int | None, largest: int, what: str) -> int:
    """The padded width: ``max(1, largest)`` for ``None``; a given width must be an int >= max(1, largest)."""
    need = max(1, largest)
    if width is None:
        return need
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)):
        raise ValueError(f"width must be an integer, got {width!r}")
    if width < need:
        raise ValueError(f"width={width} is too small: the largest {what} has {largest} entries (width >= {need})")
    return int(width)


def encode_sparse(rows: Sequence[tuple[object, object]], width: int | None = None) -> np.ndarray:
    """Encode sparse vectors as ELL rows ``[nnz, idx (L), values (L)]`` (see the module doc). O(total nnz log).

    Args:
        rows: one ``(indices, values)`` pair per vector; indices are distinct non-negative integers below
            2^53 (any order: they are sorted), values finite floats (explicit zeros are kept).
        width: ``L``; ``None``: the largest non-zero count (at least 1).

    Returns:
        ``(n, 1 + 2L)`` float64.

    Raises:
        ValueError: a malformed pair, mismatched lengths, bad or duplicate indices, non-finite values, or a
            ``width`` smaller than a row.
    """
    parsed = []
    for r, row in enumerate(rows):
        try:
            idx_in, val_in = row
        except (TypeError, ValueError):
            raise ValueError(f"row {r}: expected an (indices, values) pair, got {row!r}") from None
        idx = _integer_codes(idx_in, f"row {r}: indices")
        vals = np.asarray(val_in, dtype=np.float64).reshape(-1) if np.size(val_in) else np.zeros(0)
        if vals.shape != idx.shape:
            raise ValueError(f"row {r}: {idx.size} indices but {vals.size} values")
        if not np.isfinite(vals).all():
            raise ValueError(f"row {r}: values must be finite")
        order = np.argsort(idx, kind="stable")
        idx, vals = idx[order], vals[order]
        if idx.size > 1 and (np.diff(idx) == 0).any():
            raise ValueError(f"row {r}: duplicate indices {idx[:-1][np.diff(idx) == 0].astype(np.int64).tolist()}")
        parsed.append((idx, vals))
    L = _check_width(width, max((p[0].size for p in parsed), default=0), "vector")
    out = np.zeros((len(parsed), 1 + 2 * L), dtype=np.float64)
    for r, (idx, vals) in enumerate(parsed):
        k = idx.size
        out[r, 0] = k
        out[r, 1 : 1 + k] = idx
        out[r, 1 + L : 1 + L + k] = vals
    return out


def encode_sets(rows: Sequence[Iterable[int]], width: int | None = None) -> np.ndarray:
    """Encode sets of integer codes as padded rows ``[s, codes ascending (L)]`` (see the module doc). O(total log).

    Args:
        rows: one iterable of integer codes in ``[0, 2^53)`` per set (repeats collapse: a set).
        width: ``L``; ``None``: the largest set size (at least 1).

    Returns:
        ``(n, 1 + L)`` float64.

    Raises:
        ValueError: a non-integer or out-of-range code, or a ``width`` smaller than a set.
    """
    parsed = []
    for r, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
            raise ValueError(f"row {r}: expected an iterable of integer codes, got {row!r}")
        items = list(row)
        codes = _integer_codes(np.array(items) if items else np.zeros(0, dtype=np.int64), f"row {r}: set codes")
        parsed.append(np.unique(codes))
    L = _check_width(width, max((c.size for c in parsed), default=0), "set")
    out = np.zeros((len(parsed), 1 + L), dtype=np.float64)
    for r, codes in enumerate(parsed):
        out[r, 0] = codes.size
        out[r, 1 : 1 + codes.size] = codes
    return out


def _column_params(arg: object, m: int, name: str) -> np.ndarray | None:
    """An optional per-column float64 array of length ``m``."""
    if arg is None:
        return None
    a = np.asarray(arg, dtype=np.float64)
    if a.shape != (m,):
        raise ValueError(f"{name} must have one entry per column ({m}), got shape {a.shape}")
    return a


def encode_gower(
    values: np.ndarray,
    types: Sequence[int],
    weights: Sequence[float] | None = None,
    mins: Sequence[float] | None = None,
    ranges: Sequence[float] | None = None,
) -> np.ndarray:
    """Encode a mixed table as Gower rows ``[m, types (m), weights (m), values (m)]`` (see the module doc). O(n m).

    Numeric/ordinal columns (type 0) become ``(x - min) / range`` (0 where the range is 0), clamped to
    +-:data:`SCALED_LIMIT`; ``mins`` / ``ranges`` default to each column's minimum and ``max - min`` over
    its non-missing values (give the training data's to encode new data).  Ordinal columns should hold
    their ranks (R ``daisy``: the integer codes of an ordered factor).  NaN is a missing value
    (:data:`MISSING`).

    Args:
        values: ``(n, m)`` numbers; NaN = missing.
        types: ``m`` codes of :data:`GOWER_TYPES` (0 numeric/ordinal, 1 nominal/symmetric binary,
            2 asymmetric binary with values 0/1).
        weights: ``m`` positive finite column weights (default 1).
        mins, ranges: ``m`` finite numbers each (ranges >= 0), used for the type-0 columns only.

    Returns:
        ``(n, 1 + 3m)`` float64.

    Raises:
        ValueError: a non-2-D table or no column, infinite values, nominal values at or below the missing
            marker, asymmetric binary values other than 0/1, or bad ``types`` / ``weights`` / ``mins`` /
            ``ranges``.
    """
    X = np.asarray(values)
    if X.ndim != 2:
        raise ValueError(f"values must be a 2-D array (n, m), got shape {X.shape}")
    if X.dtype == np.bool_ or np.issubdtype(X.dtype, np.integer):
        X = X.astype(np.float64)
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"values must hold real numbers (NaN = missing), got dtype {X.dtype}")
    X = X.astype(np.float64)
    n, m = X.shape
    if m < 1:
        raise ValueError("values needs at least one column")
    if np.isinf(X).any():
        raise ValueError("values contains infinite values (use NaN for missing)")
    t = np.asarray(list(types))
    if t.shape != (m,):
        raise ValueError(f"types must have one entry per column ({m}), got {len(t)}")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v in GOWER_TYPES for v in types):
        raise ValueError(
            f"types must be codes in {GOWER_TYPES} (0 numeric/ordinal, 1 nominal, 2 asymm), got {t.tolist()}"
        )
    t = t.astype(np.int64)
    w = _column_params(weights, m, "weights")
    if w is None:
        w = np.ones(m)
    elif not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError(f"weights must be positive and finite, got {w.tolist()}")
    mn = _column_params(mins, m, "mins")
    rg = _column_params(ranges, m, "ranges")
    if mn is not None and not np.isfinite(mn).all():
        raise ValueError(f"mins must be finite, got {mn.tolist()}")
    if rg is not None and not (np.isfinite(rg).all() and (rg >= 0).all()):
        raise ValueError(f"ranges must be finite and >= 0, got {rg.tolist()}")
    present = ~np.isnan(X)
    out = np.empty((n, 1 + 3 * m), dtype=np.float64)
    out[:, 0] = m
    out[:, 1 : 1 + m] = t
    out[:, 1 + m : 1 + 2 * m] = w
    vals = out[:, 1 + 2 * m :]
    for j in range(m):
        col = X[:, j]
        ok = present[:, j]
        if t[j] == GOWER_NUMERIC:
            lo = mn[j] if mn is not None else (float(col[ok].min()) if ok.any() else 0.0)
            span = rg[j] if rg is not None else (float(col[ok].max()) - lo if ok.any() else 0.0)
            if not np.isfinite(span):
                raise ValueError(f"column {j}: the range of the values overflows")
            if span > 0:
                with np.errstate(over="ignore"):
                    scaled = np.clip((col - lo) / span, -SCALED_LIMIT, SCALED_LIMIT)
            else:
                scaled = np.zeros(n)
            vals[:, j] = np.where(ok, scaled, MISSING)
        else:
            if t[j] == GOWER_ASYMM and not np.isin(col[ok], (0.0, 1.0)).all():
                bad = np.unique(col[ok][~np.isin(col[ok], (0.0, 1.0))])[:5].tolist()
                raise ValueError(f"column {j} is asymmetric binary (type 2) but holds values other than 0/1: {bad}")
            if (col[ok] < MISSING_BELOW).any():
                raise ValueError(f"column {j}: values below {MISSING_BELOW} collide with the missing marker")
            vals[:, j] = np.where(ok, col, MISSING)
    return out
