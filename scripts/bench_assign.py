"""Rows/s of the assignment kernels against numpy baselines (single thread by default).

    .venv/bin/python scripts/bench_assign.py                  # n=1e6, d=8, k=20
    .venv/bin/python scripts/bench_assign.py --d 100 --n 200000

The numpy baselines process rows in slabs of 65,536: "numpy direct" forms ``sum((x - m)^2)`` by
broadcasting, "numpy expansion" uses BLAS ``|x|^2 + |m|^2 - 2 x.m`` (clamped at 0); BLAS is pinned to the
same thread count through the *_NUM_THREADS environment variables, set before numpy is imported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _parse() -> argparse.Namespace:
    """Command-line options (sizes, threads, repeats)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=8)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--c", type=int, default=10, help="candidate sets for score_candidates")
    ap.add_argument("--cand", type=int, default=64, help="candidate points for swap_deltas")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    return ap.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numba  # noqa: E402
import numpy as np  # noqa: E402

from sparkmed.kernels import nearest_two, score_candidates, swap_deltas  # noqa: E402

SLAB = 65_536


def numpy_direct_score(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Baseline: broadcast ``(x - m)^2`` per slab, min per set, sqrt, sum."""
    out = np.zeros(C.shape[0])
    for s in range(0, X.shape[0], SLAB):
        x = X[s : s + SLAB]
        for j in range(C.shape[0]):
            d2 = ((x[:, None, :] - C[j][None, :, :]) ** 2).sum(axis=2)
            out[j] += np.sqrt(d2.min(axis=1)).sum()
    return out


def numpy_expansion_score(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Baseline: BLAS ``|x|^2 + |m|^2 - 2 x.m`` per slab (all sets in one GEMM), min per set."""
    c, k, d = C.shape
    flat = C.reshape(c * k, d)
    mm = (flat * flat).sum(axis=1)
    out = np.zeros(c)
    for s in range(0, X.shape[0], SLAB):
        x = X[s : s + SLAB]
        d2 = (x * x).sum(axis=1)[:, None] + mm[None, :] - 2.0 * (x @ flat.T)
        np.maximum(d2, 0.0, out=d2)
        out += np.sqrt(d2.reshape(-1, c, k).min(axis=2)).sum(axis=0)
    return out


def best_time(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    """Time every case and print rows/s; report the expansion form's deviation from the exact scores."""
    a = ARGS
    numba.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.n, a.d))
    M = X[: a.k].copy()
    C = X[rng.integers(0, a.n, size=(a.c, a.k))]
    Cand = X[rng.integers(0, a.n, size=a.cand)]
    print(f"n={a.n} d={a.d} k={a.k} threads={a.threads} (numba {numba.__version__}, numpy {np.__version__})")
    cases = [
        ("nearest_two", lambda: nearest_two(X, M)),
        ("score_candidates c=1", lambda: score_candidates(X, C[:1])),
        (f"score_candidates c={a.c}", lambda: score_candidates(X, C)),
        (f"swap_deltas cand={a.cand}", lambda: swap_deltas(X, M, Cand)),
        ("numpy direct score c=1", lambda: numpy_direct_score(X, C[:1])),
        ("numpy expansion score c=1", lambda: numpy_expansion_score(X, C[:1])),
        (f"numpy expansion score c={a.c}", lambda: numpy_expansion_score(X, C)),
    ]
    for name, fn in cases:
        t = best_time(fn, a.repeat)
        print(f"  {name:32s} {a.n / t / 1e6:8.2f} Mrows/s  ({t * 1e3:8.1f} ms)")
    exact = score_candidates(X, C)
    approx = numpy_expansion_score(X, C)
    print(f"  max rel. difference of the expansion form: {np.max(np.abs(approx - exact) / exact):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
