"""Triangle-inequality pruning of the swap-delta accumulator (exact), for the prunable metrics.

The pruned path of :func:`sparkmed.kernels.swap_delta.swap_deltas`: the same additive terms, computed for
fewer (row, candidate) pairs.  Which metrics may use it is the ``prunable`` field of their registry entry
(:data:`sparkmed.kernels.metrics.PRUNABLE_METRICS`); each needs a branch in :func:`_reduced_row` or
:func:`_reduced_row_calls` (a prunable metric without one raises, never yields distance 0) and, if its
distance is not its reduced value, in :func:`prune_slack`.

A candidate ``c`` changes the terms of a row ``o`` only if ``d(o, c) < ds(o)``.  For a true metric
``d(o, c) >= d(c, m_i) - dn(o)`` with ``i = n(o)``, so only the candidates with
``d(c, m_i) < dn(o) + ds(o)`` can contribute.  The pruned kernel (default for the prunable metrics, k >= 2 and at
least ``swap_delta.PRUNE_MIN_CANDIDATES`` candidates; never for sqeuclidean or cosine, which violate the
triangle inequality) works as follows.

* Once per call (:func:`candidate_order`, cached across calls with the same medoids and candidates): the
  ``k x c`` distances ``d(c, m_i)``, and every medoid's candidates sorted by them.
* Per fixed segment of :data:`SEGMENT_ROWS` rows: the nearest two medoids of every row, exactly as in the
  full scan (same blocks, same loss / removal sums); the rows are bucketed by nearest medoid, and every
  row gets the number of its medoid's nearest candidates within its bound (a binary search).
* Per bucket: its medoid's sorted candidates, in tiles of :data:`CAND_TILE` (gathered and transposed);
  every row of the bucket meets the candidates of the tile within its bound, with the candidates as the
  vectorised axis (distances and the branch-free FasterPAM update into per-candidate accumulators).

Every evaluated pair is treated exactly as by the full scan (bit-identical reduced distance, same
comparisons), and a pair is skipped only when ``d(c, m_i) > (dn + ds) (1 + rel) + abs``, with a margin
(:func:`prune_slack`) far above the rounding error of the three computed distances: the pruned and the
full kernel add the same terms, in a different order (all terms of a sum have the same sign, so the
results agree to a few ulps).  Cost per call O(k c (d + log c)) plus O(n k d) plus O(d) per evaluated
(row, candidate) pair, instead of O(n (k + c) d); ``scripts/bench_swap_delta.py`` measures it.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sparkmed.kernels.assign import block_nearest_two
from sparkmed.kernels.block_engine import (
    BLOCK_ROWS,
    TARGET_TILE,
    finalize_reduced,
    load_block,
    new_block,
    prepare_targets,
)
from sparkmed.kernels.dense import EARTH_RADIUS_KM, haversine_h
from sparkmed.kernels.dispatch import distance
from sparkmed.kernels.metrics import CHEBYSHEV, EUCLIDEAN, HAMMING, HAVERSINE, JACCARD, MANHATTAN, MINKOWSKI

SEGMENT_ROWS = 16 * 1024
"""Rows bucketed by nearest medoid at a time by the pruned kernel (a fixed split of its chunks, which
have at least this many rows)."""

CAND_TILE = 512
"""Candidates per tile of the pruned kernel (larger tiles measured faster up to 512, even at d = 64)."""

PRUNE_REL_MARGIN = 1e-12
"""Relative safety margin of the pruning bound (see :func:`prune_slack`)."""



def prune_slack(code: int, p: float, d: int) -> tuple[float, float]:
    """``(rel, abs)`` of the pruning test: a (row, candidate) pair is skipped only when
    ``d(c, m_i) > (dn + ds) (1 + rel) + abs``.

    ``rel`` covers the relative rounding error of the three computed distances of the triangle
    inequality (at most ~``d`` ulps each for the summed metrics, hence the ``d`` term); ``abs`` covers
    the absolute errors: underflow of the reduced sums (euclidean, minkowski: terms below the smallest
    normal number are lost), and for haversine the ``asin`` of ``sqrt(h)`` near ``h = 1`` (nearly
    antipodal points), whose error is up to ~``2 R sqrt(8 eps)`` = 5e-4 km: ``abs`` is 2 R 1e-6 = 13 m.
    """
    rel = PRUNE_REL_MARGIN + 8.0 * (d + 4) * 2.0**-53
    slack = 1e-300
    lost = (d + 1) * 2.0**-1021  # bound on the reduced value lost to underflow
    if code == EUCLIDEAN:
        slack += 4.0 * math.sqrt(lost)
    elif code == MINKOWSKI and p != math.inf:
        slack += 4.0 * lost ** (1.0 / p)
    elif code == HAVERSINE:
        slack += 2.0 * EARTH_RADIUS_KM * 1e-6
    return rel, slack


@numba.njit(cache=True, fastmath=False)
def _candidate_medoid_distances(code: int, M: np.ndarray, Cand: np.ndarray, p: float) -> np.ndarray:
    """``out[i, j] = d(Cand[j], M[i])`` (k, c); a non-finite value (overflow) becomes 0, so that
    candidate is never pruned for that medoid. O(k c d)."""
    k = M.shape[0]
    c = Cand.shape[0]
    out = np.empty((k, c), dtype=np.float64)
    for i in range(k):
        for j in range(c):
            v = distance(code, Cand[j], M[i], p)
            out[i, j] = v if v < math.inf else 0.0
    return out


_ORDER_CACHE: list[tuple] = []
"""The last :func:`candidate_order` result with its key (the Spark pass calls ``swap_deltas`` once per
Arrow batch with the same medoids and candidates)."""


def clear_order_cache() -> None:
    """Forget the cached :func:`candidate_order` result (benchmarks time the first call of a batch)."""
    _ORDER_CACHE.clear()


def candidate_order(code: int, p: float, M: np.ndarray, Cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every medoid's candidates sorted by their distance to it: ``(Dsort, Ord)``, both (k, c), with
    ``Dsort[i, q] = d(Cand[Ord[i, q]], M[i])`` non-decreasing in ``q``. O(k c (d + log c)).

    ``M`` and ``Cand`` are C-contiguous float64.  The last result is kept and reused when called again
    with bit-identical medoids, candidates, metric and ``p``.  The order of equal distances does not
    matter: every candidate has its own accumulators, and the pairs it is evaluated on depend on its
    distance only.
    """
    key = (code, float(p), M.shape, Cand.shape)
    if _ORDER_CACHE:
        ckey, cM, cC, Dsort, Ord = _ORDER_CACHE[0]
        if ckey == key and np.array_equal(cM.view(np.uint64), M.view(np.uint64)) and np.array_equal(
            cC.view(np.uint64), Cand.view(np.uint64)
        ):
            return Dsort, Ord
    D = _candidate_medoid_distances(code, M, Cand, float(p))
    Ord = np.ascontiguousarray(np.argsort(D, axis=1), dtype=np.int64)
    Dsort = np.ascontiguousarray(np.take_along_axis(D, Ord, axis=1))
    _ORDER_CACHE[:] = [(key, M.copy(), Cand.copy(), Dsort, Ord)]
    return Dsort, Ord


