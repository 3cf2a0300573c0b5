"""User-supplied metrics: a ``numba.njit`` function ``(a, b) -> float`` on two 1-D float64 arrays.

The registry kernels are compiled with ``cache=True`` and dispatch metrics by integer code, which cannot
call a function given at run time. A custom metric therefore goes through the kernels of this module,
which take the user's function as a first-class argument (numba specialises them per function; they are
not cached on disk, so each Python worker compiles them once, ~1 s). They build explicit distance tiles
(``cross``) and reduce them — same results and conventions as the registry kernels (ties → lowest index,
sums in row order), at the cost of O(n·m) memory per tile. The public entry points of ``matrix``,
``assign`` and ``swap_delta`` route a callable ``metric`` here, so every caller accepts one.

Constraints (checked by :func:`check_custom_metric` on sample pairs before a fit): the function must be
compiled with ``numba.njit`` (nopython), take two float64 arrays of equal length and return a float; it
must be non-negative, zero on identical rows and symmetric (k-medoids needs no triangle inequality). To
run on executors it is pickled by Spark like any function. A saved model stores only its name
``custom:<module>.<qualname>``, never the code.

Loading never imports what a file names: a model, a prediction column's metadata or a config saying
``custom:os.system`` must not make sparkmed import or call anything. So a name is resolved ONLY through
functions the user handed over in this process — :func:`register_metric` (a process-wide registry), the
``customMetrics`` argument of ``KMedoidsModel.load`` / the evaluator, or the CLI's ``--trust-module``
(the user names a module to import, whose numba functions are then registered). An unknown name is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numba
import numpy as np

CUSTOM_PREFIX = "custom:"


_REGISTRY: dict[str, Callable] = {}


def custom_name(fn: Callable) -> str:
    """``custom:<module>.<qualname>``: how a model and its parameters name a custom metric."""
    py = getattr(fn, "py_func", fn)
    return f"{CUSTOM_PREFIX}{py.__module__}.{py.__qualname__}"


def _canonical(name: str) -> str:
    return name if name.startswith(CUSTOM_PREFIX) else f"{CUSTOM_PREFIX}{name}"


def register_metric(fn: Callable, name: str | None = None) -> str:
    """Make ``fn`` (a ``numba.njit`` metric) resolvable by name when models or predictions are loaded.

    ``name`` defaults to the function's own ``custom:<module>.<qualname>`` (what a model fitted with it
    stores); give another name to map a model saved elsewhere onto this function. Returns the name.
    """
    if not isinstance(fn, numba.core.registry.CPUDispatcher):
        raise ValueError(f"register_metric: a custom metric must be a numba.njit function, got {type(fn).__name__}")
    key = _canonical(name) if name else custom_name(fn)
    _REGISTRY[key] = fn
    return key


def registered_metrics() -> dict[str, Callable]:
    """A copy of the process-wide registry (name → function)."""
    return dict(_REGISTRY)


def resolve_custom(name: str, provided: Mapping[str, Callable] | None = None) -> Callable:
    """The function registered (or ``provided``) under a ``custom:<module>.<qualname>`` name.

    Never imports: a name nobody registered is a ``ValueError`` that says how to provide the function.
    """
    key = _canonical(name)
    for table in (provided or {}), _REGISTRY:
        for given, fn in table.items():
            if _canonical(given) == key:
                if not isinstance(fn, numba.core.registry.CPUDispatcher):
                    raise ValueError(f"custom metric '{key}': the provided function is not a numba.njit function")
                return fn
    raise ValueError(
        f"custom metric '{key}' is not provided: sparkmed never imports code named by a file; pass it with "
        f"customMetrics={{'{key}': fn}} or register it first with sparkmed.register_metric(fn) "
        "(CLI: --trust-module MODULE)"
    )


def check_custom_metric(fn: Callable, sample: np.ndarray | None = None) -> None:
    """Validate a user metric before a fit: numba-compiled, and on a few sample pairs finite, non-negative,
    symmetric and zero on identical rows. ValueError naming what failed."""
    if not isinstance(fn, numba.core.registry.CPUDispatcher):
        raise ValueError("a custom metric must be a numba.njit function (a, b) -> float on 1-D float64 arrays, "
                         f"got {type(fn).__name__}")
    rows = np.asarray(sample if sample is not None else np.random.default_rng(0).normal(size=(4, 3)), dtype=float)
    rows = np.ascontiguousarray(rows[:8])
    try:
        d = cross(fn, rows, rows)
    except Exception as exc:  # noqa: BLE001 - numba typing errors and anything the function raises
        raise ValueError(f"custom metric {custom_name(fn)} failed on sample rows: {exc}") from None
    if not np.isfinite(d).all() or (d < 0).any():
        raise ValueError(f"custom metric {custom_name(fn)} must return finite non-negative values; got {d.min()}")
    if np.abs(np.diag(d)).max(initial=0.0) != 0.0:
        raise ValueError(f"custom metric {custom_name(fn)} must be 0 on identical rows; d(a, a) = {np.diag(d)}")
    if not np.allclose(d, d.T, rtol=1e-12, atol=0.0):
        raise ValueError(f"custom metric {custom_name(fn)} must be symmetric")


@numba.njit
def _cross(fn, X, Y, out):
    for i in range(X.shape[0]):
        for j in range(Y.shape[0]):
            out[i, j] = fn(X[i], Y[j])


def cross(fn: Callable, X: np.ndarray, Y: np.ndarray, dtype: object = np.float64) -> np.ndarray:
    """``(n, m)`` matrix ``fn(X[i], Y[j])``. O(n m · cost of fn)."""
    A = np.ascontiguousarray(X, dtype=np.float64)
    B = np.ascontiguousarray(Y, dtype=np.float64)
    out = np.empty((A.shape[0], B.shape[0]), dtype=np.float64)
    if A.shape[0] and B.shape[0]:
        _cross(fn, A, B, out)
    return out.astype(dtype, copy=False)


def pairwise(fn: Callable, X: np.ndarray, dtype: object = np.float32) -> np.ndarray:
    """Dense ``(n, n)`` matrix of a custom metric (symmetric by definition; diagonal 0)."""
    D = cross(fn, X, X)
    D = np.minimum(D, D.T)  # exact symmetry for the matrix algorithms
    np.fill_diagonal(D, 0.0)
    return D.astype(dtype, copy=False)


def nearest_two(fn: Callable, X: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(labels, dn, ds)`` as :func:`sparkmed.kernels.assign.nearest_two` (ties → lowest index)."""
    D = cross(fn, X, M)
    n, k = D.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    labels = np.argmin(D, axis=1).astype(np.int64)
    dn = D[np.arange(n), labels]
    if k == 1:
        return labels, dn, np.full(n, np.inf)
    D[np.arange(n), labels] = np.inf
    return labels, dn, D.min(axis=1)


