"""Assignment, cost and candidate scoring of raw points against medoids: the hot loops of the
distributed passes (one call per Arrow batch, up to ~1e6 rows).

All kernels go through the block engine (:mod:`sparkmed.kernels.block_engine`: a block of rows stored
transposed, distances to a tile of medoids vectorised across the rows of the block), compare
*reduced* distances (squared euclidean, ...) and finalise only the values they return.

Euclidean form: the direct ``sqrt(sum (x - m)^2)``, not ``|x|^2 + |m|^2 - 2 x.m``.  It is exact to
rounding (no cancellation for tight clusters far from the origin), bit-identical to
:func:`sparkmed.kernels.dispatch.distance`, and measured (``scripts/bench_assign.py``, one thread)
~4x faster than numpy's BLAS expansion at d = 8 and on par with it at d = 100.

Rows are processed in fixed chunks of :data:`CHUNK_ROWS` in parallel; weighted sums are accumulated per
chunk and the chunk partials added in chunk order, so every sum is deterministic for a given input,
whatever the number of threads.  ``X`` may be float32 or float64; all arithmetic is float64.
"""

from __future__ import annotations

import math

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
from sparkmed.kernels.checks import as_points, check_same_dim, check_weights
from sparkmed.kernels.metrics import resolve_metric
from sparkmed.kernels.silhouette import medoid_silhouette_samples

CHUNK_ROWS = 16 * BLOCK_ROWS
"""Rows per parallel task; the unit of the deterministic partial sums."""


@numba.njit(cache=True)
def n_chunks(n: int) -> int:
    """Number of fixed-size row chunks of :data:`CHUNK_ROWS` covering ``n`` rows (callable from numba)."""
    return (n + CHUNK_ROWS - 1) // CHUNK_ROWS


@numba.njit(cache=True, fastmath=False)
def init_two(best: np.ndarray, second: np.ndarray, arg: np.ndarray) -> None:
    """Reset the running two-smallest selection of a block (``inf``, ``inf``, index 0)."""
    for r in range(best.shape[0]):
        best[r] = math.inf
        second[r] = math.inf
        arg[r] = 0


@numba.njit(cache=True, fastmath=False)
def update_two(
    buf: np.ndarray, mt: int, jbase: int, best: np.ndarray, second: np.ndarray, arg: np.ndarray
) -> None:
    """Fold targets ``jbase .. jbase+mt-1`` (rows ``buf[0:mt]``, one column per point) into the running
    smallest / second smallest value and argmin of each point of the block. O(mt R).

    Targets are visited in increasing index and only a strictly smaller value replaces the minimum, so
    ties go to the lowest index; the loop over points is branch-free and vectorises.
    """
    R = best.shape[0]
    for jj in range(mt):
        v = buf[jj]
        j = jbase + jj
        for r in range(R):
            vr = v[r]
            b = best[r]
            s = second[r]
            lt = vr < b
            s2 = vr if vr < s else s
            second[r] = b if lt else s2
            arg[r] = j if lt else arg[r]
            best[r] = vr if lt else b


@numba.njit(cache=True, fastmath=False)
def block_nearest_two(
    code: int,
    X: np.ndarray,
    i0: int,
    nr: int,
    XbT: np.ndarray,
    xaux: np.ndarray,
    M: np.ndarray,
    Mp: np.ndarray,
    aux: np.ndarray,
    p: float,
    buf: np.ndarray,
    best: np.ndarray,
    second: np.ndarray,
    arg: np.ndarray,
) -> None:
    """Nearest / second-nearest medoid (reduced distances) of a loaded block of rows. O(k R d).

    ``(XbT, xaux)`` hold the block (:func:`~sparkmed.kernels.block_engine.load_block`), ``(Mp, aux)`` the
    prepared medoids; ``buf`` is a (>= min(k, TARGET_TILE), R) scratch.  Results in ``best``, ``second``
    (``inf`` when k == 1) and ``arg``.
    """
    k = M.shape[0]
    init_two(best, second, arg)
    for j0 in range(0, k, TARGET_TILE):
        j1 = min(k, j0 + TARGET_TILE)
        reduced_block(code, X, i0, nr, XbT, xaux, M, Mp, aux, p, j0, j1, buf)
        update_two(buf, j1 - j0, j0, best, second, arg)