@numba.njit(cache=True, fastmath=False)
def _reduced_row(code: int, Xp: np.ndarray, q: int, CtT: np.ndarray, mq: int, out: np.ndarray, p: float) -> None:
    """Reduced distances ``out[jj]`` of the row ``q`` of ``Xp`` (rows prepared by
    :func:`~sparkmed.kernels.block_engine.prepare_targets`) to the gathered candidates ``jj < mq`` (prepared,
    transposed: ``CtT`` (d, tile)), for euclidean, manhattan, chebyshev, minkowski and hamming. O(mq d).

    The arithmetic of :func:`~sparkmed.kernels.block_engine.reduced_block` (``row - target``, terms combined
    in the order ``t = 0 .. d-1``), so the values are bit-identical to the full scan's; the inner loops run
    over the candidates and vectorise.
    """
    d = Xp.shape[1]
    for jj in range(mq):
        out[jj] = 0.0
    if code == EUCLIDEAN:
        # four dimensions per pass over ``out`` (the additions stay in the order t = 0 .. d-1)
        t = 0
        while t + 4 <= d:
            x0 = Xp[q, t]
            x1 = Xp[q, t + 1]
            x2 = Xp[q, t + 2]
            x3 = Xp[q, t + 3]
            for jj in range(mq):
                e0 = x0 - CtT[t, jj]
                e1 = x1 - CtT[t + 1, jj]
                e2 = x2 - CtT[t + 2, jj]
                e3 = x3 - CtT[t + 3, jj]
                out[jj] = (((out[jj] + e0 * e0) + e1 * e1) + e2 * e2) + e3 * e3
            t += 4
        for tt in range(t, d):
            x = Xp[q, tt]
            for jj in range(mq):
                e0 = x - CtT[tt, jj]
                out[jj] += e0 * e0
    elif code == MANHATTAN:
        t = 0
        while t + 4 <= d:
            x0 = Xp[q, t]
            x1 = Xp[q, t + 1]
            x2 = Xp[q, t + 2]
            x3 = Xp[q, t + 3]
            for jj in range(mq):
                a0 = abs(x0 - CtT[t, jj])
                a1 = abs(x1 - CtT[t + 1, jj])
                a2 = abs(x2 - CtT[t + 2, jj])
                a3 = abs(x3 - CtT[t + 3, jj])
                out[jj] = (((out[jj] + a0) + a1) + a2) + a3
            t += 4
        for tt in range(t, d):
            x = Xp[q, tt]
            for jj in range(mq):
                out[jj] += abs(x - CtT[tt, jj])
    elif code == CHEBYSHEV or (code == MINKOWSKI and p == math.inf):
        for t in range(d):
            x = Xp[q, t]
            for jj in range(mq):
                v = abs(x - CtT[t, jj])
                out[jj] = v if v > out[jj] else out[jj]
    elif code == MINKOWSKI:
        for t in range(d):
            x = Xp[q, t]
            for jj in range(mq):
                out[jj] += abs(x - CtT[t, jj]) ** p
    elif code == HAMMING:
        for t in range(d):
            x = Xp[q, t]
            for jj in range(mq):
                out[jj] += 1.0 if x != CtT[t, jj] else 0.0
        for jj in range(mq):
            out[jj] = out[jj] / d
    else:  # a metric marked prunable in the registry without its branch here must fail, never give distance 0
        raise ValueError("swap_pruned._reduced_row: no pruned branch for this metric")


