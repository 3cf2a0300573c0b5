"""Naive numpy references for the medoid-silhouette kernels (no caches, no delta tricks).

The average medoid silhouette of a medoid set, computed from scratch with the ``kmedoids`` convention
f(a, b) = a / b, 0 when a == 0 or b == 0 (a point at distance 0 of a medoid has silhouette 1).
"""

from __future__ import annotations

import numpy as np


def loss_sum(diss, medoids, weights=None) -> float:
    """L = sum_o w(o) f(d1(o), d2(o)) over the two nearest medoids, from scratch."""
    d = np.sort(np.asarray(diss, dtype=np.float64)[:, np.asarray(medoids, dtype=np.int64)], axis=1)
    a, b = d[:, 0], d[:, 1]
    f = np.where((a == 0) | (b == 0), 0.0, a / np.where(b == 0, 1.0, b))
    w = np.ones(d.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    return float((w * f).sum())


def medoid_silhouette(diss, medoids, weights=None) -> float:
    """1 - L / sum w."""
    n = np.asarray(diss).shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    return 1.0 - loss_sum(diss, medoids, w) / float(w.sum())


def swap_changes(diss, medoids, c, weights=None) -> np.ndarray:
    """Change of L for swapping every medoid position i with point c, each set evaluated from scratch."""
    med = np.asarray(medoids, dtype=np.int64)
    base = loss_sum(diss, med, weights)
    out = np.empty(med.shape[0])
    for i in range(med.shape[0]):
        m = med.copy()
        m[i] = c
        out[i] = loss_sum(diss, m, weights) - base
    return out


def best_swap(diss, medoids, weights=None):
    """(best change of L, position, point) over all (medoid, non-medoid) swaps, by brute force."""
    med = np.asarray(medoids, dtype=np.int64)
    best = (0.0, -1, -1)
    for c in range(np.asarray(diss).shape[0]):
        if c in med:
            continue
        ch = swap_changes(diss, med, c, weights)
        i = int(np.argmin(ch))
        if ch[i] < best[0]:
            best = (float(ch[i]), i, c)
    return best
