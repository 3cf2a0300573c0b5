"""Naive pure-numpy reference implementations: independent oracles for the numba kernels.

Written plainly (loops and whole-array numpy operations, float64 throughout, no numba), from the
textbook definitions rather than from the kernels' code.
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.0088

# Encoded-row layouts (see sparkmed.kernels.encoded), written down here independently of the kernels.
SPARSE_NAMES = ("sparse_euclidean", "sparse_manhattan", "sparse_cosine", "sparse_jaccard")
SET_NAMES = ("set_jaccard", "set_dice")
GOWER_NAMES = ("gower",)
ENCODED_NAMES = SPARSE_NAMES + SET_NAMES + GOWER_NAMES
MISSING = -1e300  # Gower missing value; anything below -1e299 is missing


def _with_duplicates(X: np.ndarray, rng: np.random.Generator, frac: float = 0.05) -> np.ndarray:
    """Some rows replaced by copies of earlier rows."""
    for i in range(1, len(X)):
        if rng.random() < frac:
            X[i] = X[rng.integers(0, i)]
    return X


def gower_header(m: int) -> tuple[np.ndarray, np.ndarray]:
    """The (types, weights) of the random Gower tables: a fixed function of m (every call agrees)."""
    types = np.array([(0, 1, 2)[j % 3] for j in range(m)], dtype=np.float64)
    weights = np.array([1.0 + 0.5 * (j % 4) for j in range(m)])
    return types, weights


def make_points(name: str, n: int, d: int, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Random points suited to the metric: (lat, lon) for haversine, 0/1 for jaccard/hamming, valid encoded
    rows of length ``d`` (from :func:`dim_for`) for the encoded-row metrics.

    Encoded rows: ELL sparse vectors with indices from a small universe (overlaps), normal values, now and
    then an explicit zero, an empty row or a duplicate; padded sets of codes from a small universe (large
    53-bit codes in float64, small ones in float32, where they must stay exact); Gower rows of mixed columns
    (types 0, 1, 2 in turn) with missing values and all-missing rows in float64 only (MISSING is -inf in
    float32, which the matrix builders reject as non-finite).
    """
    if name == "haversine":
        X = np.column_stack([rng.uniform(-89.0, 89.0, n), rng.uniform(-180.0, 180.0, n)])
    elif name in ("jaccard", "hamming"):
        X = (rng.random((n, d)) < 0.4).astype(np.float64)
    elif name in SPARSE_NAMES:
        L = (d - 1) // 2
        X = np.zeros((n, d))
        for i in range(n):
            k = 0 if rng.random() < 0.06 else int(rng.integers(1, L + 1))
            idx = np.sort(rng.choice(2 * L + 1, size=k, replace=False))
            vals = rng.normal(size=k)
            vals[rng.random(k) < 0.08] = 0.0
            X[i, 0] = k
            X[i, 1 : 1 + k] = idx
            X[i, 1 + L : 1 + L + k] = vals
        X = _with_duplicates(X, rng)
    elif name in SET_NAMES:
        L = d - 1
        U = 2 * L + 1
        step = 1 if np.dtype(dtype) == np.float32 else 2**52 // U
        X = np.zeros((n, d))
        for i in range(n):
            k = 0 if rng.random() < 0.06 else int(rng.integers(1, L + 1))
            codes = np.sort(rng.choice(U, size=k, replace=False)) * step + 3
            X[i, 0] = k
            X[i, 1 : 1 + k] = codes
        X = _with_duplicates(X, rng)
    elif name in GOWER_NAMES:
        m = (d - 1) // 3
        types, weights = gower_header(m)
        vals = np.empty((n, m))
        for j in range(m):
            if types[j] == 0:
                vals[:, j] = rng.uniform(0.0, 1.0, n)
            elif types[j] == 1:
                vals[:, j] = rng.integers(0, 4, n)
            else:
                vals[:, j] = (rng.random(n) < 0.3).astype(np.float64)
        if np.dtype(dtype) != np.float32:
            vals[rng.random((n, m)) < 0.1] = MISSING
            vals[rng.random(n) < 0.03] = MISSING  # all-missing rows
        X = np.column_stack([np.full(n, float(m)), np.tile(types, (n, 1)), np.tile(weights, (n, 1)), vals])
        X = _with_duplicates(X, rng)
    else:
        X = rng.normal(size=(n, d))
    return X.astype(dtype)


