#!/usr/bin/env python
"""Benchmark sparkmed's FasterPAM kernel against the ``kmedoids`` package (test/benchmark oracle only).

For each n and k: Gaussian blobs (10-D, 20 centres, fixed seed), ONE float32 dissimilarity matrix, ONE
random initial medoid set (seeded) passed as explicit indices to both implementations. Times:
sparkmed ``fasterpam`` with 1 and 2 threads, ``kmedoids.fasterpam`` with n_cpu=1 and n_cpu=2 (its n_cpu=2
is a different, parallel algorithm with its own result), and the initialisations (sparkmed LAB and BUILD,
``kmedoids.pam_build``). BUILD is O(k*n^2): it is skipped where the estimate from the smaller runs
exceeds ``--build-limit`` seconds (the row says so). numba kernels are compiled/warmed up before timing;
each timing is the minimum over ``--reps`` runs. Prints one table.

A second table does the same for the medoid-silhouette kernel: sparkmed ``fastermsc`` against
``kmedoids.fastermsc`` (single-threaded, the only variant it has) from the same initial medoids; ``same`` =
identical medoids, silhouettes within 1e-12. Issue 16's target: ratio <= 0.8 at n = 10000, k = 100.

    .venv/bin/python scripts/bench_kernels.py            # n in 2000 5000 10000 20000, k in 10 100
    .venv/bin/python scripts/bench_kernels.py --only msc --n 10000 --k 100 --reps 2
    .venv/bin/python scripts/bench_kernels.py --quick    # n in 2000 5000
    .venv/bin/python scripts/bench_kernels.py --n 10000 --k 100 --reps 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sparkmed.kernels import fastermsc, fasterpam, initialize  # noqa: E402


def _matrix(n: int, seed: int):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, centers=20, n_features=10, random_state=seed)
    t = time.perf_counter()
    try:
        from sparkmed.kernels import pairwise

        how = "sparkmed pairwise"
        D = pairwise(X, "euclidean", dtype=np.float32)
    except ImportError:
        from scipy.spatial.distance import pdist, squareform

        how = "scipy pdist"
        D = squareform(pdist(X)).astype(np.float32)
    return D, time.perf_counter() - t, how


def _best_of(reps: int, fn, *args, **kwargs):
    """(minimum time over reps calls of fn(*args, **kwargs), the last result)."""
    best, out = np.inf, None
    for _ in range(reps):
        a = [x.copy() if isinstance(x, np.ndarray) and x.ndim == 1 else x for x in args]
        t = time.perf_counter()
        out = fn(*a, **kwargs)
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=None, help="numbers of points")
    ap.add_argument("--k", type=int, nargs="+", default=[10, 100], help="numbers of medoids")
    ap.add_argument("--quick", action="store_true", help="n in 2000 5000 only")
    ap.add_argument("--reps", type=int, default=1, help="runs per timing (minimum reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--build-limit", type=float, default=60.0, help="skip a BUILD estimated above this (s)")
    ap.add_argument("--no-build", action="store_true", help="skip all BUILD timings")
    ap.add_argument("--only", choices=("pam", "msc"), default=None, help="only the FasterPAM or FasterMSC table")
    args = ap.parse_args(argv)
    ns = args.n or ([2000, 5000] if args.quick else [2000, 5000, 10000, 20000])
    if args.only == "msc":
        return _msc_table(ns, args.k, args.reps, args.seed)

    import kmedoids
    import numba

    t = time.perf_counter()
    _tiny = np.abs(np.subtract.outer(np.arange(12.0), np.arange(12.0)))
    for _d in (_tiny.astype(np.float32), _tiny):  # compile / load the kernels before timing
        fasterpam(_d, np.array([0, 5, 9]))
        fasterpam(_d, np.array([0, 5, 9]), n_threads=2)
    info = (
        f"numba warm-up {time.perf_counter() - t:.2f} s, {numba.config.NUMBA_NUM_THREADS} numba threads, "
        f"threading layer {numba.threading_layer()}, {os.cpu_count()} CPUs"
    )

    # seconds per k*n^2 unit of each BUILD: an initial guess, then the largest rate measured so far
    guess = {"ours": 1.0e-9, "ref": 5.0e-9}
    measured: dict[str, float] = {}
    head = (
        f"{'n':>6} {'k':>4} | {'ours 1t':>8} {'km n_cpu=1':>10} {'ratio':>6} | {'ours 2t':>8} "
        f"{'km n_cpu=2':>10} {'2t/km1':>6} | {'our loss':>14} {'ref loss':>14} {'same':>4} | "
        f"{'matrix':>7} {'LAB':>6} {'our BUILD':>10} {'km BUILD':>10}"
    )
    rows = []
    notes = []
    for n in ns:
        D, t_mat, how = _matrix(n, args.seed)
        for k in args.k:
            m0 = np.sort(np.random.default_rng(args.seed + 1000 * k + n).choice(n, size=k, replace=False))
            t1, r1 = _best_of(args.reps, fasterpam, D, m0, 100, n_threads=1)
            tk1, rk1 = _best_of(args.reps, kmedoids.fasterpam, D, m0, 100, n_cpu=1)
            t2, r2 = _best_of(args.reps, fasterpam, D, m0, 100, n_threads=2)
            tk2, _ = _best_of(args.reps, kmedoids.fasterpam, D, m0, 100, n_cpu=2)
            same = (
                np.array_equal(r1.medoids, np.asarray(rk1.medoids, dtype=np.int64))
                and np.array_equal(r1.medoids, r2.medoids)
                and r1.loss == r2.loss
                and abs(r1.loss - rk1.loss) <= 1e-9 * rk1.loss
            )
            t_lab, _ = _best_of(args.reps, initialize, D, k, "lab", random_state=args.seed)
            units = k * float(n) ** 2
            cells = {}
            for who in ("ours", "ref"):
                est = measured.get(who, guess[who]) * units
                if args.no_build:
                    cells[who] = "skipped"
                elif est > args.build_limit:
                    cells[who] = f"skip~{est:.0f}s"
                    notes.append(
                        f"n={n} k={k}: {'our' if who == 'ours' else 'kmedoids'} BUILD skipped, "
                        f"estimated {est:.0f} s > {args.build_limit:.0f} s (O(k*n^2))"
                    )
                else:
                    if who == "ours":
                        tb, _ = _best_of(1, initialize, D, k, "build")
                    else:
                        tb, _ = _best_of(1, kmedoids.pam_build, D, k)
                    measured[who] = max(measured.get(who, 0.0), tb / units)
                    cells[who] = f"{tb:.2f}"
            rows.append(
                f"{n:>6} {k:>4} | {t1:>8.3f} {tk1:>10.3f} {t1 / tk1:>6.2f} | {t2:>8.3f} {tk2:>10.3f} "
                f"{t2 / tk1:>6.2f} | {r1.loss:>14.6f} {rk1.loss:>14.6f} {'yes' if same else 'NO':>4} | "
                f"{t_mat:>7.2f} {t_lab:>6.3f} {cells['ours']:>10} {cells['ref']:>10}"
            )
            print("progress:", rows[-1], file=sys.stderr, flush=True)
        del D
    print(info)
    print(f"FasterPAM, float32 {how} matrix of blobs, same random initial medoids for both; times in s")
    print(
        "(min of",
        args.reps,
        "run(s)); ratio = ours 1 thread / kmedoids n_cpu=1; "
        "2t/km1 = ours 2 threads / kmedoids n_cpu=1; same = identical medoids and loss (1 and 2 threads)",
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(r)
    for note in notes:
        print("note:", note)
    if args.only is None:
        print()
        return _msc_table(ns, args.k, args.reps, args.seed)
    return 0


def _msc_table(ns: list[int], ks: list[int], reps: int, seed: int) -> int:
    """FasterMSC, ours vs ``kmedoids.fastermsc``, same matrices and initial medoids as the FasterPAM table."""
    import kmedoids

    _tiny = np.abs(np.subtract.outer(np.arange(12.0), np.arange(12.0)))
    for _d in (_tiny.astype(np.float32), _tiny):  # compile / load before timing
        fastermsc(_d, np.array([0, 5, 9]))
    head = (
        f"{'n':>6} {'k':>4} | {'ours':>8} {'kmedoids':>9} {'ratio':>6} | {'our MS':>10} {'ref MS':>10} "
        f"{'same':>4} | {'passes':>6} {'swaps':>6}"
    )
    rows = []
    for n in ns:
        D, _, how = _matrix(n, seed)
        for k in ks:
            m0 = np.sort(np.random.default_rng(seed + 1000 * k + n).choice(n, size=k, replace=False))
            t1, r1 = _best_of(reps, fastermsc, D, m0, 100)
            tk, rk = _best_of(reps, kmedoids.fastermsc, D, m0.astype(np.uint64), 100)
            same_med = np.array_equal(r1.medoids, np.asarray(rk.medoids, dtype=np.int64))
            same = same_med and abs(r1.loss - rk.loss) <= 1e-12
            rows.append(
                f"{n:>6} {k:>4} | {t1:>8.3f} {tk:>9.3f} {t1 / tk:>6.2f} | {r1.loss:>10.6f} {rk.loss:>10.6f} "
                f"{'yes' if same else 'NO':>4} | {r1.n_iter:>6} {r1.n_swap:>6}"
            )
            print("progress:", rows[-1], file=sys.stderr, flush=True)
        del D
    print(f"FasterMSC, float32 {how} matrix of blobs, same random initial medoids for both; times in s (min of "
          f"{reps} run(s)); ratio = ours / kmedoids.fastermsc; MS = average medoid silhouette")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(r)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