@numba.njit(cache=True, fastmath=False)
def _nearest_two_chunk(
    code: int,
    X: np.ndarray,
    M: np.ndarray,
    Mp: np.ndarray,
    aux: np.ndarray,
    p: float,
    ch: int,
    labels: np.ndarray,
    dn: np.ndarray,
    ds: np.ndarray,
) -> None:
    """Nearest and second-nearest medoid of the rows of chunk ``ch``. O(CHUNK_ROWS k d)."""
    n, d = X.shape
    k = M.shape[0]
    XbT, xaux = new_block(d)
    buf = np.empty((min(k, TARGET_TILE), BLOCK_ROWS), dtype=np.float64)
    best = np.empty(BLOCK_ROWS, dtype=np.float64)
    second = np.empty(BLOCK_ROWS, dtype=np.float64)
    arg = np.empty(BLOCK_ROWS, dtype=np.int64)
    for i0 in range(ch * CHUNK_ROWS, min(n, (ch + 1) * CHUNK_ROWS), BLOCK_ROWS):
        nr = min(BLOCK_ROWS, n - i0)
        load_block(code, X, i0, nr, XbT, xaux)
        block_nearest_two(code, X, i0, nr, XbT, xaux, M, Mp, aux, p, buf, best, second, arg)
        for r in range(nr):
            labels[i0 + r] = arg[r]
            dn[i0 + r] = finalize_reduced(code, best[r], p)
            ds[i0 + r] = finalize_reduced(code, second[r], p) if k > 1 else math.inf


@numba.njit(cache=True, parallel=True, fastmath=False)
def _nearest_two_par(
    code: int, X: np.ndarray, M: np.ndarray, p: float, labels: np.ndarray, dn: np.ndarray, ds: np.ndarray
) -> None:
    """Parallel driver of :func:`_nearest_two_chunk` over all chunks. O(n k d)."""
    Mp, aux = prepare_targets(code, M)
    for ch in numba.prange(n_chunks(X.shape[0])):
        _nearest_two_chunk(code, X, M, Mp, aux, p, ch, labels, dn, ds)


@numba.njit(cache=True, fastmath=False)
def _nearest_two_ser(
    code: int, X: np.ndarray, M: np.ndarray, p: float, labels: np.ndarray, dn: np.ndarray, ds: np.ndarray
) -> None:
    """Serial driver of :func:`_nearest_two_chunk` (small inputs, one thread). O(n k d)."""
    Mp, aux = prepare_targets(code, M)
    for ch in range(n_chunks(X.shape[0])):
        _nearest_two_chunk(code, X, M, Mp, aux, p, ch, labels, dn, ds)


