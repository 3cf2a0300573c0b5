"""Naive pure-numpy reference implementations: independent oracles for the numba kernels.

Written plainly (loops and whole-array numpy operations, float64 throughout, no numba), from the
textbook definitions rather than from the kernels' code.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088


def make_points(name: str, n: int, d: int, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Random points suited to the metric: (lat, lon) for haversine, 0/1 for jaccard/hamming."""
    if name == "haversine":
        X = np.column_stack([rng.uniform(-89.0, 89.0, n), rng.uniform(-180.0, 180.0, n)])
    elif name in ("jaccard", "hamming"):
        X = (rng.random((n, d)) < 0.4).astype(np.float64)
    else:
        X = rng.normal(size=(n, d))
    return X.astype(dtype)


def dim_for(name: str, d: int) -> int:
    """Dimension to use for ``name``: haversine points are (lat, lon)."""
    return 2 if name == "haversine" else d


def naive_distance(name: str, a: np.ndarray, b: np.ndarray, p: float = 2.0) -> float:
    """Distance between two 1-D vectors, straight from each metric's definition."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if name == "euclidean":
        return float(np.sqrt(np.sum((a - b) ** 2)))
    if name == "sqeuclidean":
        return float(np.sum((a - b) ** 2))
    if name == "manhattan":
        return float(np.sum(np.abs(a - b)))
    if name == "chebyshev":
        return float(np.max(np.abs(a - b)))
    if name == "minkowski":
        if np.isinf(p):
            return float(np.max(np.abs(a - b)))
        return float(np.sum(np.abs(a - b) ** p) ** (1.0 / p))
    if name == "cosine":
        na = np.linalg.norm(a)
        nb = np.linalg.norm(b)
        if na == 0 and nb == 0:
            return 0.0
        if na == 0 or nb == 0:
            return 1.0
        return float(min(2.0, max(0.0, 1.0 - np.dot(a, b) / (na * nb))))
    if name == "haversine":
        # textbook atan2 form of the haversine formula, with numpy's radians
        lat1, lon1 = np.radians(a[0]), np.radians(a[1])
        lat2, lon2 = np.radians(b[0]), np.radians(b[1])
        h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        h = min(1.0, max(0.0, h))
        return float(2 * EARTH_RADIUS_KM * np.arctan2(np.sqrt(h), np.sqrt(1 - h)))
    if name == "jaccard":
        sa = set(np.flatnonzero(a != 0).tolist())
        sb = set(np.flatnonzero(b != 0).tolist())
        union = sa | sb
        if not union:
            return 0.0
        return 1.0 - len(sa & sb) / len(union)
    if name == "hamming":
        return float(np.mean(a != b))
    raise ValueError(name)


def naive_cross(X: np.ndarray, Y: np.ndarray, name: str, p: float = 2.0) -> np.ndarray:
    """(n, m) matrix of ``naive_distance`` by a double loop."""
    out = np.empty((len(X), len(Y)))
    for i in range(len(X)):
        for j in range(len(Y)):
            out[i, j] = naive_distance(name, X[i], Y[j], p)
    return out


def naive_nearest_two(
    X: np.ndarray, M: np.ndarray, name: str, p: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (first argmin), nearest and second-nearest distance via the full matrix and a sort."""
    D = naive_cross(X, M, name, p)
    labels = np.argmin(D, axis=1) if len(M) else np.zeros(len(X), dtype=np.int64)
    S = np.sort(D, axis=1)
    dn = S[:, 0]
    ds = S[:, 1] if D.shape[1] > 1 else np.full(len(X), np.inf)
    return labels.astype(np.int64), dn, ds


def naive_total_cost(X, M, name, p=2.0, weights=None) -> float:
    """``sum_o w(o) min_i d(o, M[i])``."""
    D = naive_cross(X, M, name, p)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * D.min(axis=1))) if len(X) else 0.0


def naive_score_candidates(X, C, name, p=2.0, weights=None) -> np.ndarray:
    """Total cost of every candidate medoid set, one set at a time."""
    return np.array([naive_total_cost(X, C[j], name, p, weights) for j in range(len(C))])


def naive_cluster_stats(X, M, name, p=2.0, weights=None) -> tuple[float, np.ndarray, np.ndarray]:
    """(cost, weighted sizes, cost per cluster) by looping over the points."""
    labels, dn, _ = naive_nearest_two(X, M, name, p)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
    sizes = np.zeros(len(M))
    per = np.zeros(len(M))
    for o in range(len(X)):
        sizes[labels[o]] += w[o]
        per[labels[o]] += w[o] * dn[o]
    return float(np.sum(w * dn)), sizes, per


def naive_swap_change(X, M, Cand, name, p=2.0, weights=None) -> np.ndarray:
    """(c, k) matrix: loss after replacing medoid i by candidate c, minus the loss before (brute force)."""
    before = naive_total_cost(X, M, name, p, weights)
    out = np.empty((len(Cand), len(M)))
    for c in range(len(Cand)):
        for i in range(len(M)):
            M2 = np.array(M, dtype=np.float64, copy=True)
            M2[i] = Cand[c]
            out[c, i] = naive_total_cost(X, M2, name, p, weights) - before
    return out


def naive_medoid_silhouette(dn, ds, weights=None) -> float:
    """Weighted mean of ``1 - dn/ds`` (0 where ds is 0 or inf)."""
    s = []
    for a, b in zip(dn, ds, strict=True):
        s.append(0.0 if (b == 0 or np.isinf(b)) else 1.0 - a / b)
    w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * np.array(s)) / np.sum(w))


def naive_silhouette_samples(diss, labels) -> np.ndarray:
    """Rousseeuw's silhouette by explicit loops over points and clusters."""
    diss = np.asarray(diss, dtype=np.float64)
    labels = np.asarray(labels)
    clusters = sorted(set(labels.tolist()))
    n = len(labels)
    s = np.zeros(n)
    for o in range(n):
        own = [q for q in range(n) if labels[q] == labels[o] and q != o]
        if not own or len(clusters) < 2:
            continue
        a = sum(diss[o, q] for q in own) / len(own)
        b = min(np.mean([diss[o, q] for q in range(n) if labels[q] == c]) for c in clusters if c != labels[o])
        m = max(a, b)
        s[o] = 0.0 if m == 0 else (b - a) / m
    return s
