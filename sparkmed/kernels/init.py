"""Initial medoids for the k-medoids kernels.

Methods (``initialize(diss, k, method=...)``, also usable by name as ``init=`` of every algorithm when
``medoids`` is an int k):

* ``"random"``: k distinct points drawn uniformly (weights are ignored). O(k).
* ``"first"``: the first k points, ``0..k-1``. O(k).
* ``"build"``: PAM BUILD (Kaufman & Rousseeuw 1990). The first medoid minimises the (weighted) total
  deviation alone, each further one gives the largest TD reduction; ties go to the lowest index.
  O(k*n^2) - slow for large k.
* ``"lab"``: Linear Approximative BUILD (Schubert & Rousseeuw 2019): like BUILD, but each greedy step
  draws a fresh uniform subsample of ``10 + ceil(sqrt(n))`` non-medoids (``lab_sample`` overrides the
  size) and picks the best candidate of the subsample, evaluating the TD reduction on the subsample only.
  With weights, the gains are weighted (the uniform sample of distinct points then estimates the
  weighted gain without bias). O(k*(n + s^2)) = O(k*n) for s ~ sqrt(n).
* ``"kmedoids++"``: k-means++ seeding (Arthur & Vassilvitskii 2007) for medoids: the first medoid is
  drawn with probability proportional to the weight, each further one with probability proportional to
  ``w(o) * d(o, nearest chosen medoid) ** exponent`` (``exponent=1.0`` by default, the medoid objective;
  2.0 gives classic k-means++). If no mass is left (every remaining point coincides with a medoid or has
  weight 0), the next medoid is drawn uniformly among the non-medoids. O(k*n).

``random_state`` is ``None`` (fresh OS entropy, not reproducible), a non-negative ``int`` seed, a
``numpy.random.Generator`` (used and advanced) or a legacy ``numpy.random.RandomState`` (one integer is
drawn from it to seed a Generator).

Every method is one entry of :data:`INITS` (name -> :class:`Init`: its chooser and help text); adding a
method = its chooser function + one registry line.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from sparkmed.kernels.checks import check_diss, check_medoids_arg, check_weights
from sparkmed.kernels.prng import as_generator, kernel_seed, random_below, uniform01
from sparkmed.kernels.swap_state import scan_workspace

__all__ = ["INITS", "INIT_NAMES", "Init", "describe_inits", "initialize", "resolve_medoids"]


@numba.njit(cache=True, nogil=True)
def _build(diss, k, w):
    """PAM BUILD, O(k*n^2). Returns int64 medoid indices in the order chosen."""
    n = diss.shape[0]
    med = np.empty(k, dtype=np.int64)
    ismed = np.zeros(n, dtype=np.bool_)
    # first medoid: smallest weighted distance sum (first index on ties)
    best = 0
    bv = np.inf
    for c in range(n):
        row = diss[c]
        s = 0.0
        for o in range(n):
            s += w[o] * np.float64(row[o])
        if s < bv:
            bv = s
            best = c
    med[0] = best
    ismed[best] = True
    dn = diss[best].copy()
    mask, words = scan_workspace(n)
    nw = n // 8
    for j in range(1, k):
        best = -1
        bg = -1.0
        for c in range(n):
            if ismed[c]:
                continue
            row = diss[c]
            # only points with d(o, c) < dn(o) gain: find them with a vectorised comparison, then add
            # their gains in index order (the same float64 sum as a plain loop over all points)
            for o in range(n):
                mask[o] = row[o] < dn[o]
            g = 0.0
            for b in range(nw + 1):
                if b < nw:
                    if words[b] == 0:
                        continue
                    hi = b * 8 + 8
                else:
                    hi = n
                for o in range(b * 8, hi):
                    # branch-free: exactly 0 where d >= dn, so the sum equals the branching form
                    e = dn[o]
                    g += w[o] * (np.float64(e) - np.float64(min(row[o], e)))
            if g > bg:
                bg = g
                best = c
        med[j] = best
        ismed[best] = True
        row = diss[best]
        for o in range(n):
            if row[o] < dn[o]:
                dn[o] = row[o]
    return med


@numba.njit(cache=True, nogil=True)
def _lab(diss, k, w, s, seed):
    """Linear Approximative BUILD with subsample size s per step, O(k*(n + s^2))."""
    n = diss.shape[0]
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed
    med = np.empty(k, dtype=np.int64)
    pool = np.arange(n)  # pool[:m] are the non-medoids
    m = n
    dn = np.full(n, np.inf, dtype=np.float64)
    first = True
    for j in range(k):
        ss = min(s, m)
        # partial Fisher-Yates: pool[:ss] becomes a uniform sample of the non-medoids
        for t in range(ss):
            r = t + random_below(state, m - t)
            tmp = pool[t]
            pool[t] = pool[r]
            pool[r] = tmp
        best_t = 0
        if first:
            bv = np.inf
            for t in range(ss):
                row = diss[pool[t]]
                v = 0.0
                for u in range(ss):
                    o = pool[u]
                    v += w[o] * np.float64(row[o])
                if v < bv:
                    bv = v
                    best_t = t
            first = False
        else:
            bg = -1.0
            for t in range(ss):
                row = diss[pool[t]]
                g = 0.0
                for u in range(ss):
                    o = pool[u]
                    d = np.float64(row[o])
                    if d < dn[o]:
                        g += w[o] * (dn[o] - d)
                if g > bg:
                    bg = g
                    best_t = t
        c = pool[best_t]
        med[j] = c
        m -= 1
        pool[best_t] = pool[m]
        pool[m] = c
        row = diss[c]
        for o in range(n):
            d = np.float64(row[o])
            if d < dn[o]:
                dn[o] = d
    return med


@numba.njit(cache=True, nogil=True)
def _draw_weighted(p, total, ismed, state):
    """Index o with probability p[o]/total (p >= 0, p = 0 on medoids), or uniform non-medoid if total <= 0."""
    n = p.shape[0]
    if total > 0.0:
        u = uniform01(state) * total
        acc = 0.0
        last = -1
        for o in range(n):
            if p[o] > 0.0:
                acc += p[o]
                last = o
                if u < acc:
                    return o
        if last >= 0:
            return last  # float round-off at the very end of the cumulative sum
    # uniform among non-medoids
    cnt = 0
    for o in range(n):
        if not ismed[o]:
            cnt += 1
    r = random_below(state, cnt)
    for o in range(n):
        if not ismed[o]:
            if r == 0:
                return o
            r -= 1
    return -1


@numba.njit(cache=True, nogil=True)
def _kmedoids_pp(diss, k, w, exponent, seed):
    """k-medoids++ seeding, O(k*n)."""
    n = diss.shape[0]
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed
    med = np.empty(k, dtype=np.int64)
    ismed = np.zeros(n, dtype=np.bool_)
    p = w.copy()
    total = 0.0
    for o in range(n):
        total += p[o]
    dn = np.full(n, np.inf, dtype=np.float64)
    for j in range(k):
        c = _draw_weighted(p, total, ismed, state)
        med[j] = c
        ismed[c] = True
        row = diss[c]
        total = 0.0
        for o in range(n):
            d = np.float64(row[o])
            if d < dn[o]:
                dn[o] = d
            if ismed[o]:
                p[o] = 0.0
            elif exponent == 1.0:
                p[o] = w[o] * dn[o]
            else:
                p[o] = w[o] * dn[o] ** exponent
            total += p[o]
    return med


# ----------------------------------------------------------------------------------------------------
# The registry: name -> chooser (diss, k, rng, w, exponent, lab_sample) -> int64 medoids
# ----------------------------------------------------------------------------------------------------


def _choose_random(diss, k, rng, w, exponent, lab_sample) -> np.ndarray:
    return np.sort(rng.choice(diss.shape[0], size=k, replace=False)).astype(np.int64)


def _choose_first(diss, k, rng, w, exponent, lab_sample) -> np.ndarray:
    return np.arange(k, dtype=np.int64)


def _choose_build(diss, k, rng, w, exponent, lab_sample) -> np.ndarray:
    return _build(diss, k, w)


def _choose_lab(diss, k, rng, w, exponent, lab_sample) -> np.ndarray:
    n = diss.shape[0]
    s = 10 + math.ceil(math.sqrt(n)) if lab_sample is None else lab_sample
    return _lab(diss, k, w, s, kernel_seed(rng))


def _choose_kmedoids_pp(diss, k, rng, w, exponent, lab_sample) -> np.ndarray:
    return _kmedoids_pp(diss, k, w, float(exponent), kernel_seed(rng))


@dataclass(frozen=True)
class Init:
    """An initialisation method of the registry.

    Attributes:
        name: the ``init=`` / ``method=`` value.
        choose: ``(diss, k, rng, w, exponent, lab_sample) -> int64 (k,)`` on checked arguments.
        summary: a few words for help texts (:func:`describe_inits`).
        complexity: its cost for n points and k medoids.
    """

    name: str
    choose: Callable[..., np.ndarray]
    summary: str
    complexity: str


INITS: dict[str, Init] = {
    i.name: i
    for i in (
        Init("random", _choose_random, "k distinct points drawn uniformly", "O(k)"),
        Init("first", _choose_first, "the first k points", "O(k)"),
        Init("build", _choose_build, "PAM BUILD, greedy", "O(k n^2)"),
        Init("lab", _choose_lab, "linear approximative BUILD on subsamples", "O(k n)"),
        Init("kmedoids++", _choose_kmedoids_pp, "k-means++ style weighted draws", "O(k n)"),
    )
}
"""All initialisation methods, by name."""

INIT_NAMES: tuple[str, ...] = tuple(INITS)
"""Names of the initialisation methods, in registry order."""


def describe_inits() -> str:
    """One line for help texts: every method with a short summary."""
    return ", ".join(f"{i.name} ({i.summary})" for i in INITS.values())


def _check_method(method) -> str:
    if not isinstance(method, str) or method.lower() not in INITS:
        raise ValueError(f"unknown init method {method!r}; valid methods are: {', '.join(INIT_NAMES)}")
    return method.lower()


def _initialize_checked(diss, k, method, rng, w, exponent, lab_sample) -> np.ndarray:
    return INITS[method].choose(diss, k, rng, w, exponent, lab_sample)


def initialize(
    diss: object,
    k: int,
    method: str = "random",
    *,
    random_state: object = None,
    weights: object = None,
    exponent: float = 1.0,
    lab_sample: int | None = None,
) -> np.ndarray:
    """Choose k initial medoids of the square dissimilarity matrix ``diss``.

    Args:
        diss: (n, n) symmetric, finite, non-negative dissimilarities (float32 or float64).
        k: number of medoids, 1 <= k <= n.
        method: ``"random"``, ``"first"``, ``"build"``, ``"lab"`` or ``"kmedoids++"`` (see the module
            docstring for each method's definition and complexity).
        random_state: None, an int seed, a ``numpy.random.Generator`` or ``RandomState``.
        weights: None or non-negative float64 (n,): a point of weight w counts as w copies.
        exponent: ``kmedoids++`` draws with probability proportional to ``w * dist ** exponent``.
        lab_sample: subsample size per greedy step of ``"lab"`` (default ``10 + ceil(sqrt(n))``).

    Returns:
        int64 array of k distinct medoid indices (``"random"`` returns them sorted, the greedy methods in
        the order chosen).
    """
    diss = check_diss(diss)
    n = diss.shape[0]
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise ValueError(f"k must be an int, got {k!r}")
    check_medoids_arg(int(k), n)
    method = _check_method(method)
    w = check_weights(weights, n, positive_total=True)
    exponent = _check_exponent(exponent)
    lab_sample = _check_lab_sample(lab_sample)
    return _initialize_checked(diss, int(k), method, as_generator(random_state), w, exponent, lab_sample)


def _check_exponent(exponent) -> float:
    if (
        not isinstance(exponent, numbers.Real)
        or isinstance(exponent, bool)
        or not (math.isfinite(exponent) and exponent >= 0)
    ):
        raise ValueError(f"exponent must be a finite number >= 0, got {exponent!r}")
    return float(exponent)


def _check_lab_sample(lab_sample):
    if lab_sample is None:
        return None
    if not isinstance(lab_sample, numbers.Integral) or isinstance(lab_sample, bool) or lab_sample < 1:
        raise ValueError(f"lab_sample must be None or an int >= 1, got {lab_sample!r}")
    return int(lab_sample)


def resolve_medoids(
    diss: np.ndarray, medoids: object, init: str, rng: np.random.Generator | None, w: np.ndarray
) -> np.ndarray:
    """Initial medoids for an algorithm: explicit indices (validated copy) or ``initialize(init)`` for an
    int k. ``diss`` and ``w`` must already be checked; ``rng`` is a Generator."""
    n = diss.shape[0]
    k, explicit = check_medoids_arg(medoids, n)
    if explicit is not None:
        return explicit.copy()
    method = _check_method(init)
    return _initialize_checked(diss, k, method, rng, w, 1.0, None)