def dim_for(name: str, d: int) -> int:
    """Dimension to use for ``name``: haversine points are (lat, lon); encoded rows of width/columns ``d``
    have length ``1 + 2d`` (ELL sparse), ``1 + d`` (sets) or ``1 + 3d`` (Gower)."""
    if name == "haversine":
        return 2
    if name in SPARSE_NAMES:
        return 1 + 2 * d
    if name in SET_NAMES:
        return 1 + d
    if name in GOWER_NAMES:
        return 1 + 3 * d
    return d


def decode_sparse(r: np.ndarray) -> dict[int, float]:
    """An ELL row ``[nnz, idx (L), values (L)]`` as ``{index: value}`` (stored zeros included)."""
    L = (len(r) - 1) // 2
    k = int(r[0])
    return {int(i): float(v) for i, v in zip(r[1 : 1 + k], r[1 + L : 1 + L + k], strict=True)}


def decode_set(r: np.ndarray) -> set[int]:
    """A padded set row ``[s, codes (L)]`` as a Python set of ints."""
    return {int(c) for c in r[1 : 1 + int(r[0])]}


def naive_gower(a: np.ndarray, b: np.ndarray) -> float:
    """Gower's coefficient by a direct loop over the columns (daisy's definition; see the registry)."""
    m = (len(a) - 1) // 3
    types, weights = a[1 : 1 + m], a[1 + m : 1 + 2 * m]
    xa, xb = a[1 + 2 * m :], b[1 + 2 * m :]
    num = den = 0.0
    for j in range(m):
        miss_a, miss_b = xa[j] < -1e299, xb[j] < -1e299
        if miss_a or miss_b:
            continue
        if types[j] == 2 and xa[j] == 0 and xb[j] == 0:
            continue
        s = min(1.0, abs(xa[j] - xb[j])) if types[j] == 0 else float(xa[j] != xb[j])
        num += weights[j] * s
        den += weights[j]
    if den == 0:
        same = all((xa[j] < -1e299) == (xb[j] < -1e299) and (xa[j] < -1e299 or xa[j] == xb[j]) for j in range(m))
        return 0.0 if same else 1.0
    return num / den


def naive_encoded_distance(name: str, a: np.ndarray, b: np.ndarray) -> float:
    """Distance between two encoded rows, from the decoded vectors / sets / columns."""
    if name in SPARSE_NAMES:
        da, db = decode_sparse(a), decode_sparse(b)
        keys = sorted(set(da) | set(db))  # the union of the indices, ascending
        if name == "sparse_euclidean":
            s = 0.0
            for k in keys:
                s += (da.get(k, 0.0) - db.get(k, 0.0)) ** 2
            return math.sqrt(s)
        if name == "sparse_manhattan":
            s = 0.0
            for k in keys:
                s += abs(da.get(k, 0.0) - db.get(k, 0.0))
            return s
        if name == "sparse_cosine":
            va = np.array([da.get(k, 0.0) for k in keys])
            vb = np.array([db.get(k, 0.0) for k in keys])
            na, nb = np.linalg.norm(va), np.linalg.norm(vb)
            if na == 0 and nb == 0:
                return 0.0
            if na == 0 or nb == 0:
                return 1.0
            return float(min(2.0, max(0.0, 1.0 - np.dot(va, vb) / (na * nb))))
        sa = {k for k, v in da.items() if v != 0}
        sb = {k for k, v in db.items() if v != 0}
        return len(sa ^ sb) / len(sa | sb) if sa | sb else 0.0
    if name in SET_NAMES:
        sa, sb = decode_set(a), decode_set(b)
        if name == "set_jaccard":
            return len(sa ^ sb) / len(sa | sb) if sa | sb else 0.0
        return len(sa ^ sb) / (len(sa) + len(sb)) if sa or sb else 0.0
    if name in GOWER_NAMES:
        return naive_gower(a, b)
    raise ValueError(name)


def naive_distance(name: str, a: np.ndarray, b: np.ndarray, p: float = 2.0) -> float:
    """Distance between two 1-D vectors, straight from each metric's definition."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if name in ENCODED_NAMES:
        return naive_encoded_distance(name, a, b)
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
