"""Medoid silhouette (from nearest / second-nearest medoid distances), the simplified silhouette (points
and medoids) and the classic Rousseeuw (1987) silhouette (from a dissimilarity matrix).

The medoid silhouette costs O(n) once the O(n k) assignment is known, the classic one O(n^2).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sparkmed.kernels.checks import check_weights
from sparkmed.kernels.matrix import cross


@numba.njit(cache=True, fastmath=False)
def _medoid_silhouette_kernel(dn: np.ndarray, ds: np.ndarray, out: np.ndarray) -> None:
    """``out = 1 - dn / ds``; 0 where ``ds == 0`` or ``ds == inf``. O(n)."""
    for i in range(dn.shape[0]):
        b = ds[i]
        out[i] = 0.0 if (b == 0.0 or b == math.inf) else 1.0 - dn[i] / b


def _as_vector(v: object, arg: str, n: int | None = None) -> np.ndarray:
    """``v`` as a contiguous finite-or-inf float64 1-D array (length ``n`` if given)."""
    a = np.ascontiguousarray(np.asarray(v, dtype=np.float64))
    if a.ndim != 1:
        raise ValueError(f"{arg} must be a 1-D array, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{arg} must have length {n}, got {a.shape[0]}")
    if np.isnan(a).any():
        raise ValueError(f"{arg} contains NaN")
    return a


def _as_weights(weights: object, n: int) -> np.ndarray:
    """Weights of the n points with a positive sum (None -> ones): a 1-D vector of length n, then the
    common weight rule (:func:`~sparkmed.kernels.checks.check_weights`)."""
    return check_weights(None if weights is None else _as_vector(weights, "weights", n), n, positive_total=True)


def medoid_silhouette_samples(dn: np.ndarray, ds: np.ndarray) -> np.ndarray:
    """Medoid silhouette of every point: ``s(o) = 1 - dn(o) / ds(o)``.

    ``dn``/``ds`` are the distances to the nearest and second-nearest medoid (e.g. from
    :func:`sparkmed.kernels.assign.nearest_two`).  ``s = 0`` where ``ds == 0`` (duplicated medoids)
    and where ``ds == inf`` (k = 1).  O(n).

    Raises:
        ValueError: shapes differ or NaN values.
    """
    a = _as_vector(dn, "dn")
    b = _as_vector(ds, "ds", a.shape[0])
    out = np.empty(a.shape[0], dtype=np.float64)
    _medoid_silhouette_kernel(a, b, out)
    return out


def medoid_silhouette(dn: np.ndarray, ds: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean ``sum w s / sum w`` of :func:`medoid_silhouette_samples`. O(n).

    A point of weight ``w`` counts as ``w`` copies of it.

    Raises:
        ValueError: shapes differ, NaN values, negative weights, or a zero total weight (no points).
    """
    s = medoid_silhouette_samples(dn, ds)
    w = _as_weights(weights, s.shape[0])
    return float(np.sum(w * s) / np.sum(w))


_SIL_BLOCK = 64  # points per parallel task


