"""The swap state of the matrix algorithms: nearest / second-nearest medoid caches and removal losses.

The bookkeeping of FasterPAM (Schubert & Rousseeuw 2021, "Fast and eager k-medoids clustering: O(k)
runtime improvement of the PAM, CLARA, and CLARANS algorithms"), shared by FasterPAM, FastPAM1, PAM and
FastCLARANS.  The numba kernels are generic over the matrix dtype (float32 or float64): per-point distances
are kept in the matrix dtype, every loss, removal loss and swap delta is accumulated in float64.

State kept for every point ``o``:

* ``nearest[o]``: position (0..k-1) in the medoid array of its nearest medoid, ``dn[o]`` its distance;
* ``second[o]``: position of its second-nearest medoid, ``ds[o]`` its distance (``-1`` / ``+inf`` when k = 1).

Removal loss of medoid position ``i``: ``R[i] = sum_{o: nearest[o] = i} w(o) * (ds[o] - dn[o])``, the loss
increase if medoid ``i`` were removed and its points fell back to their second-nearest medoid.  With it,
the TD change of swapping any medoid for a candidate ``c`` comes from ONE O(n) scan of ``c``'s matrix row
(:func:`candidate_delta`), instead of k scans in PAM.

The dissimilarity matrix is assumed symmetric: the distance of point ``o`` to a medoid or candidate
``c`` is read from row ``c`` (``diss[c, o]``), which is contiguous in a C-ordered matrix.

Development note: numba's on-disk cache (``cache=True``) only checks the source file of the cached
function itself, so after editing this module delete the cached ``*.nbi``/``*.nbc`` files of the kernel
modules that call into it (fasterpam, pam, clarans, init, alternating) in ``__pycache__``.
"""

from __future__ import annotations

import numba
import numpy as np

from sparkmed.kernels.result import KMedoidsResult


@numba.njit(cache=True, nogil=True)
def _second_after_swap(mdT, o, near, i, d_c):
    """New second-nearest medoid of point ``o`` after position ``i`` received a new medoid at distance
    ``d_c``: the new medoid is the incumbent, another position (not ``near``) replaces it only when
    strictly closer, the first such position on ties. Returns (position, distance). O(k)."""
    r = mdT[o]
    p1 = i
    d1 = d_c
    for j in range(r.shape[0]):
        if j == near or j == i:  # noqa: SIM109 (plain comparisons for numba)
            continue
        if r[j] < d1:
            p1 = j
            d1 = r[j]
    return p1, d1


@numba.njit(cache=True, nogil=True)
def assign_state(diss, med):
    """Initial assignment: nearest/second-nearest medoid caches of every point. O(n*k).

    Returns (nearest, second, dn, ds, mdT): dn/ds in the matrix dtype, and ``mdT`` (n, k) with
    ``mdT[o, j] = diss[med[j], o]`` (each point's distances to the medoids, contiguous per point, for the
    O(k) re-scans after a swap). A medoid is always its own nearest (even when another medoid is an exact
    duplicate of it).
    """
    n = diss.shape[0]
    k = med.shape[0]
    nearest = np.empty(n, dtype=np.int64)
    second = np.full(n, -1, dtype=np.int64)
    dn = np.empty(n, dtype=diss.dtype)
    ds = np.full(n, np.inf, dtype=diss.dtype)
    mdT = np.empty((n, k), dtype=diss.dtype)
    # row-wise over the medoids: contiguous reads of the matrix
    for o in range(n):
        nearest[o] = -1
    for j in range(k):
        row = diss[med[j]]
        for o in range(n):
            d = row[o]
            mdT[o, j] = d
            if nearest[o] < 0 or d < dn[o]:
                second[o] = nearest[o]
                ds[o] = dn[o] if nearest[o] >= 0 else np.inf
                nearest[o] = j
                dn[o] = d
            elif second[o] < 0 or d < ds[o]:
                second[o] = j
                ds[o] = d
    for j in range(k):
        m = med[j]
        if nearest[m] != j:
            # a duplicate medoid at an earlier position took it: the medoid itself comes first
            # (both at distance 0, so dn/ds and every loss/delta are unchanged)
            second[m] = nearest[m]
            ds[m] = dn[m]
            nearest[m] = j
            dn[m] = diss[m, m]
    return nearest, second, dn, ds, mdT


