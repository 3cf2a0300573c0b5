"""numpy encoders of the encoded row layouts: sparse vectors, sets and mixed tables as fixed-length rows.

What they build is defined in :mod:`sparkmed.kernels.encoded` (ELL sparse rows, padded sets, Gower rows);
the Spark side builds the same rows in the JVM, these build them on a single machine (tests, benchmarks,
local use).  Plain numpy, no numba: O(total entries · log) per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sparkmed.kernels.encoded import (
    GOWER_ASYMM,
    GOWER_NUMERIC,
    GOWER_TYPES,
    MAX_CODE,
    MISSING,
    MISSING_BELOW,
    SCALED_LIMIT,
)


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
    +-:data:`~sparkmed.kernels.encoded.SCALED_LIMIT`; ``mins`` / ``ranges`` default to each column's
    minimum and ``max - min`` over its non-missing values (give the training data's to encode new data).
    Ordinal columns should hold their ranks (R ``daisy``: the integer codes of an ordered factor).  NaN is a
    missing value (:data:`~sparkmed.kernels.encoded.MISSING`).

    Args:
        values: ``(n, m)`` numbers; NaN = missing.
        types: ``m`` codes of :data:`~sparkmed.kernels.encoded.GOWER_TYPES` (0 numeric/ordinal,
            1 nominal/symmetric binary, 2 asymmetric binary with values 0/1).
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