def simplified_silhouette_samples(
    X: np.ndarray, medoids: np.ndarray, labels: np.ndarray, metric: str = "euclidean", *, p: float = 2.0
) -> np.ndarray:
    """Simplified silhouette of every point for a given assignment (Hruschka et al. 2004, medoids as centres).

    ``s(o) = (b - a) / max(a, b)`` with ``a = d(o, M[label(o)])`` and ``b = min_{j != label(o)} d(o, M[j])``;
    ``s = 0`` where ``a == b == 0``. When every point is assigned to its nearest medoid this equals the medoid
    silhouette ``1 - dn/ds``; it differs for other assignments. O(n k d).

    Raises:
        ValueError: bad points/medoids/metric (as :func:`sparkmed.kernels.matrix.cross`), labels of the
            wrong length or outside ``0..k-1``, or fewer than two medoids.
    """
    D = cross(X, medoids, metric, p=p)
    n, k = D.shape
    if k < 2:
        raise ValueError("the simplified silhouette needs at least two medoids")
    lab = np.asarray(labels)
    if lab.shape != (n,) or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels must be {n} integers, got shape {lab.shape} of {lab.dtype}")
    if n and (lab.min() < 0 or lab.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    rows = np.arange(n)
    a = D[rows, lab]
    D[rows, lab] = np.inf
    b = D.min(axis=1)
    top = np.maximum(a, b)
    return np.where(top > 0, (b - a) / np.where(top > 0, top, 1.0), 0.0)


@numba.njit(cache=True, nogil=True, inline="always")
def _cluster_weights(lab: np.ndarray, L: int, w: np.ndarray) -> np.ndarray:
    """Total weight of every label 0..L-1."""
    W = np.zeros(L, dtype=np.float64)
    for q in range(lab.shape[0]):
        W[lab[q]] += w[q]
    return W


@numba.njit(cache=True, nogil=True, inline="always")
def _point_silhouette(diss, lab, W, w, o, sums) -> float:
    """Weighted classic silhouette of point o (definition in :func:`silhouette`); ``sums``: scratch of
    length L. O(n + L)."""
    L = W.shape[0]
    for l in range(L):
        sums[l] = 0.0
    row = diss[o]
    for q in range(diss.shape[0]):
        if q != o:
            sums[lab[q]] += w[q] * np.float64(row[q])
    own = lab[o]
    if W[own] - 1.0 <= 0.0:  # singleton cluster (a single copy): s = 0
        return 0.0
    a = sums[own] / (W[own] - 1.0)
    b = math.inf
    for l in range(L):
        if l != own and W[l] > 0.0:
            b = min(b, sums[l] / W[l])
    m = max(a, b)
    if b == math.inf or m == 0.0:
        return 0.0
    return (b - a) / m


@numba.njit(cache=True, parallel=True, fastmath=False)
def _silhouette_kernel(diss: np.ndarray, lab: np.ndarray, L: int, w: np.ndarray, out: np.ndarray) -> None:
    """Weighted classic silhouette of every point (definition in :func:`silhouette`). O(n^2 + n L)."""
    n = diss.shape[0]
    W = _cluster_weights(lab, L, w)
    nb = (n + _SIL_BLOCK - 1) // _SIL_BLOCK
    for blk in numba.prange(nb):
        sums = np.empty(L, dtype=np.float64)
        for o in range(blk * _SIL_BLOCK, min(n, (blk + 1) * _SIL_BLOCK)):
            out[o] = _point_silhouette(diss, lab, W, w, o, sums)


@numba.njit(cache=True, nogil=True)
def silhouette_sum(diss: np.ndarray, lab: np.ndarray, L: int, w: np.ndarray) -> float:
    """``sum_o w(o) s(o)`` of the classic silhouette on one thread (labels 0..L-1; an empty label is
    skipped). O(n^2 + n L). Used by PAMSIL, which evaluates it once per candidate swap."""
    W = _cluster_weights(lab, L, w)
    sums = np.empty(L, dtype=np.float64)
    total = 0.0
    for o in range(diss.shape[0]):
        total += w[o] * _point_silhouette(diss, lab, W, w, o, sums)
    return total


def _prepare(diss: object, labels: object) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate a square finite matrix and labels; return the matrix, labels as 0..L-1 and L."""
    D = np.asarray(diss)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"diss must be a square 2-D matrix, got shape {D.shape}")
    if D.dtype != np.float32 and D.dtype != np.float64:
        D = D.astype(np.float64)
    D = np.ascontiguousarray(D)
    if not np.isfinite(D).all():
        raise ValueError("diss contains NaN or infinite values")
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.shape[0] != D.shape[0]:
        raise ValueError(f"labels must be a 1-D array of length {D.shape[0]}, got shape {lab.shape}")
    uniq, inv = np.unique(lab, return_inverse=True)
    return D, np.ascontiguousarray(inv.reshape(-1).astype(np.int64)), int(uniq.shape[0])


def silhouette_samples(diss: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Classic (Rousseeuw) silhouette of every point from an (n, n) dissimilarity matrix.

    ``a(o)`` = mean dissimilarity to the other members of its cluster, ``b(o)`` = smallest mean
    dissimilarity to the members of another cluster, ``s(o) = (b - a) / max(a, b)``; ``s = 0`` for a
    singleton cluster, where ``max(a, b) == 0``, and when there is only one cluster.  The diagonal is
    ignored.  Labels may be any integers.  Equals ``sklearn.metrics.silhouette_samples(diss, labels,
    metric="precomputed")`` where that is defined.  O(n^2), parallel over points.

    Raises:
        ValueError: non-square or non-finite matrix, labels of the wrong length.
    """
    D, lab, L = _prepare(diss, labels)
    out = np.empty(D.shape[0], dtype=np.float64)
    _silhouette_kernel(D, lab, L, np.ones(D.shape[0], dtype=np.float64), out)
    return out


def silhouette(diss: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean classic silhouette; with ``weights``, a point of weight ``w`` counts as ``w`` copies of it.

    Exact definition with weights (``W_C`` = total weight of cluster ``C``, ``C(o)`` the cluster of o)::

        a(o) = sum_{q in C(o), q != o} w_q d(o, q) / (W_C(o) - 1)
        b(o) = min_{C != C(o), W_C > 0} sum_{q in C} w_q d(o, q) / W_C
        s(o) = (b - a) / max(a, b)     (0 if W_C(o) <= 1, max(a, b) == 0, or no other cluster)
        silhouette = sum_o w_o s(o) / sum_o w_o

    i.e. the ``w_o - 1`` other copies of ``o`` are members of its own cluster at distance 0: they count
    in the denominator of ``a(o)`` and add nothing to its numerator.  For integer weights this is exactly
    the silhouette of the data set with every point repeated ``w`` times; without weights it is
    ``sklearn.metrics.silhouette_score(diss, labels, metric="precomputed")``.  O(n^2), parallel.

    Raises:
        ValueError: bad matrix / labels, negative weights, or a zero total weight.
    """
    D, lab, L = _prepare(diss, labels)
    w = _as_weights(weights, D.shape[0])
    out = np.empty(D.shape[0], dtype=np.float64)
    _silhouette_kernel(D, lab, L, w, out)
    return float(np.sum(w * out) / np.sum(w))
