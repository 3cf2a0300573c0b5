"""The block engine: a block of points against a tile of targets, the building block of every kernel.

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

The dense metrics have vectorised branches; every other metric (the encoded-row ones: sparse vectors,
sets, Gower rows) goes through the generic branch, :func:`~sparkmed.kernels.dispatch.distance` on the raw
rows, which raises for a code it does not know.  Cost O(targets · R · d) per block.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sparkmed.kernels.dense import DEG, cosine_from, haversine_from_h, haversine_h, minkowski_root
from sparkmed.kernels.dispatch import distance
from sparkmed.kernels.metrics import CHEBYSHEV, COSINE, EUCLIDEAN, HAMMING, HAVERSINE, MANHATTAN, MINKOWSKI, SQEUCLIDEAN

_INF = math.inf


@numba.njit(cache=True, fastmath=False)
def finalize_reduced(code: int, r: float, p: float) -> float:
    """Map a reduced distance (see :func:`reduced_block`) to the distance. O(1).

    euclidean: ``sqrt(r)``; minkowski: ``r^(1/p)``; haversine: ``2 R asin(sqrt(clamp(h, 0, 1)))``;
    every other metric (the encoded-row metrics too): ``r`` itself (their reduced value is the distance).
    """
    if code == EUCLIDEAN:
        return math.sqrt(r)
    if code == MINKOWSKI:
        return minkowski_root(r, p)
    if code == HAVERSINE:
        return haversine_from_h(r)
    return r



BLOCK_ROWS = 64
"""Rows per block: the SIMD axis of :func:`reduced_block`."""

TARGET_TILE = 128
"""Targets per tile: bounds the (tile, BLOCK_ROWS) float64 scratch of a block to 64 KiB."""

PARALLEL_MIN_WORK = 1 << 22
"""Distance terms (rows x targets x d) below which a kernel runs its serial driver: ~4 ms of work, where
threads gain a few ms and the parallel driver's first compile costs 4x the serial one's (the Spark
driver's small candidate-pool calls would otherwise compile it on every fresh cluster)."""


def use_parallel(rows: int, terms: int, unit_rows: int) -> bool:
    """Whether a kernel should run its parallel driver: more than one ``unit_rows`` task of rows, more than
    one numba thread (Spark executors run one) and at least :data:`PARALLEL_MIN_WORK` distance ``terms``.
    Both drivers of every kernel give bit-identical results."""
    return rows > unit_rows and numba.get_num_threads() > 1 and terms >= PARALLEL_MIN_WORK


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
            Yp[j, 0] = Yp[j, 0] * DEG
            Yp[j, 1] = Yp[j, 1] * DEG
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
            XbT[0, r] = XbT[0, r] * DEG
            XbT[1, r] = XbT[1, r] * DEG
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
                out[jj, r] = cosine_from(out[jj, r], xaux[r], aux[j0 + jj])
    elif code == HAVERSINE:
        for jj in range(mt):
            j = j0 + jj
            for r in range(R):
                out[jj, r] = haversine_h(XbT[0, r], XbT[1, r], xaux[r], Yp[j, 0], Yp[j, 1], aux[j])
    else:
        for jj in range(mt):
            for r in range(nr):
                out[jj, r] = distance(code, X[i0 + r], Y[j0 + jj], p)