@numba.njit(cache=True, fastmath=False)
def _reduced_row_calls(
    code: int,
    Xg: np.ndarray,
    Xp: np.ndarray,
    xaux: np.ndarray,
    q: int,
    Ct: np.ndarray,
    CtT: np.ndarray,
    taux: np.ndarray,
    p: float,
    mq: int,
    out: np.ndarray,
) -> None:
    """:func:`_reduced_row` for haversine (``(Xp, xaux)``, ``(CtT, taux)`` prepared) and jaccard (scalar
    :func:`~sparkmed.kernels.dispatch.distance` on the raw rows ``Xg`` and candidates ``Ct``, as in the
    full scan); kept apart, as calls in a loop slow the vectorised metrics down. O(mq d)."""
    if code == HAVERSINE:
        lat = Xp[q, 0]
        lon = Xp[q, 1]
        cq = xaux[q]
        for jj in range(mq):
            out[jj] = haversine_h(lat, lon, cq, CtT[0, jj], CtT[1, jj], taux[jj])
    else:
        for jj in range(mq):
            out[jj] = distance(code, Xg[q], Ct[jj], p)


@numba.njit(cache=True, fastmath=False)
def _scan_row(
    code: int,
    p: float,
    vals: np.ndarray,
    mq: int,
    r1: float,
    r2: float,
    dn: float,
    ds: float,
    w: float,
    sh: np.ndarray,
    de: np.ndarray,
) -> None:
    """FasterPAM update of one row against ``mq`` candidates (reduced distances ``vals``) into the
    per-candidate accumulators ``sh`` (shared) and ``de`` (delta of the row's medoid). O(mq).

    The same terms as the full scan (``swap_delta._scan_candidates``).  Where the distance is the reduced
    value or its square root, the loop is branch-free (non-contributing pairs add an exact 0.0, which leaves the sums
    unchanged) and vectorises; the other metrics finalise only the contributing pairs.
    """
    a = w * (dn - ds)
    if code == EUCLIDEAN:
        for jj in range(mq):
            x = vals[jj]
            dist = math.sqrt(x)
            sh[jj] += w * (dist - dn) if x < r1 else 0.0
            de[jj] += a if x < r1 else (w * (dist - ds) if x < r2 else 0.0)
    elif code in (MANHATTAN, CHEBYSHEV, HAMMING, JACCARD) or (code == MINKOWSKI and p == math.inf):
        for jj in range(mq):
            x = vals[jj]
            sh[jj] += w * (x - dn) if x < r1 else 0.0
            de[jj] += a if x < r1 else (w * (x - ds) if x < r2 else 0.0)
    else:
        for jj in range(mq):
            x = vals[jj]
            if x < r2:
                dist = finalize_reduced(code, x, p)
                if x < r1:
                    sh[jj] += w * (dist - dn)
                    de[jj] += a
                else:
                    de[jj] += w * (dist - ds)