@numba.njit(cache=True, nogil=True)
def removal_loss(nearest, dn, ds, w, k):
    """R[i] = sum over points o nearest to i of w(o) * (ds(o) - dn(o)), in float64. O(n).

    For k = 1 every entry is 0 (there is no second medoid; deltas are then computed directly).
    """
    R = np.zeros(k, dtype=np.float64)
    if k == 1:
        return R
    for o in range(nearest.shape[0]):
        R[nearest[o]] += w[o] * (np.float64(ds[o]) - np.float64(dn[o]))
    return R


@numba.njit(cache=True, nogil=True)
def weighted_loss(dn, w):
    """TD = sum_o w(o) * dn(o) in float64."""
    s = 0.0
    for o in range(dn.shape[0]):
        s += w[o] * np.float64(dn[o])
    return s


@numba.njit(cache=True, nogil=True)
def scan_workspace(n):
    """(mask, words) workspace of ``candidate_delta`` for n points: a zeroed uint8 mask padded to a
    multiple of 8 and its uint64 view."""
    mask = np.zeros((n + 7) // 8 * 8, dtype=np.uint8)
    return mask, mask.view(np.uint64)


@numba.njit(cache=True, nogil=True)
def candidate_delta(row, nearest, dn, ds, w, R, delta, mask, words):
    """The FasterPAM one-scan delta of candidate ``c`` (``row = diss[c]``) against all k medoids. O(n+k).

    Fills ``delta[:k]`` (k = len(R)) with the TD change of swapping each medoid position for c, excluding the part
    shared by all positions; returns ``(best_position, change)`` with ``change = delta[best] + shared``.
    The best position is the first minimum of ``delta``.

    Only points with ``d(o, c) < ds(o)`` contribute. They are found first by a vectorised comparison
    into ``mask`` (uint8, from ``scan_workspace``); the contributions are then added in index order
    for the 8-point words of the mask that have a hit, so the float64 sums are exactly those of the plain
    loop over all points.
    """
    k = R.shape[0]  # delta may be longer (padded against false sharing between threads)
    n = row.shape[0]
    if k == 1:
        s = 0.0
        for o in range(n):
            s += w[o] * (np.float64(row[o]) - np.float64(dn[o]))
        delta[0] = 0.0
        return 0, s
    for i in range(k):
        delta[i] = R[i]
    for o in range(n):
        mask[o] = row[o] < ds[o]
    shared = 0.0
    nw = n // 8
    for b in range(nw + 1):
        if b < nw:
            if words[b] == 0:
                continue
            hi = b * 8 + 8
        else:
            hi = n  # the tail, not covered by a full word
        for o in range(b * 8, hi):
            # branch-free: min(d, dn) - dn is d - dn if d < dn, else exactly 0; min(max(d, dn), ds) - ds
            # is dn - ds if d < dn, d - ds if dn <= d < ds, else exactly 0. Adding exact zeros leaves the
            # float64 sums bit-identical to the branching form (if d < ds: if d < dn: ... else: ...).
            # (numba's inline="always" of this body as a helper made the scan 4x slower)
            d = row[o]
            e = dn[o]
            f = ds[o]
            shared += w[o] * (np.float64(min(d, e)) - np.float64(e))
            delta[nearest[o]] += w[o] * (np.float64(min(max(d, e), f)) - np.float64(f))
    best = 0
    bv = delta[0]
    for i in range(1, k):
        if delta[i] < bv:
            bv = delta[i]
            best = i
    return best, bv + shared


@numba.njit(cache=True, nogil=True)
def apply_swap(diss, med, nearest, second, dn, ds, mdT, w, R, i, c):
    """Replace the medoid at position ``i`` by point ``c``; update the caches (including ``mdT``) and
    recompute the removal losses ``R`` in the same pass (the same float64 sums as ``removal_loss``).
    O(n) plus O(k) per point whose nearest or second nearest left and was not replaced by c.

    Tie rules (they only affect labels, never a loss or delta): c takes over a point from its nearest
    medoid only when strictly closer; a point whose nearest left keeps c as nearest only when c is strictly
    closer than its second nearest, else the second becomes nearest; a new second is searched with c
    as the incumbent, replaced only by a strictly closer medoid (the first on ties). These rules give the
    same labels as the ``kmedoids`` package. The new medoid is its own nearest.
    """
    n = diss.shape[0]
    k = R.shape[0]
    med[i] = c
    row = diss[c]
    for j in range(k):
        R[j] = 0.0
    for o in range(n):
        d = row[o]
        mdT[o, i] = d
        if nearest[o] == i:
            if d < ds[o]:
                dn[o] = d  # c is (still) nearest
            else:
                # the old second becomes nearest; search the new second
                p1 = second[o]
                nearest[o] = p1
                dn[o] = ds[o]
                q1, e1 = _second_after_swap(mdT, o, p1, i, d)
                second[o] = q1
                ds[o] = e1
        elif d < dn[o]:
            second[o] = nearest[o]
            ds[o] = dn[o]
            nearest[o] = i
            dn[o] = d
        elif d < ds[o]:
            second[o] = i
            ds[o] = d
        elif second[o] == i:
            q1, e1 = _second_after_swap(mdT, o, nearest[o], i, d)
            second[o] = q1
            ds[o] = e1
        if o == c and nearest[c] != i:
            # a duplicate medoid at distance 0 had it: the new medoid comes first, the duplicate second
            second[c] = nearest[c]
            ds[c] = dn[c]
            nearest[c] = i
            dn[c] = d
        if k > 1:
            R[nearest[o]] += w[o] * (np.float64(ds[o]) - np.float64(dn[o]))


@numba.njit(cache=True, nogil=True)
def final_labels(diss, med):
    """Label of every point: position of its nearest medoid, the first position on ties; a medoid is
    labelled with its own position. Also returns the float64 loss-per-point distances. O(n*k)."""
    n = diss.shape[0]
    k = med.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    best = np.empty(n, dtype=diss.dtype)
    row = diss[med[0]]
    for o in range(n):
        best[o] = row[o]
    for j in range(1, k):
        row = diss[med[j]]
        for o in range(n):
            if row[o] < best[o]:
                best[o] = row[o]
                labels[o] = j
    for j in range(k):
        labels[med[j]] = j
        best[med[j]] = diss[med[j], med[j]]
    return labels, best


def state_result(med, nearest, dn, w, n_iter, n_swap) -> KMedoidsResult:
    """KMedoidsResult from the final caches: labels = nearest positions (a medoid labelled with its own
    position), loss = sum_o w(o) * dn(o) in float64."""
    med = np.ascontiguousarray(med, dtype=np.int64).copy()
    labels = np.ascontiguousarray(nearest, dtype=np.int64).copy()
    labels[med] = np.arange(med.shape[0], dtype=np.int64)
    loss = float(weighted_loss(dn, w))
    return KMedoidsResult(loss=loss, medoids=med, labels=labels, n_iter=int(n_iter), n_swap=int(n_swap))


def fresh_result(diss, med, w, n_iter, n_swap) -> KMedoidsResult:
    """KMedoidsResult from a fresh assignment: labels = nearest medoid position, the first position on
    ties, a medoid labelled with its own position; float64 loss."""
    med = np.ascontiguousarray(med, dtype=np.int64)
    labels, best = final_labels(diss, med)
    loss = float(weighted_loss(best, w))
    return KMedoidsResult(loss=loss, medoids=med.copy(), labels=labels, n_iter=int(n_iter), n_swap=int(n_swap))


@numba.njit(cache=True, nogil=True)
def point_costs(diss, w):
    """cost[c] = sum_o w(o) * d(c, o) in float64 for every point c (row sums). O(n^2)."""
    n = diss.shape[0]
    cost = np.empty(n, dtype=np.float64)
    for c in range(n):
        row = diss[c]
        s = 0.0
        for o in range(n):
            s += w[o] * np.float64(row[o])
        cost[c] = s
    return cost


@numba.njit(cache=True, nogil=True)
def best_single_medoid(diss, med, w):
    """k = 1 solved exactly: replace med[0] by the first point of minimal weighted distance sum unless
    med[0] is already optimal. Returns the number of swaps (0 or 1). O(n^2)."""
    cost = point_costs(diss, w)
    best = 0
    for c in range(1, cost.shape[0]):
        if cost[c] < cost[best]:
            best = c
    if cost[med[0]] <= cost[best]:
        return 0
    med[0] = best
    return 1
