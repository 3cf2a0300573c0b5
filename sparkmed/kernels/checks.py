"""Argument checks of the kernels' public functions: points, weights, matrices, medoids, counts.

Plain Python / numpy (plus one numba scan), run before any numba kernel so that bad input is a
``ValueError`` naming the argument, never a crash or a silent NaN inside a kernel.

Weights have one rule everywhere (:func:`check_weights`): shape ``(n,)``, finite, non-negative; ``None``
means all ones.  An all-zero (or empty) weight vector is rejected where a positive total is needed (the
matrix algorithms and initialisations optimise a weighted sum; the silhouettes divide by it:
``positive_total=True``) and accepted by the additive per-batch kernels (assignment, costs, swap deltas),
where a batch may legitimately carry only zero weights or no rows at all.
"""

from __future__ import annotations

import numbers

import numba
import numpy as np


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


def check_same_dim(X: np.ndarray, Y: np.ndarray, xarg: str, yarg: str) -> None:
    """Raise ValueError unless ``X`` and ``Y`` have the same number of columns."""
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"{xarg} and {yarg} must have the same dimension d, got {X.shape[-1]} and {Y.shape[-1]}"
        )


def check_dtype(dtype: object) -> np.dtype:
    """An output dtype as a numpy dtype; only float32 and float64 are allowed."""
    dt = np.dtype(dtype)
    if dt != np.float32 and dt != np.float64:
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_weights(weights: object, n: int, *, positive_total: bool = False) -> np.ndarray:
    """Per-row weights as a contiguous float64 ``(n,)`` array; ``None`` means all ones.

    Weight 1 is exact in every product, so unweighted results are bit-identical to an unweighted
    computation.  ``positive_total``: also require a positive sum (not all zero, at least one row).

    Raises:
        ValueError: non-numeric, wrong shape, non-finite or negative weights; with ``positive_total``, a
            zero total.
    """
    if weights is None:
        w = np.ones(n, dtype=np.float64)
    else:
        w = np.asarray(weights)
        if w.dtype.kind not in "biuf":
            raise ValueError(f"weights must be numeric, got dtype {w.dtype}")
        w = np.ascontiguousarray(w, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"weights must have shape ({n},), got {w.shape}")
        if not all_finite(w):
            raise ValueError("weights contains NaN or infinite values")
        if (w < 0).any():
            raise ValueError("weights must be non-negative")
    if positive_total and not (w > 0).any():
        raise ValueError("weights must have a positive sum (not all zero, and at least one point)")
    return w


@numba.njit(cache=True, nogil=True)
def _bit_flags(bits, exp_mask, sign_bit):
    """Scan the raw IEEE bits of a float matrix (uint32 or uint64 view): 1 = a non-finite entry (all
    exponent bits set), 2 = a negative entry (sign bit set, except -0.0), 0 = fine.

    As unsigned integers, exactly the finite non-negative floats are below ``exp_mask``, so a vectorised
    max per row suffices; only a row whose max is not below it (including a harmless -0.0) is inspected
    element by element. Memory-bound: about one read of the matrix.
    """
    n = bits.shape[0]
    for i in range(n):
        row = bits[i]
        mx = row[0]
        for j in range(row.shape[0]):
            mx = max(mx, row[j])
        if mx >= exp_mask:
            for j in range(row.shape[0]):
                b = row[j]
                if (b & exp_mask) == exp_mask:
                    return 1
            for j in range(row.shape[0]):
                if row[j] > sign_bit:
                    return 2
    return 0


def _matrix_flags(a: np.ndarray) -> int:
    if a.dtype == np.float32:
        return _bit_flags(a.view(np.uint32), np.uint32(0x7F800000), np.uint32(0x80000000))
    return _bit_flags(a.view(np.uint64), np.uint64(0x7FF0000000000000), np.uint64(0x8000000000000000))


def check_diss(diss: object) -> np.ndarray:
    """Validate a dissimilarity matrix; return it as a C-contiguous float32 or float64 array.

    float32 and float64 are kept (no copy when already C-contiguous); any other numeric dtype is
    converted to float64. Raises ``ValueError`` unless the matrix is square, 2-D, non-empty, finite and
    non-negative. Symmetry is assumed, not checked.
    """
    a = np.asarray(diss)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"diss must be a square 2-D dissimilarity matrix, got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("diss must not be empty")
    if a.dtype == np.float32 or a.dtype == np.float64:
        a = np.ascontiguousarray(a)
    elif a.dtype.kind in "biuf":
        a = np.ascontiguousarray(a, dtype=np.float64)
    else:
        raise ValueError(f"diss must be numeric, got dtype {a.dtype}")
    flag = _matrix_flags(a)
    if flag == 1:
        raise ValueError("diss must contain only finite values (found NaN or infinity)")
    if flag == 2:
        raise ValueError("diss must be non-negative (found a negative dissimilarity)")
    return a


def check_max_iter(max_iter: object) -> int:
    """``max_iter`` as an int >= 0 (ValueError otherwise)."""
    if not isinstance(max_iter, numbers.Integral) or isinstance(max_iter, bool) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative int, got {max_iter!r}")
    return int(max_iter)


def check_medoids_arg(medoids: object, n: int) -> tuple[int, np.ndarray | None]:
    """Return ``(k, None)`` for an int k, or ``(k, indices)`` for explicit initial medoids.

    Raises ``ValueError`` unless 1 <= k <= n, and explicit medoids are distinct integers in [0, n).
    """
    if isinstance(medoids, numbers.Integral) and not isinstance(medoids, bool):
        k = int(medoids)
        if not 1 <= k <= n:
            raise ValueError(f"medoids: the number of clusters k must satisfy 1 <= k <= n = {n}, got {k}")
        return k, None
    m = np.asarray(medoids)
    if m.ndim != 1:
        raise ValueError(f"medoids must be an int k or a 1-D array of indices, got shape {m.shape}")
    if m.dtype.kind not in "iu":
        if m.dtype.kind == "f" and m.size and np.all(np.isfinite(m)) and np.all(m == np.round(m)):
            m = m.astype(np.int64)
        else:
            raise ValueError(f"medoids must be integer indices, got dtype {m.dtype}")
    k = m.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"medoids: the number of clusters k must satisfy 1 <= k <= n = {n}, got {k}")
    if np.any(m < 0) or np.any(m >= n):
        raise ValueError(f"medoids must be indices in [0, {n}), got {m.min()}..{m.max()}")
    m = m.astype(np.int64)
    if np.unique(m).shape[0] != k:
        raise ValueError("medoids must be distinct")
    return k, np.ascontiguousarray(m)