@numba.njit(cache=True, fastmath=False)
def swap_chunk_pruned(
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
    Dsort: np.ndarray,
    Ord: np.ndarray,
    rel: float,
    slack: float,
    row: np.ndarray,
) -> None:
    """The full scan's chunk accumulation (``swap_delta._swap_chunk``) with triangle-inequality pruning
    (k >= 2, a prunable metric of the registry; see the module doc).  ``(Dsort, Ord)`` from
    :func:`candidate_order`; a row meets the candidates with ``Dsort <= (dn + ds) (1 + rel) + slack``.
    ``row[-1]`` counts the evaluated pairs.

    Per segment of :data:`SEGMENT_ROWS`: assignment (loss and removal in row order, as the full scan),
    stable bucketing by nearest medoid, rows gathered and prepared in bucket order; then per bucket and
    tile of candidates, every row against the tile's candidates within its bound.  The accumulation order
    is fixed by the segment (rows in bucket order, buckets in medoid order), whatever the thread count.
    O(segment k d + evaluated pairs d) per segment.
    """
    d = X.shape[1]
    k = M.shape[0]
    c = Cand.shape[0]
    removal = row[1 : 1 + k]
    shared = row[1 + k : 1 + k + c]
    deltaT = row[1 + k + c : 1 + k + c + k * c].reshape((k, c))
    seg = min(SEGMENT_ROWS, i_stop - i_start)
    XbT, xaux = new_block(d)
    buf = np.empty((min(k, TARGET_TILE), BLOCK_ROWS), dtype=np.float64)
    b1 = np.empty(BLOCK_ROWS, dtype=np.float64)
    b2 = np.empty(BLOCK_ROWS, dtype=np.float64)
    blab = np.empty(BLOCK_ROWS, dtype=np.int64)
    # per-segment state, in row order (suffix s) and in bucket order (suffix g)
    lab_s = np.empty(seg, dtype=np.int64)
    r1_s = np.empty(seg, dtype=np.float64)
    r2_s = np.empty(seg, dtype=np.float64)
    dn_s = np.empty(seg, dtype=np.float64)
    ds_s = np.empty(seg, dtype=np.float64)
    perm = np.empty(seg, dtype=np.int64)
    r1g = np.empty(seg, dtype=np.float64)
    r2g = np.empty(seg, dtype=np.float64)
    dng = np.empty(seg, dtype=np.float64)
    dsg = np.empty(seg, dtype=np.float64)
    wg = np.empty(seg, dtype=np.float64)
    cnt = np.empty(seg, dtype=np.int64)
    Xg = np.empty((seg, d), dtype=X.dtype)
    start = np.empty(k + 1, dtype=np.int64)
    fill = np.empty(k, dtype=np.int64)
    Ct = np.empty((CAND_TILE, d), dtype=np.float64)
    CtT = np.empty((d, CAND_TILE), dtype=np.float64)
    taux = np.zeros(CAND_TILE, dtype=np.float64)
    vals = np.empty(CAND_TILE, dtype=np.float64)
    sh_t = np.empty(CAND_TILE, dtype=np.float64)
    de_t = np.empty(CAND_TILE, dtype=np.float64)
    scale = 1.0 + rel
    loss = 0.0
    pairs = 0
    for s0 in range(i_start, i_stop, SEGMENT_ROWS):
        m = min(SEGMENT_ROWS, i_stop - s0)
        # 1. nearest / second-nearest medoid, exactly as the full scan (same blocks, same order)
        for i0 in range(s0, s0 + m, BLOCK_ROWS):
            nr = min(BLOCK_ROWS, s0 + m - i0)
            load_block(code, X, i0, nr, XbT, xaux)
            block_nearest_two(code, X, i0, nr, XbT, xaux, M, Mp, maux, p, buf, b1, b2, blab)
            for r in range(nr):
                q = i0 - s0 + r
                wr = w[i0 + r]
                dn = finalize_reduced(code, b1[r], p)
                ds = finalize_reduced(code, b2[r], p)
                loss += wr * dn
                removal[blab[r]] += wr * (ds - dn)
                lab_s[q] = blab[r]
                r1_s[q] = b1[r]
                r2_s[q] = b2[r]
                dn_s[q] = dn
                ds_s[q] = ds
        # 2. bucket the rows by nearest medoid (stable counting sort)
        for i in range(k + 1):
            start[i] = 0
        for q in range(m):
            start[lab_s[q] + 1] += 1
        for i in range(k):
            start[i + 1] += start[i]
            fill[i] = start[i]
        for q in range(m):
            i = lab_s[q]
            perm[fill[i]] = q
            fill[i] += 1
        # 3. gather the rows in bucket order; cnt = how many of its medoid's nearest candidates a row needs
        for g in range(m):
            q = perm[g]
            src = s0 + q
            for t in range(d):
                Xg[g, t] = X[src, t]
            r1g[g] = r1_s[q]
            r2g[g] = r2_s[q]
            dng[g] = dn_s[q]
            dsg[g] = ds_s[q]
            wg[g] = w[src]
            bound = (dn_s[q] + ds_s[q]) * scale + slack
            cnt[g] = np.searchsorted(Dsort[lab_s[q]], bound, side="right")  # Dsort <= bound
        Xp, xaux_g = prepare_targets(code, Xg[:m])
        # 4. every bucket against its medoid's candidates, nearest first, in tiles: each row of the bucket
        #    meets the candidates of the tile within its own bound
        for i in range(k):
            g0 = start[i]
            g1 = start[i + 1]
            top = 0
            for g in range(g0, g1):
                top = max(top, cnt[g])
            for pos0 in range(0, top, CAND_TILE):
                mt = min(CAND_TILE, top - pos0)
                for t in range(d):
                    for jj in range(mt):
                        CtT[t, jj] = Cp[Ord[i, pos0 + jj], t]
                for jj in range(mt):
                    j = Ord[i, pos0 + jj]
                    taux[jj] = caux[j]
                    sh_t[jj] = 0.0
                    de_t[jj] = 0.0
                    if code == JACCARD:
                        for t in range(d):
                            Ct[jj, t] = Cand[j, t]
                if code in (HAVERSINE, JACCARD):  # a separate loop: their calls slow the others
                    for g in range(g0, g1):
                        mq = min(mt, cnt[g] - pos0)
                        if mq > 0:
                            _reduced_row_calls(code, Xg, Xp, xaux_g, g, Ct, CtT, taux, p, mq, vals)
                            _scan_row(code, p, vals, mq, r1g[g], r2g[g], dng[g], dsg[g], wg[g], sh_t, de_t)
                            pairs += mq
                else:
                    for g in range(g0, g1):
                        mq = min(mt, cnt[g] - pos0)
                        if mq > 0:
                            _reduced_row(code, Xp, g, CtT, mq, vals, p)
                            _scan_row(code, p, vals, mq, r1g[g], r2g[g], dng[g], dsg[g], wg[g], sh_t, de_t)
                            pairs += mq
                for jj in range(mt):
                    j = Ord[i, pos0 + jj]
                    shared[j] += sh_t[jj]
                    deltaT[i, j] += de_t[jj]
    row[0] += loss
    row[1 + k + c + k * c] += float(pairs)
