#!/usr/bin/env python
"""Swap-delta kernel: full scan vs triangle-inequality pruning, side by side (single thread by default).

Data: Gaussian blobs (``datasets.blobs``: 20 centres, seeded, 2% uniform noise), n rows, d = 8 (and one
d = 64 case).  Medoids as the distributed refinement sees them: FasterPAM (LAB init) on a 4,000-row sample
(``--medoids random``: k random rows instead).  Candidates as ``refine._next_batch`` picks them from a
pool of max(8000, 2c) sampled rows: half the pool points nearest to each medoid within its cluster
(round-robin over the medoids), half at random.  Each case times ``swap_deltas(..., prune=False)`` and
``prune=True`` alternately (best of ``--repeat``; the candidate order is computed inside every timed
pruned call, its one-entry cache is cleared first), checks that both give the same terms, and reports the
fraction of the n*c (row, candidate) distances the pruned kernel evaluated.

    .venv/bin/python scripts/bench_swap_delta.py                 # n = 200,000, the 5 cases of the table
    .venv/bin/python scripts/bench_swap_delta.py --n 20000 --repeat 1
    .venv/bin/python scripts/bench_swap_delta.py --batch-rows 10000   # as the Spark pass: one call per
                                                                      # Arrow batch (candidate order cached)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from datasets import blobs  # noqa: E402

from sparkmed.kernels import cluster_points, nearest_two  # noqa: E402
from sparkmed.kernels import swap_delta as sd  # noqa: E402  (benchmark internals: the pair counter)
from sparkmed.kernels.swap_pruned import clear_order_cache  # noqa: E402

CASES = [(8, 20, 200), (8, 20, 1000), (8, 100, 1000), (8, 100, 4000), (64, 100, 1000)]
"""(d, k, c) of the table."""


def pick_medoids(X: np.ndarray, k: int, how: str, rng: np.random.Generator) -> np.ndarray:
    """k medoids: FasterPAM on a 4000-row sample (``fitted``) or k random rows (``random``)."""
    if how == "random":
        return X[rng.choice(len(X), k, replace=False)]
    sample = X[rng.choice(len(X), min(4000, len(X)), replace=False)]
    res = cluster_points(sample, k, init="lab", random_state=0)
    return sample[np.asarray(res.medoids)]


def pick_candidates(X: np.ndarray, M: np.ndarray, c: int, rng: np.random.Generator) -> np.ndarray:
    """c candidates from a pool: half nearest to each medoid in its cluster (round-robin), half random."""
    pool = X[rng.choice(len(X), min(len(X), max(8000, 2 * c)), replace=False)]
    labels, dn, _ = nearest_two(pool, M)
    queues = [list(np.flatnonzero(labels == i)[np.argsort(dn[labels == i], kind="stable")]) for i in range(len(M))]
    chosen: list[int] = []
    taken = set()
    depth = 0
    while len(chosen) < (c + 1) // 2 and any(depth < len(q) for q in queues):
        for q in queues:
            if depth < len(q) and len(chosen) < (c + 1) // 2:
                chosen.append(int(q[depth]))
                taken.add(int(q[depth]))
        depth += 1
    rest = [j for j in rng.permutation(len(pool)).tolist() if j not in taken]
    chosen += rest[: c - len(chosen)]
    return pool[np.asarray(chosen)]


def timed(fn) -> tuple[float, object]:
    """(wall seconds, result) of one call."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(X: np.ndarray, M: np.ndarray, Cand: np.ndarray, prune: bool, batch_rows: int):
    """``swap_deltas_counted`` on all rows, in one call or summed over batches of ``batch_rows``."""
    if batch_rows <= 0:
        return sd.swap_deltas_counted(X, M, Cand, prune=prune)
    total, pairs = None, 0
    for i in range(0, len(X), batch_rows):
        res, n = sd.swap_deltas_counted(X[i : i + batch_rows], M, Cand, prune=prune)
        total = res if total is None else tuple(x + y for x, y in zip(total, res, strict=True))
        pairs += n
    return total, pairs


def max_rel_diff(a, b) -> float:
    """Largest relative difference between two swap_deltas results (arrays and loss)."""
    worst = abs(a[0] - b[0]) / max(abs(a[0]), 1e-300)
    for x, y in zip(a[1:], b[1:], strict=True):
        if x.size:
            worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-300))))
    return worst


def main() -> int:
    """Run the cases and print one table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--medoids", choices=["fitted", "random"], default="fitted")
    ap.add_argument("--batch-rows", type=int, default=0, help="call once per batch of this many rows (0: one call)")
    a = ap.parse_args()
    numba.set_num_threads(a.threads)
    calls = f"batches of {a.batch_rows:,} rows" if a.batch_rows > 0 else "one call"
    print(
        f"swap_deltas, euclidean, n={a.n:,} rows ({calls}), blobs (20 centres), {a.medoids} medoids, "
        f"threads={a.threads}, best of {a.repeat} (numba {numba.__version__}, numpy {np.__version__})"
    )
    head = (
        f"{'d':>3} {'k':>4} {'c':>5} | {'full s':>7} {'pruned s':>8} {'speed-up':>8} | "
        f"{'full rows/s':>11} {'pruned rows/s':>13} | {'pairs eval.':>11} {'max rel diff':>12}"
    )
    print(head)
    print("-" * len(head))
    data: dict[int, np.ndarray] = {}
    for d, k, c in CASES:
        if d not in data:
            data[d] = blobs(a.n, d, 20, seed=0)
        X = data[d]
        rng = np.random.default_rng(1000 * d + k)
        M = pick_medoids(X, k, a.medoids, rng)
        Cand = pick_candidates(X, M, c, rng)
        small = X[:2000]
        sd.swap_deltas(small, M, Cand, prune=False)  # compile / warm up
        sd.swap_deltas(small, M, Cand, prune=True)
        full_t, prun_t = [], []
        for _ in range(a.repeat):
            t, full = timed(lambda: run(X, M, Cand, False, a.batch_rows))  # noqa: B023
            full_t.append(t)
            clear_order_cache()
            t, pruned = timed(lambda: run(X, M, Cand, True, a.batch_rows))  # noqa: B023
            prun_t.append(t)
        tf, tp = min(full_t), min(prun_t)
        frac = pruned[1] / full[1]
        diff = max_rel_diff(full[0], pruned[0])
        print(
            f"{d:>3} {k:>4} {c:>5} | {tf:7.3f} {tp:8.3f} {tf / tp:7.1f}x | "
            f"{a.n / tf:11,.0f} {a.n / tp:13,.0f} | {frac:11.2%} {diff:12.1e}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