def score_candidates(fn: Callable, X: np.ndarray, C: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Σ w·min distance of every candidate set ``C`` (c, k, d), as :func:`sparkmed.kernels.assign.score_candidates`."""
    c, k, d = C.shape
    D = cross(fn, X, C.reshape(c * k, d)).reshape(X.shape[0], c, k).min(axis=2)
    w = np.ones(X.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    return w @ D


def swap_deltas(
    fn: Callable, X: np.ndarray, M: np.ndarray, Cand: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """FasterPAM swap-delta terms ``(loss, removal (k,), delta (c, k), shared (c,))`` of a batch, with the
    definitions of :func:`sparkmed.kernels.swap_delta.swap_deltas`. O(n (k + c)) distances."""
    n, k, c = X.shape[0], M.shape[0], Cand.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    labels, dn, ds = nearest_two(fn, X, M)
    removal = np.bincount(labels, weights=w * (np.where(np.isinf(ds), 0.0, ds) - dn), minlength=k).astype(float)
    delta = np.zeros((c, k))
    shared = np.zeros(c)
    if n and c:
        Dc = cross(fn, X, Cand)  # (n, c)
        closer = Dc < dn[:, None]
        second = ~closer & (Dc < ds[:, None])
        shared = ((Dc - dn[:, None]) * closer * w[:, None]).sum(axis=0)
        contrib = np.where(closer, (dn - ds)[:, None], 0.0)
        contrib = np.where(second, Dc - ds[:, None], contrib) * w[:, None]
        contrib = np.where(np.isfinite(contrib), contrib, 0.0)
        for i in range(k):
            delta[:, i] = contrib[labels == i].sum(axis=0)
    return float(w @ dn), removal, delta, shared
