"""The ``sparkmed`` command line. For now: ``sparkmed demo`` (the README's first command).

``demo`` generates a seeded data set of Gaussian blobs, starts a local Spark session, fits k-medoids
with the distributed FasterCLARA + full-data refinement, and prints what it found.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import numpy as np


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    from sparkmed import KMedoids
    from sparkmed.session import local_session

    rng = np.random.default_rng(args.seed)
    centres = rng.uniform(-10, 10, size=(args.k, args.dim))
    labels = rng.integers(0, args.k, size=args.rows)
    x = centres[labels] + rng.normal(size=(args.rows, args.dim))
    print(f"sparkmed demo: {args.rows} rows, d={args.dim}, {args.k} Gaussian blobs (seed {args.seed})")
    t0 = time.perf_counter()
    spark = local_session(args.master, "sparkmed-demo")
    print(f"Spark {spark.version} session ({args.master}) in {time.perf_counter() - t0:.1f} s")
    pdf = pd.DataFrame({"id": np.arange(args.rows), "features": list(x)})
    df = spark.createDataFrame(pdf).repartition(4).cache()
    df.count()
    t1 = time.perf_counter()
    model = KMedoids(k=args.k, metric=args.metric, seed=args.seed, idCol="id").fit(df)
    fit_s = time.perf_counter() - t1
    s = model.summary
    print(f"fit: {fit_s:.1f} s, {len(s.rounds)} CLARA round(s), {len(s.refinePasses)} refinement pass(es)")
    for r in s.rounds:
        print(f"  round {r.round}: {r.candidates} candidates, best cost {r.best_cost:.6g}")
    for rp in s.refinePasses:
        print(f"  refine pass {rp.index}: loss {rp.loss:.6g}, {rp.swaps} swap(s) {rp.note}")
    print(f"total cost (sum of {args.metric} distances to the nearest medoid): {s.trainingCost:.6g}")
    print(f"mean cost: {s.meanCost:.6g}   medoid silhouette: {s.medoidSilhouette:.4f}")
    print(" cluster   medoid id     size   medoid features")
    for i, (mid, size, med) in enumerate(zip(model.medoidIds(), s.clusterSizes, model.medoids(), strict=True)):
        print(f"{i:8d} {mid:>10} {int(size):8d}   {np.array2string(med[:4], precision=2)}"
              f"{' ...' if len(med) > 4 else ''}")
    truth = ((x - centres[labels]) ** 2).sum(axis=1) ** 0.5
    if args.metric == "euclidean":
        print(f"(for reference: distances to the generating centres, which are not data points, sum to "
              f"{truth.sum():.6g})")
    spark.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sparkmed", description="k-medoids clustering on Apache Spark")
    parser.add_argument("--log-level", default="WARNING", help="Python logging level (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="cluster a generated example data set with local Spark")
    demo.add_argument("--rows", type=int, default=200_000)
    demo.add_argument("--dim", type=int, default=8)
    demo.add_argument("--k", type=int, default=8)
    demo.add_argument("--metric", default="euclidean")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "demo":
        return _demo(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
