"""Shared helpers of the k-medoids kernels: argument checking and the numba building blocks.

Everything here is numpy in / numpy out (no pyspark). The numba kernels are generic over the matrix
dtype (float32 or float64): per-point distances are kept in the matrix dtype, every loss, removal loss
and swap delta is accumulated in float64.

State kept for every point ``o`` (see ALGORITHMS.md):

* ``nearest[o]``: position (0..k-1) in the medoid array of its nearest medoid, ``dn[o]`` its distance;
* ``second[o]``: position of its second-nearest medoid, ``ds[o]`` its distance (``-1`` / ``+inf`` when k = 1).

Removal loss of medoid position ``i``: ``R[i] = sum_{o: nearest[o] = i} w(o) * (ds[o] - dn[o])``.

The dissimilarity matrix is assumed symmetric: the distance of point ``o`` to a medoid or candidate
``c`` is read from row ``c`` (``diss[c, o]``), which is contiguous in a C-ordered matrix.

Development note: numba's on-disk cache (``cache=True``) only checks the source file of the cached
function itself, so after editing this module delete the cached ``*.nbi``/``*.nbc`` files of the kernel
modules that call into it (fasterpam, pam, clarans, init, alternating) in ``__pycache__``.
"""

from __future__ import annotations

import numbers

import numba
import numpy as np

from sparkmed.kernels.result import KMedoidsResult

__all__ = [
    "as_generator",
    "check_diss",
    "check_weights",
    "check_max_iter",
    "check_medoids_arg",
    "assign_state",
    "removal_loss",
    "candidate_delta",
    "scan_workspace",
    "apply_swap",
    "final_labels",
    "weighted_loss",
    "state_result",
    "fresh_result",
    "point_costs",
    "best_single_medoid",
    "splitmix_next",
    "random_below",
]


# --------------------------------------------------------------------------------------------------
# argument checking (plain Python / numpy, runs before any numba kernel)
# --------------------------------------------------------------------------------------------------


def as_generator(random_state) -> np.random.Generator:
    """Turn ``random_state`` into a ``numpy.random.Generator``.

    * ``None``: fresh, unpredictable entropy from the OS (not reproducible);
    * an ``int`` (>= 0): ``numpy.random.default_rng(random_state)`` (reproducible);
    * a ``numpy.random.Generator``: used as is (its state advances);
    * a legacy ``numpy.random.RandomState``: one 63-bit integer is drawn from it to seed a Generator
      (reproducible for a given RandomState state; its state advances).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**63 - 1, dtype=np.int64)))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be None, a non-negative int, a numpy.random.Generator or a "
        f"numpy.random.RandomState, got {type(random_state).__name__}"
    )


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


def check_diss(diss) -> np.ndarray:
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


def check_weights(weights, n: int) -> np.ndarray:
    """Validate ``weights`` (None or length-n, finite, >= 0, not all zero); return float64 (n,).

    ``None`` becomes an array of ones (weight 1 is exact in every product, so unweighted results are
    bit-identical to an unweighted computation).
    """
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = np.asarray(weights)
    if w.dtype.kind not in "biuf":
        raise ValueError(f"weights must be numeric, got dtype {w.dtype}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    if not np.any(w > 0):
        raise ValueError("weights must not be all zero")
    return w


def check_max_iter(max_iter) -> int:
    if not isinstance(max_iter, numbers.Integral) or isinstance(max_iter, bool) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative int, got {max_iter!r}")
    return int(max_iter)


def check_medoids_arg(medoids, n: int):
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


# --------------------------------------------------------------------------------------------------
# numba building blocks
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# a tiny seeded PRNG usable inside numba kernels (SplitMix64), independent of numba's global state
# --------------------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def splitmix_next(state):
    """Advance the SplitMix64 state (a uint64 array of length 1) and return the next uint64."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def random_below(state, bound):
    """Uniform integer in [0, bound) (bound >= 1) by rejection, unbiased."""
    b = np.uint64(bound)
    limit = np.uint64(0xFFFFFFFFFFFFFFFF) - (np.uint64(0xFFFFFFFFFFFFFFFF) % b)
    while True:
        x = splitmix_next(state)
        if x < limit:
            return np.int64(x % b)
