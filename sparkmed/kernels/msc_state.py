"""Shared state of the medoid-silhouette swap algorithms (FastMSC, FasterMSC, DynMSC, PAMMEDSIL).

Objective (Lenssen & Schubert, "Clustering by Direct Optimization of the Medoid Silhouette", SISAP 2022):
maximise the average medoid silhouette

    MS = 1 - sum_o w(o) f(d1(o), d2(o)) / sum_o w(o),   f(a, b) = a / b   (0 when a = 0 or b = 0)

where d1, d2 are the distances of o to its nearest and second-nearest medoid (the ``kmedoids`` package's
convention for ``f``: a point at distance 0 of a medoid has silhouette 1). The swap algorithms minimise the
*loss sum* ``L = sum_o w(o) f(d1, d2)``.

Swap change in one scan.  Swapping medoid m_i for a non-medoid x_c changes the two nearest medoids of o
only through d(o, x_c) and the loss of m_i: if m_i is neither the nearest nor the second nearest, the new
pair is the two smallest of {d1, d2, d(o, x_c)}; if it is the nearest, of {d2, d3, d(o, x_c)}; if the
second nearest, of {d1, d3, d(o, x_c)} (d3: the third-nearest medoid distance, cached per point). So

    dL(i, c) = R(i) + sum_o w(o) [t_other(o) - f(d1, d2)] + (corrections of the points whose n1 or n2 is i)

where the *removal loss* ``R(i)`` collects the change of the points whose n1 or n2 is i when x_c is far
(d(o, x_c) >= d3: the pair becomes (d2, d3) or (d1, d3)); only points with d(o, x_c) < d3 contribute to
the scan, each O(1). One candidate scan is O(n + k) for all k swaps (PAMMEDSIL needs O(k n) per swap).

Caches per point: the positions n1, n2, n3 (into ``med``) and distances d1 <= d2 <= d3 of the three
nearest medoids (d3 = inf when k = 2). Losses and changes are accumulated in float64.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sparkmed.kernels.driver import Start, prologue
from sparkmed.kernels.result import KMedoidsResult


@numba.njit(cache=True, nogil=True, inline="always")
def pair_loss(a, b):
    """f(a, b) = a / b, 0 when a == 0 or b == 0 (the loss term of one point)."""
    if a == 0.0 or b == 0.0:
        return 0.0
    return a / b


@numba.njit(cache=True, nogil=True)
def nearest_three(diss, med, o, n3, d3, p):
    """Positions and distances of the three nearest medoids of point o into ``n3[p, :]`` / ``d3[p, :]``
    (first position wins ties; missing ones: position -1, distance inf). O(k)."""
    a = b = c = math.inf
    ia = ib = ic = -1
    for i in range(med.shape[0]):
        d = np.float64(diss[med[i], o])
        if d < a:
            c, ic = b, ib
            b, ib = a, ia
            a, ia = d, i
        elif d < b:
            c, ic = b, ib
            b, ib = d, i
        elif d < c:
            c, ic = d, i
    n3[p, 0], n3[p, 1], n3[p, 2] = ia, ib, ic
    d3[p, 0], d3[p, 1], d3[p, 2] = a, b, c


@numba.njit(cache=True, nogil=True)
def assign_three(diss, med):
    """(near, dist): the three nearest medoids of every point, (n, 3) int64 positions and float64
    distances. O(n k)."""
    n = diss.shape[0]
    near = np.empty((n, 3), dtype=np.int64)
    dist = np.empty((n, 3), dtype=np.float64)
    for o in range(n):
        nearest_three(diss, med, o, near, dist, o)
    return near, dist


@numba.njit(cache=True, nogil=True)
def loss_sum(dist, w):
    """L = sum_o w(o) f(d1(o), d2(o)) in float64."""
    s = 0.0
    for o in range(dist.shape[0]):
        s += w[o] * pair_loss(dist[o, 0], dist[o, 1])
    return s


@numba.njit(cache=True, nogil=True)
def removal_losses(near, dist, w, k, terms):
    """R(i): change of L when medoid position i is removed and no closer medoid appears: the points whose
    nearest is i move to (d2, d3), those whose second nearest is i to (d1, d3). Also fills the per-point
    terms the candidate scans reuse: ``terms[o] = (f(d1, d2), f(d2, d3) - f(d1, d2), f(d1, d3) - f(d1, d2))``.
    O(n + k)."""
    R = np.zeros(k, dtype=np.float64)
    for o in range(near.shape[0]):
        a, b, c = dist[o, 0], dist[o, 1], dist[o, 2]
        base = pair_loss(a, b)
        rb = pair_loss(b, c) - base
        ra = pair_loss(a, c) - base
        terms[o, 0], terms[o, 1], terms[o, 2] = base, rb, ra
        R[near[o, 0]] += w[o] * rb
        R[near[o, 1]] += w[o] * ra
    return R


@numba.njit(cache=True, nogil=True)
def candidate_changes(row, near, dist, terms, w, R, delta):
    """The change dL(i, c) of every swap (medoid position i -> candidate c) from ONE scan of the
    candidate's matrix row ``row = diss[c]``, into ``delta``; returns (best i, its change), the first
    minimum. Only points with d(o, c) < d3(o) change the removal losses ``R`` (``terms``: from
    :func:`removal_losses`); each costs at most two divisions. O(n + k)."""
    k = delta.shape[0]
    shared = 0.0
    for i in range(k):
        delta[i] = R[i]
    for o in range(row.shape[0]):
        d = np.float64(row[o])
        if not d < dist[o, 2]:
            continue
        a = dist[o, 0]
        b = dist[o, 1]
        wo = w[o]
        base = terms[o, 0]
        # new pair if another medoid is removed: two smallest of {a, b, d}; if the nearest is removed:
        # of {b, d3, d}; if the second nearest: of {a, d3, d}
        if d < b:
            q = pair_loss(d, a) if d < a else pair_loss(a, d)  # another or the second nearest removed
            shared += wo * (q - base)
            delta[near[o, 0]] += wo * ((pair_loss(d, b) - q) - terms[o, 1])
            delta[near[o, 1]] -= wo * terms[o, 2]
        else:  # b <= d < d3: only the removal of the nearest or second nearest changes o
            delta[near[o, 0]] += wo * ((pair_loss(b, d) - base) - terms[o, 1])
            delta[near[o, 1]] += wo * ((pair_loss(a, d) - base) - terms[o, 2])
    best = 0
    for i in range(k):
        delta[i] += shared
        if delta[i] < delta[best]:
            best = i
    return best, delta[best]


@numba.njit(cache=True, nogil=True)
def apply_msc_swap(diss, med, near, dist, i, c):
    """Replace medoid position i by point c and update the three-nearest caches: a point that had i among
    its three nearest is rescanned (O(k)); any other point only compares d(o, c) with its three. O(n) plus
    O(k) per rescanned point."""
    med[i] = c
    row = diss[c]
    for o in range(near.shape[0]):
        if near[o, 0] == i or near[o, 1] == i or near[o, 2] == i:
            nearest_three(diss, med, o, near, dist, o)
            continue
        d = np.float64(row[o])
        if d < dist[o, 0]:
            near[o, 2], dist[o, 2] = near[o, 1], dist[o, 1]
            near[o, 1], dist[o, 1] = near[o, 0], dist[o, 0]
            near[o, 0], dist[o, 0] = i, d
        elif d < dist[o, 1]:
            near[o, 2], dist[o, 2] = near[o, 1], dist[o, 1]
            near[o, 1], dist[o, 1] = i, d
        elif d < dist[o, 2]:
            near[o, 2], dist[o, 2] = i, d


def silhouette_of(loss: float, w: np.ndarray) -> float:
    """The average medoid silhouette from the loss sum: ``1 - L / sum w``."""
    return float(1.0 - loss / float(np.sum(w)))


def msc_result(med: np.ndarray, near: np.ndarray, dist: np.ndarray, w: np.ndarray, n_iter: int,
               n_swap: int) -> KMedoidsResult:
    """KMedoidsResult of a medoid-silhouette run: ``loss`` = the average medoid silhouette (higher is
    better, as ``kmedoids`` returns it), labels = nearest positions (a medoid labelled with its own)."""
    med = np.ascontiguousarray(med, dtype=np.int64).copy()
    labels = np.ascontiguousarray(near[:, 0], dtype=np.int64).copy()
    labels[med] = np.arange(med.shape[0], dtype=np.int64)
    return KMedoidsResult(loss=silhouette_of(loss_sum(dist, w), w), medoids=med, labels=labels,
                          n_iter=int(n_iter), n_swap=int(n_swap))


def msc_prologue(diss: object, medoids: object, init: str, random_state: object, weights: object,
                 max_iter: object) -> Start:
    """The matrix algorithms' prologue (:func:`sparkmed.kernels.driver.prologue`) plus the silhouette's
    own condition: at least two medoids (with one, every point has silhouette 0 by definition and there is
    nothing to optimise)."""
    start = prologue(diss, medoids, init, random_state, weights, max_iter)
    if start.med.shape[0] < 2:
        raise ValueError(f"the medoid silhouette needs k >= 2 medoids, got {start.med.shape[0]}")
    return start