@numba.njit(cache=True, fastmath=False)
def _score_chunk(
    code: int,
    X: np.ndarray,
    C: np.ndarray,
    Cp: np.ndarray,
    aux: np.ndarray,
    k: int,
    p: float,
    w: np.ndarray,
    ch: int,
    acc: np.ndarray,
) -> None:
    """Add ``sum_o w(o) min_i d(o, C[s*k + i])`` over the rows of chunk ``ch`` to ``acc[s]``.

    Sets are processed in tiles of whole sets; the per-set minimum is taken across the block of rows
    (vectorised), rows are added in order. O(CHUNK_ROWS c k d).
    """
    n, d = X.shape
    c = C.shape[0] // k
    g = max(1, TARGET_TILE // k)  # sets per tile
    XbT, xaux = new_block(d)
    buf = np.empty((g * k, BLOCK_ROWS), dtype=np.float64)
    best = np.empty(BLOCK_ROWS, dtype=np.float64)
    for i0 in range(ch * CHUNK_ROWS, min(n, (ch + 1) * CHUNK_ROWS), BLOCK_ROWS):
        nr = min(BLOCK_ROWS, n - i0)
        load_block(code, X, i0, nr, XbT, xaux)
        for s0 in range(0, c, g):
            s1 = min(c, s0 + g)
            reduced_block(code, X, i0, nr, XbT, xaux, C, Cp, aux, p, s0 * k, s1 * k, buf)
            for s in range(s0, s1):
                q0 = (s - s0) * k
                for r in range(BLOCK_ROWS):
                    best[r] = buf[q0, r]
                for q in range(q0 + 1, q0 + k):
                    v = buf[q]
                    for r in range(BLOCK_ROWS):
                        best[r] = v[r] if v[r] < best[r] else best[r]
                total = acc[s]
                for r in range(nr):
                    total += w[i0 + r] * finalize_reduced(code, best[r], p)
                acc[s] = total


@numba.njit(cache=True, fastmath=False)
def _sum_rows_in_order(partial: np.ndarray) -> np.ndarray:
    """Column sums of ``partial`` (chunks x values), chunks added in order (deterministic)."""
    out = np.zeros(partial.shape[1], dtype=np.float64)
    for ch in range(partial.shape[0]):
        for j in range(partial.shape[1]):
            out[j] += partial[ch, j]
    return out


@numba.njit(cache=True, parallel=True, fastmath=False)
def _score_par(code: int, X: np.ndarray, C: np.ndarray, k: int, p: float, w: np.ndarray) -> np.ndarray:
    """Parallel driver of :func:`_score_chunk`: one partial per chunk, summed in chunk order."""
    Cp, aux = prepare_targets(code, C)
    nch = n_chunks(X.shape[0])
    partial = np.zeros((nch, C.shape[0] // k), dtype=np.float64)
    for ch in numba.prange(nch):
        _score_chunk(code, X, C, Cp, aux, k, p, w, ch, partial[ch])
    return _sum_rows_in_order(partial)


@numba.njit(cache=True, fastmath=False)
def _score_ser(code: int, X: np.ndarray, C: np.ndarray, k: int, p: float, w: np.ndarray) -> np.ndarray:
    """Serial driver of :func:`_score_chunk`, with the same summation order as :func:`_score_par`."""
    Cp, aux = prepare_targets(code, C)
    nch = n_chunks(X.shape[0])
    partial = np.zeros((nch, C.shape[0] // k), dtype=np.float64)
    for ch in range(nch):
        _score_chunk(code, X, C, Cp, aux, k, p, w, ch, partial[ch])
    return _sum_rows_in_order(partial)


@numba.njit(cache=True, fastmath=False)
def _ordered_sum(v: np.ndarray) -> float:
    """Deterministic sum: chunk partials of :data:`CHUNK_ROWS` added in order."""
    n = v.shape[0]
    total = 0.0
    for ch in range(n_chunks(n)):
        s = 0.0
        for i in range(ch * CHUNK_ROWS, min(n, (ch + 1) * CHUNK_ROWS)):
            s += v[i]
        total += s
    return total


def _prepare(
    X: np.ndarray, M: np.ndarray, metric: str, p: float, marg: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate the points and medoids; medoids become float64 (they are few)."""
    A = as_points(X, "X")
    B = as_points(M, marg, min_rows=1).astype(np.float64, copy=False)
    check_same_dim(A, B, "X", marg)
    code = resolve_metric(metric, p, A.shape[1])
    return A, np.ascontiguousarray(B), code


def nearest_two(
    X: np.ndarray, M: np.ndarray, metric: str = "euclidean", *, p: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest and second-nearest medoid of every row of ``X``.

    Args:
        X: points (n, d), float32 or float64 (n may be 0).
        M: medoids (k, d), k >= 1.
        metric, p: metric name and Minkowski parameter.

    Returns:
        ``(labels, dn, ds)``: int64 index of the nearest row of ``M`` (ties -> lowest index), float64
        distance to it, float64 distance to the second nearest (``inf`` when k == 1).

    Cost O(n k d), parallel over rows.
    """
    if callable(metric):  # a user's numba function: see kernels.custom
        return custom.nearest_two(metric, as_points(X, "X"), as_points(M, "M", min_rows=1))
    A, B, code = _prepare(X, M, metric, p, "M")
    n = A.shape[0]
    labels = np.empty(n, dtype=np.int64)
    dn = np.empty(n, dtype=np.float64)
    ds = np.empty(n, dtype=np.float64)
    kernel = _nearest_two_par if use_parallel(n, n * B.shape[0] * A.shape[1], CHUNK_ROWS) else _nearest_two_ser
    kernel(code, A, B, float(p), labels, dn, ds)
    return labels, dn, ds


def total_cost(
    X: np.ndarray,
    M: np.ndarray,
    metric: str = "euclidean",
    *,
    p: float = 2.0,
    weights: np.ndarray | None = None,
) -> float:
    """Total deviation ``sum_o w(o) min_i d(o, M[i])`` (weights default to 1). O(n k d), parallel."""
    _, dn, _ = nearest_two(X, M, metric, p=p)
    if weights is None:
        return float(_ordered_sum(dn))
    return float(_ordered_sum(check_weights(weights, dn.shape[0]) * dn))


def score_candidates(
    X: np.ndarray,
    C: np.ndarray,
    metric: str = "euclidean",
    *,
    p: float = 2.0,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Total deviation of each of ``c`` candidate medoid sets, in ONE pass over ``X``.

    Args:
        X: points (n, d), float32 or float64.
        C: candidate medoid sets (c, k, d), k >= 1.
        weights: None or float64 (n,) non-negative.

    Returns:
        float64 (c,): ``sum_o w(o) min_i d(o, C[j, i])`` for each ``j``.

    Each row is loaded once and compared with all ``c k`` medoids. O(n c k d), parallel over rows;
    deterministic for a given input.
    """
    A = as_points(X, "X")
    Carr = np.asarray(C)
    if Carr.ndim != 3:
        raise ValueError(f"C must be a 3-D array (c, k, d), got shape {Carr.shape}")
    c, k, d = Carr.shape
    if k < 1:
        raise ValueError("C must hold at least one medoid per candidate set (k >= 1)")
    flat = as_points(Carr.reshape(c * k, d), "C").astype(np.float64, copy=False)
    check_same_dim(A, flat, "X", "C")
    if callable(metric):  # a user's numba function: see kernels.custom
        return custom.score_candidates(metric, A, flat.reshape(c, k, d), check_weights(weights, A.shape[0]))
    code = resolve_metric(metric, p, A.shape[1])
    w = check_weights(weights, A.shape[0])
    kernel = _score_par if use_parallel(A.shape[0], A.shape[0] * c * k * d, CHUNK_ROWS) else _score_ser
    return kernel(code, A, np.ascontiguousarray(flat), k, float(p), w)


def cluster_stats(
    X: np.ndarray,
    M: np.ndarray,
    metric: str = "euclidean",
    *,
    p: float = 2.0,
    weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Per-cluster summary of assigning ``X`` to its nearest medoid in ``M``.

    Returns:
        ``(cost, sizes, cost_per_cluster)``: total deviation ``sum_o w(o) dn(o)`` (equal to
        :func:`total_cost`), float64 (k,) weighted cluster sizes ``sum_{o in i} w(o)``, and float64 (k,)
        ``sum_{o in i} w(o) dn(o)``.

    O(n k d), parallel over rows.
    """
    labels, dn, ds = nearest_two(X, M, metric, p=p)
    w = check_weights(weights, dn.shape[0])
    sums = cluster_sums(labels, dn, ds, w, np.asarray(M).shape[0])  # the per-cluster sums of the Spark pass
    return float(_ordered_sum(w * dn)), sums["sizes"], sums["cluster_costs"]


def cluster_sums(
    labels: np.ndarray, dn: np.ndarray, ds: np.ndarray, weights: np.ndarray, k: int
) -> dict[str, float | np.ndarray]:
    """The additive per-batch summary of an assignment (from :func:`nearest_two`), for the Spark pass that
    sums it over partitions.

    Returns:
        ``cost = sum w dn``, ``sizes`` (k,) ``= sum_{o in i} w``, ``cluster_costs`` (k,)
        ``= sum_{o in i} w dn``, ``silhouette_sum = sum w s`` with the medoid silhouette
        ``s = 1 - dn / ds`` (:func:`~sparkmed.kernels.silhouette.medoid_silhouette_samples`) and
        ``total_weight = sum w``.  O(n).
    """
    w = np.asarray(weights, dtype=np.float64)
    return {
        "cost": float(np.dot(w, dn)),
        "sizes": np.bincount(labels, weights=w, minlength=k),
        "cluster_costs": np.bincount(labels, weights=w * dn, minlength=k),
        "silhouette_sum": float(np.dot(w, medoid_silhouette_samples(dn, ds))),
        "total_weight": float(w.sum()),
    }


def transition_sums(
    previous_labels: np.ndarray, labels: np.ndarray, weights: np.ndarray, k_previous: int, k: int
) -> np.ndarray:
    """The additive per-batch transition table of two assignments of the same rows: float64
    ``(k_previous, k)`` with ``T[i, j] = sum of w over rows in previous cluster i and cluster j``.

    What the drift of a warm-started refit is built from (``sparkmed.fit.drift``): its row sums are the
    previous medoids' cluster sizes on the new data, its column sums the new sizes.  O(n).
    """
    flat = np.asarray(previous_labels, dtype=np.int64) * k + np.asarray(labels, dtype=np.int64)
    table = np.bincount(flat, weights=np.asarray(weights, dtype=np.float64), minlength=k_previous * k)
    return table.reshape(k_previous, k)
