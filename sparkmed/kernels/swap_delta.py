"""Per-batch FasterPAM swap-delta accumulator for the distributed FastCLARANS refinement.

For one batch of rows, :func:`swap_deltas` returns four arrays that are ADDITIVE over disjoint batches
(the driver sums them over partitions).  On the union of the batches, the exact change of the total
deviation when medoid ``i`` is replaced by candidate ``c`` is::

    removal[i] + delta[c, i] + shared[c]

(FasterPAM's decomposition: ``removal[i]`` is the cost of removing medoid ``i`` with every point falling
back to its second-nearest medoid, ``shared[c]`` the gain of the points that move to ``c`` whatever is
removed, and ``delta[c, i]`` the correction for the points of cluster ``i`` / those that ``c`` serves.)

Rows meet every candidate (the full scan, :func:`_swap_chunk`), or, for the metrics whose registry entry
is ``prunable`` (the triangle inequality holds), only the candidates within a triangle-inequality bound
(:mod:`sparkmed.kernels.swap_pruned`, exact).  Cost O(n (k + c) d) for the full scan;
``scripts/bench_swap_delta.py`` measures both.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sparkmed.kernels import custom
from sparkmed.kernels.assign import CHUNK_ROWS, block_nearest_two
from sparkmed.kernels.block_engine import (
    BLOCK_ROWS,
    TARGET_TILE,
    finalize_reduced,
    load_block,
    new_block,
    prepare_targets,
    reduced_block,
)
from sparkmed.kernels.checks import as_points, check_same_dim, check_weights
from sparkmed.kernels.metrics import PRUNABLE_METRICS, resolve_metric
from sparkmed.kernels.swap_pruned import SEGMENT_ROWS, candidate_order, prune_slack, swap_chunk_pruned

ACCUMULATOR_BUDGET_BYTES = 64 * 2**20
"""Upper bound on the per-chunk accumulators of one call (at least 8 chunks are always allowed)."""

PRUNE_MIN_CANDIDATES = 32
"""``prune=None`` prunes from this many candidates on (below, the full scan is as fast: measured)."""


def chunk_rows_for(n: int, k: int, c: int) -> int:
    """Rows per accumulator chunk: :data:`CHUNK_ROWS`, doubled until the per-chunk accumulators
    (``1 + k + c + k c`` float64 each) fit :data:`ACCUMULATOR_BUDGET_BYTES`, or 8 chunks remain (the
    pruned kernel uses at least ``swap_pruned.SEGMENT_ROWS``).

    A function of ``(n, k, c)`` only, so the summation order (and the result) does not depend on the
    number of threads.
    """
    size = 8 * (1 + k + c + k * c)
    rows = CHUNK_ROWS
    while (n + rows - 1) // rows > 8 and ((n + rows - 1) // rows) * size > ACCUMULATOR_BUDGET_BYTES:
        rows *= 2
    return rows


@numba.njit(cache=True, fastmath=False)
def _scan_candidates(
    code: int,
    p: float,
    buf: np.ndarray,
    cbase: int,
    mt: int,
    nr: int,
    k: int,
    r1: np.ndarray,
    r2: np.ndarray,
    dn: np.ndarray,
    ds: np.ndarray,
    lab: np.ndarray,
    wr: np.ndarray,
    shared: np.ndarray,
    deltaT: np.ndarray,
) -> None:
    """FasterPAM one-scan of a tile of candidates ``cbase .. cbase+mt-1`` over a block of rows.

    ``buf[cc, r]`` is the reduced distance of row ``r`` to candidate ``cbase + cc``; ``r1``/``r2`` the
    reduced nearest/second distances, ``dn``/``ds`` the distances.  Comparisons are made on reduced
    values (the update is continuous at ties, so this equals comparing distances).  O(mt nr).
    """
    for cc in range(mt):
        c = cbase + cc
        v = buf[cc]
        for r in range(nr):
            x = v[r]
            if k > 1:
                if x < r2[r]:
                    dist = finalize_reduced(code, x, p)
                    if x < r1[r]:
                        shared[c] += wr[r] * (dist - dn[r])
                        deltaT[lab[r], c] += wr[r] * (dn[r] - ds[r])
                    else:
                        deltaT[lab[r], c] += wr[r] * (dist - ds[r])
            else:
                dist = finalize_reduced(code, x, p)
                if x < r1[r]:
                    shared[c] += wr[r] * (dist - dn[r])
                else:
                    deltaT[0, c] += wr[r] * (dist - dn[r])


@numba.njit(cache=True, fastmath=False)
def _swap_chunk(
    code: int,
    X: np.ndarray,
    M: np.ndarray,
    Mp: np.ndarray,
    maux: np.ndarray,
    Cand: np.ndarray,
    Cp: np.ndarray,
    caux: np.ndarray,
    p: float,
    w: np.ndarray,
    i_start: int,
    i_stop: int,
    row: np.ndarray,
) -> None:
    """Accumulate the rows ``i_start .. i_stop-1`` into ``row = [loss, removal (k), shared (c),
    deltaT (k*c), pairs]`` (full scan: every row meets every candidate). O((i_stop - i_start) (k + c) d)."""
    n, d = X.shape
    k = M.shape[0]
    c = Cand.shape[0]
    removal = row[1 : 1 + k]
    shared = row[1 + k : 1 + k + c]
    deltaT = row[1 + k + c : 1 + k + c + k * c].reshape((k, c))
    XbT, xaux = new_block(d)
    buf = np.empty((TARGET_TILE, BLOCK_ROWS), dtype=np.float64)
    r1 = np.empty(BLOCK_ROWS, dtype=np.float64)
    r2 = np.empty(BLOCK_ROWS, dtype=np.float64)
    lab = np.empty(BLOCK_ROWS, dtype=np.int64)
    dn = np.empty(BLOCK_ROWS, dtype=np.float64)
    ds = np.empty(BLOCK_ROWS, dtype=np.float64)
    wr = np.empty(BLOCK_ROWS, dtype=np.float64)
    loss = 0.0
    for i0 in range(i_start, i_stop, BLOCK_ROWS):
        nr = min(BLOCK_ROWS, i_stop - i0)
        load_block(code, X, i0, nr, XbT, xaux)
        block_nearest_two(code, X, i0, nr, XbT, xaux, M, Mp, maux, p, buf, r1, r2, lab)
        for r in range(nr):
            wr[r] = w[i0 + r]
            dn[r] = finalize_reduced(code, r1[r], p)
            loss += wr[r] * dn[r]
            if k > 1:
                ds[r] = finalize_reduced(code, r2[r], p)
                removal[lab[r]] += wr[r] * (ds[r] - dn[r])
            else:
                ds[r] = math.inf
        for c0 in range(0, c, TARGET_TILE):
            c1 = min(c, c0 + TARGET_TILE)
            reduced_block(code, X, i0, nr, XbT, xaux, Cand, Cp, caux, p, c0, c1, buf)
            _scan_candidates(code, p, buf, c0, c1 - c0, nr, k, r1, r2, dn, ds, lab, wr, shared, deltaT)
    row[0] += loss
    row[1 + k + c + k * c] += float((i_stop - i_start) * c)


@numba.njit(cache=True, fastmath=False)
def _swap_finish(acc: np.ndarray, k: int, c: int) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """Add the chunk accumulators in chunk order and unpack ``(loss, removal, delta (c, k), shared,
    evaluated pairs)``."""
    L = acc.shape[1]
    total = np.zeros(L, dtype=np.float64)
    for ch in range(acc.shape[0]):
        for q in range(L):
            total[q] += acc[ch, q]
    removal = total[1 : 1 + k].copy()
    if k == 1:
        removal[0] = math.inf
    shared = total[1 + k : 1 + k + c].copy()
    delta = np.ascontiguousarray(total[1 + k + c : 1 + k + c + k * c].reshape((k, c)).T)
    return total[0], removal, delta, shared, total[1 + k + c + k * c]


@numba.njit(cache=True, parallel=True, fastmath=False)
def _swap_par(
    code: int,
    X: np.ndarray,
    M: np.ndarray,
    Cand: np.ndarray,
    p: float,
    w: np.ndarray,
    rows_per_chunk: int,
    prune: bool,
    Dsort: np.ndarray,
    Ord: np.ndarray,
    rel: float,
    slack: float,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """Row-parallel driver: each fixed chunk of rows owns one accumulator vector. O(n (k + c) d), or with
    ``prune`` (candidate order ``(Dsort, Ord)`` from ``swap_pruned.candidate_order``) O(n k d + evaluated pairs d)."""
    n = X.shape[0]
    k = M.shape[0]
    c = Cand.shape[0]
    Mp, maux = prepare_targets(code, M)
    Cp, caux = prepare_targets(code, Cand)
    nch = (n + rows_per_chunk - 1) // rows_per_chunk
    acc = np.zeros((nch, 2 + k + c + k * c), dtype=np.float64)
    for ch in numba.prange(nch):
        i1 = min(n, (ch + 1) * rows_per_chunk)
        if prune:
            swap_chunk_pruned(
                code, X, M, Mp, maux, Cand, Cp, caux, p, w, ch * rows_per_chunk, i1, Dsort, Ord, rel, slack, acc[ch]
            )
        else:
            _swap_chunk(code, X, M, Mp, maux, Cand, Cp, caux, p, w, ch * rows_per_chunk, i1, acc[ch])
    return _swap_finish(acc, k, c)


@numba.njit(cache=True, fastmath=False)
def _swap_ser(
    code: int,
    X: np.ndarray,
    M: np.ndarray,
    Cand: np.ndarray,
    p: float,
    w: np.ndarray,
    rows_per_chunk: int,
    prune: bool,
    Dsort: np.ndarray,
    Ord: np.ndarray,
    rel: float,
    slack: float,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float]:
    """Serial driver with the same chunks and summation order as :func:`_swap_par`."""
    n = X.shape[0]
    k = M.shape[0]
    c = Cand.shape[0]
    Mp, maux = prepare_targets(code, M)
    Cp, caux = prepare_targets(code, Cand)
    nch = (n + rows_per_chunk - 1) // rows_per_chunk
    acc = np.zeros((nch, 2 + k + c + k * c), dtype=np.float64)
    for ch in range(nch):
        i1 = min(n, (ch + 1) * rows_per_chunk)
        if prune:
            swap_chunk_pruned(
                code, X, M, Mp, maux, Cand, Cp, caux, p, w, ch * rows_per_chunk, i1, Dsort, Ord, rel, slack, acc[ch]
            )
        else:
            _swap_chunk(code, X, M, Mp, maux, Cand, Cp, caux, p, w, ch * rows_per_chunk, i1, acc[ch])
    return _swap_finish(acc, k, c)


def _resolve_prune(prune: bool | None, metric: str, k: int, c: int, n: int) -> bool:
    """Whether to run the pruned kernel: ``None`` = for the metrics of :data:`PRUNABLE_METRICS` with at
    least :data:`PRUNE_MIN_CANDIDATES` candidates; never for k == 1 (nothing can be pruned) or an empty
    batch / candidate set.

    Raises:
        ValueError: ``prune=True`` with a metric that violates the triangle inequality.
    """
    if prune is None:
        prune = metric in PRUNABLE_METRICS and c >= PRUNE_MIN_CANDIDATES
    elif prune and metric not in PRUNABLE_METRICS:
        raise ValueError(
            f"prune=True needs a metric satisfying the triangle inequality ({', '.join(PRUNABLE_METRICS)}), "
            f"got {metric!r}"
        )
    return bool(prune) and k > 1 and c > 0 and n > 0


def swap_deltas_counted(
    X: np.ndarray,
    M: np.ndarray,
    Cand: np.ndarray,
    metric: str = "euclidean",
    *,
    p: float = 2.0,
    weights: np.ndarray | None = None,
    prune: bool | None = None,
) -> tuple[tuple[float, np.ndarray, np.ndarray, np.ndarray], int]:
    """:func:`swap_deltas` and the number of (row, candidate) distances it evaluated (``n c`` without
    pruning): ``((loss, removal, delta, shared), pairs)``.  For benchmarks and tests."""
    if callable(metric):  # a user's numba function: see kernels.custom (no pruning)
        A = as_points(X, "X")
        out = custom.swap_deltas(metric, A, as_points(M, "M", min_rows=1), as_points(Cand, "Cand"),
                                 check_weights(weights, A.shape[0]))
        return out, A.shape[0] * np.asarray(Cand).shape[0]
    A = as_points(X, "X")
    B = np.ascontiguousarray(as_points(M, "M", min_rows=1).astype(np.float64, copy=False))
    Cc = np.ascontiguousarray(as_points(Cand, "Cand").astype(np.float64, copy=False))
    check_same_dim(A, B, "X", "M")
    check_same_dim(A, Cc, "X", "Cand")
    code = resolve_metric(metric, p, A.shape[1])
    w = check_weights(weights, A.shape[0])
    use = _resolve_prune(prune, metric, B.shape[0], Cc.shape[0], A.shape[0])
    rel, slack = prune_slack(code, float(p), A.shape[1])
    if use:
        Dsort, Ord = candidate_order(code, float(p), B, Cc)
    else:
        Dsort, Ord = np.empty((0, Cc.shape[0]), dtype=np.float64), np.empty((0, Cc.shape[0]), dtype=np.int64)
    rows = chunk_rows_for(A.shape[0], B.shape[0], Cc.shape[0])
    if use:
        rows = max(rows, SEGMENT_ROWS)
    kernel = _swap_par if (A.shape[0] > rows and numba.get_num_threads() > 1) else _swap_ser
    loss, removal, delta, shared, pairs = kernel(code, A, B, Cc, float(p), w, rows, use, Dsort, Ord, rel, slack)
    return (float(loss), removal, delta, shared), int(pairs)


def swap_deltas(
    X: np.ndarray,
    M: np.ndarray,
    Cand: np.ndarray,
    metric: str = "euclidean",
    *,
    p: float = 2.0,
    weights: np.ndarray | None = None,
    prune: bool | None = None,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """FasterPAM swap-delta terms of one batch of rows, additive over disjoint batches.

    Every row ``o`` (weight ``w``) is assigned to its nearest medoid ``n(o)`` (distance ``dn``) and
    second nearest (``ds``) among the rows of ``M``; then, for every candidate ``c`` (row of ``Cand``)
    with ``d = d(o, c)``::

        if d < dn(o):   shared[c] += w (d - dn(o));  delta[c, n(o)] += w (dn(o) - ds(o))
        elif d < ds(o): delta[c, n(o)] += w (d - ds(o))

    Args:
        X: the batch of points (n, d), float32 or float64 (n may be 0).
        M: current medoids (k, d), k >= 1.
        Cand: candidate points (c, d), c >= 0.
        weights: None or float64 (n,) non-negative.
        prune: skip, by the triangle inequality, the (row, candidate) pairs that cannot contribute
            (:mod:`sparkmed.kernels.swap_pruned`; exact: the same terms, up to the order of the float64 additions).
            ``None`` (default): for the prunable metrics (:data:`~sparkmed.kernels.metrics.PRUNABLE_METRICS`)
            with at least :data:`PRUNE_MIN_CANDIDATES` candidates; ``True``: for those metrics whatever ``c``;
            ``False``: full scan.  Ignored for k == 1 (every candidate affects every row).

    Returns:
        ``(loss, removal, delta, shared)``: ``loss = sum w dn`` (float); ``removal`` float64 (k,),
        ``removal[i] = sum_{n(o) = i} w (ds - dn)``; ``delta`` float64 (c, k); ``shared`` float64 (c,).
        Summed over batches, ``removal[i] + delta[c, i] + shared[c]`` is the exact change of the total
        deviation for swapping medoid ``i`` with candidate ``c``.

        k == 1 (no second-nearest medoid): ``removal[0] = +inf`` (the medoid cannot be removed without a
        replacement) and ``delta[c, 0] = sum_{d >= dn} w (d - dn)``, so that ``delta[c, 0] + shared[c]``
        is the exact change for replacing the single medoid by ``c`` (still additive).

    Raises:
        ValueError: invalid inputs, or ``prune=True`` with sqeuclidean / cosine.

    Cost O(n (k + c) d) distance terms without pruning; with pruning O(k c (d + log c)) once (cached
    for repeated calls with the same ``M`` and ``Cand``) plus O(n k d) plus O(d) per (row, candidate) pair
    within the triangle bound.  Parallel over fixed row chunks with per-chunk accumulators (deterministic
    for a given input, whatever the thread count).
    """
    result, _ = swap_deltas_counted(X, M, Cand, metric, p=p, weights=weights, prune=prune)
    return result
