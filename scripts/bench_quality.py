"""Quality benchmark: sparkmed's distributed fit vs full FasterPAM (kmedoids) vs plain CLARA.

For each data set and k, prints the full-data loss (sum of Euclidean distances to the nearest medoid) of
- full FasterPAM on the whole n × n matrix (the `kmedoids` package, the reference; init: random, seed 0),
- plain CLARA: 5 samples of 40 + 2k points, FasterPAM on each, best on the full data, no carry-over
  (computed in-process with sparkmed's kernels),
- sparkmed.KMedoids on local[2] Spark with its defaults (and the time it took),
as ratios to full FasterPAM. Target: sparkmed ≤ 1.01.

    .venv/bin/python scripts/bench_quality.py [--datasets blobs20k digits] [--ks 10 50 100]
    .venv/bin/python scripts/bench_quality.py --families sparse sets gower geo [--n 10000] [--ks 10 50]

``--families``: one row per metric family (scripts/metric_families.py) instead: the reference is full
FasterPAM on the n × n matrix of the same encoded rows (sparkmed's kernels, checked against naive
references in tests/), sparkmed fits the original columns through Spark.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import DATASETS  # noqa: E402


def full_loss(x: np.ndarray, medoids: np.ndarray) -> float:
    from sparkmed.kernels import total_cost

    return float(total_cost(x, medoids, "euclidean"))


def plain_clara(x: np.ndarray, k: int, seed: int, samples: int = 5) -> float:
    from sparkmed.kernels import cluster_points

    rng = np.random.default_rng(seed)
    m = min(len(x), 40 + 2 * k)
    best = np.inf
    for _ in range(samples):
        idx = np.sort(rng.choice(len(x), size=m, replace=False))
        res = cluster_points(x[idx], k, init="random", random_state=int(rng.integers(1 << 30)))
        best = min(best, full_loss(x, x[idx][res.medoids]))
    return best


def families(args) -> None:
    """Loss of sparkmed vs full FasterPAM, one row per (metric family, k)."""
    import kmedoids
    from metric_families import FAMILIES, to_spark

    from sparkmed import KMedoids
    from sparkmed.kernels import pairwise
    from sparkmed.session import local_session

    spark = local_session("local[2]", "sparkmed-bench-quality", driver_memory="4g")
    header = f"{'family':<14} {'n':>6} {'k':>4} {'FasterPAM loss':>15} {'FP s':>6} {'sparkmed':>9} {'fit s':>6}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name in args.families:
        fam = FAMILIES[name](args.n, seed=args.seed)
        diss = pairwise(fam.encoded(), fam.kernel_metric, dtype=np.float64)
        df = to_spark(spark, fam).cache()
        df.count()
        for k in args.ks:
            t = time.perf_counter()
            ref = kmedoids.fasterpam(diss, k, init="random", random_state=0, n_cpu=1)
            ref_s = time.perf_counter() - t
            t = time.perf_counter()
            model = KMedoids(k=k, seed=args.seed, idCol="id", **fam.params).fit(df)
            fit_s = time.perf_counter() - t
            ratio = model.summary.trainingCost / float(ref.loss)
            worst = max(worst, ratio)
            print(f"{fam.name:<14} {args.n:>6} {k:>4} {float(ref.loss):>15.6g} {ref_s:>6.1f} {ratio:>9.4f} "
                  f"{fit_s:>6.1f}", flush=True)
        df.unpersist()
        del diss
    print(f"\nworst sparkmed / full FasterPAM ratio: {worst:.4f} (target ≤ 1.01)")
    spark.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--ks", nargs="+", type=int, default=[10, 50, 100])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--refine-passes", type=int, default=None)
    ap.add_argument("--families", nargs="*", default=None, help="sparse sets gower geo (see metric_families.py)")
    ap.add_argument("--n", type=int, default=10000, help="rows per family (--families)")
    args = ap.parse_args()
    if args.families is not None:
        families(args)
        return

    import kmedoids
    import pandas as pd

    from sparkmed import KMedoids
    from sparkmed.kernels import pairwise
    from sparkmed.session import local_session

    spark = local_session("local[2]", "sparkmed-bench-quality", driver_memory="4g")
    rows = []
    header = (f"{'dataset':<10} {'n':>6} {'d':>3} {'k':>4} {'FasterPAM loss':>15} {'FP s':>6} "
              f"{'CLARA':>7} {'sparkmed':>9} {'fit s':>6} {'rounds':>6} {'passes':>6}")
    print(header)
    print("-" * len(header))
    for name in args.datasets:
        x = DATASETS[name]()
        n, d = x.shape
        diss = pairwise(x, "euclidean", dtype=np.float64)
        df = spark.createDataFrame(pd.DataFrame({"id": np.arange(n), "features": list(x)})).repartition(4)
        df = df.cache()
        df.count()
        for k in args.ks:
            t = time.perf_counter()
            ref = kmedoids.fasterpam(diss, k, init="random", random_state=0, n_cpu=1)
            ref_s = time.perf_counter() - t
            ref_loss = float(ref.loss)
            clara = plain_clara(x, k, args.seed)
            kw = {} if args.refine_passes is None else {"refinePasses": args.refine_passes}
            t = time.perf_counter()
            model = KMedoids(k=k, seed=args.seed, idCol="id", **kw).fit(df)
            fit_s = time.perf_counter() - t
            ours = model.summary.trainingCost
            row = (name, n, d, k, ref_loss, ref_s, clara / ref_loss, ours / ref_loss, fit_s,
                   len(model.summary.rounds), len(model.summary.refinePasses))
            rows.append(row)
            print(f"{name:<10} {n:>6} {d:>3} {k:>4} {ref_loss:>15.6g} {ref_s:>6.1f} {row[6]:>7.4f} "
                  f"{row[7]:>9.4f} {fit_s:>6.1f} {row[9]:>6} {row[10]:>6}", flush=True)
        df.unpersist()
        del diss
    worst = max(r[7] for r in rows)
    print(f"\nworst sparkmed / full FasterPAM ratio: {worst:.4f} (target ≤ 1.01)")
    spark.stop()


if __name__ == "__main__":
    main()
