"""Dissimilarity matrices of points: the dense symmetric :func:`pairwise` and the rectangular :func:`cross`.

Both run the block engine (:mod:`sparkmed.kernels.block_engine`) over row blocks (in parallel when numba
has more than one thread; Spark executors run one) and finalise
every reduced value, so each entry is bit-identical to the scalar metric.  ``pairwise`` computes each
unordered pair once, O(n^2 d / 2), and mirrors it; ``cross`` is O(n m d).  A callable ``metric`` (a user's
numba function) is routed to :mod:`sparkmed.kernels.custom`.
"""

from __future__ import annotations

import numba
import numpy as np

from sparkmed.kernels import custom
from sparkmed.kernels.block_engine import (
    BLOCK_ROWS,
    TARGET_TILE,
    finalize_reduced,
    load_block,
    new_block,
    prepare_targets,
    reduced_block,
    use_parallel,
)
from sparkmed.kernels.checks import as_points, check_dtype, check_same_dim
from sparkmed.kernels.metrics import resolve_metric

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


@numba.njit(cache=True, fastmath=False)
def _mirror_upper(out: np.ndarray) -> None:
    """Copy the strict upper triangle of square ``out`` onto the lower one, in cache-sized tiles.

    Serial: a memory-bound copy of n^2/2 entries, which threads barely speed up."""
    n = out.shape[0]
    nt = (n + _TILE - 1) // _TILE
    for bi in range(nt):
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


@numba.njit(cache=True, fastmath=False)
def _pairwise_serial(code: int, X: np.ndarray, p: float, out: np.ndarray) -> None:
    """:func:`_pairwise_kernel` on one thread: the same entries (each is computed independently), without
    the parallel runtime, which doubles the compile time. O(n^2 d / 2)."""
    n = X.shape[0]
    Xp, aux = prepare_targets(code, X)
    for b in range((n + BLOCK_ROWS - 1) // BLOCK_ROWS):
        _pairwise_upper_block(code, X, Xp, aux, p, b, out)
    _mirror_upper(out)


@numba.njit(cache=True, fastmath=False)
def _cross_block(
    code: int, X: np.ndarray, Y: np.ndarray, Yp: np.ndarray, aux: np.ndarray, p: float, b: int, out: np.ndarray
) -> None:
    """Rows ``i`` of block ``b``: ``out[i, j] = d(X[i], Y[j])`` for every target. O(BLOCK_ROWS m d)."""
    n, d = X.shape
    m = Y.shape[0]
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


@numba.njit(cache=True, parallel=True, fastmath=False)
def _cross_kernel(code: int, X: np.ndarray, Y: np.ndarray, p: float, out: np.ndarray) -> None:
    """Rectangular dissimilarities ``out[i, j] = d(X[i], Y[j])``. O(n m d), parallel over row blocks."""
    Yp, aux = prepare_targets(code, Y)
    for b in numba.prange((X.shape[0] + BLOCK_ROWS - 1) // BLOCK_ROWS):
        _cross_block(code, X, Y, Yp, aux, p, b, out)


@numba.njit(cache=True, fastmath=False)
def _cross_serial(code: int, X: np.ndarray, Y: np.ndarray, p: float, out: np.ndarray) -> None:
    """:func:`_cross_kernel` on one thread (same entries). O(n m d)."""
    Yp, aux = prepare_targets(code, Y)
    for b in range((X.shape[0] + BLOCK_ROWS - 1) // BLOCK_ROWS):
        _cross_block(code, X, Y, Yp, aux, p, b, out)


def pairwise(
    X: np.ndarray, metric: str = "euclidean", *, p: float = 2.0, dtype: object = np.float32
) -> np.ndarray:
    """Dense ``(n, n)`` dissimilarity matrix of the rows of ``X`` (float32 by default).

    Parallel over rows from :data:`~sparkmed.kernels.block_engine.PARALLEL_MIN_WORK` terms on; each
    unordered pair is computed once (in float64) and mirrored, and the diagonal is exactly zero.
    Cost O(n^2 d / 2), memory n^2 * itemsize.

    Raises:
        ValueError: unknown metric, bad ``p``/dimension/dtype, or ``X`` not a finite 2-D array.
    """
    if callable(metric):  # a user's numba function: see kernels.custom
        return custom.pairwise(metric, as_points(X, "X"), dtype=check_dtype(dtype))
    A = as_points(X, "X")
    code = resolve_metric(metric, p, A.shape[1])
    out = np.empty((A.shape[0], A.shape[0]), dtype=check_dtype(dtype))
    n, d = A.shape
    kernel = _pairwise_kernel if use_parallel(n, n * n * d // 2, BLOCK_ROWS) else _pairwise_serial
    kernel(code, A, float(p), out)
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
        return custom.cross(metric, as_points(X, "X"), as_points(Y, "Y"), dtype=check_dtype(dtype))
    A = as_points(X, "X")
    B = as_points(Y, "Y")
    check_same_dim(A, B, "X", "Y")
    code = resolve_metric(metric, p, A.shape[1])
    out = np.empty((A.shape[0], B.shape[0]), dtype=check_dtype(dtype))
    kernel = _cross_kernel if use_parallel(A.shape[0], out.size * A.shape[1], BLOCK_ROWS) else _cross_serial
    kernel(code, A, B, float(p), out)
    return out
