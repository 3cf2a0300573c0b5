"""Spark benchmark: sparkmed.KMedoids.fit vs pyspark.ml KMeans on the same cached DataFrame, one run.

Data: ``--rows`` (default 10M) rows, d=8, Gaussian blobs (seeded), written once to Parquet under data/.
Prints one table: wall time of KMeans(k, maxIter=20).fit and KMedoids(k).fit on the same cached
DataFrame (ratio), sparkmed's phase timings, and the throughput of one full-data scoring pass
(rows/s) next to an empty mapInArrow pass and the same numba kernel run in-process on a numpy array.
Targets (distributed-fit issue): fit ≤ 0.5× KMeans; a full-data pass ≥ 10M rows/s at d=8.

    .venv/bin/python scripts/bench_spark.py [--rows 10000000] [--k 20] [--memory 12g]
    .venv/bin/python scripts/bench_spark.py --families sparse sets gower geo [--rows 500000] [--k 20]

``--families``: one row per metric family (scripts/metric_families.py) instead: fit time and the rows/s of
one full-data scoring pass (10 candidate sets × k) over that family's encoded blocks, next to the same pass
over dense d=8 rows of the same count.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from datasets import blobs  # noqa: E402

D = 8


def write_parquet(path: Path, rows: int, seed: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    chunk = 1_000_000
    writer = None
    for start in range(0, rows, chunk):
        x = blobs(min(chunk, rows - start), D, 20, seed=seed + start)
        table = pa.table({f"f{j}": x[:, j] for j in range(D)})
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table)
    writer.close()
    tmp.rename(path)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def families(args) -> None:
    """Per metric family: fit time and rows/s of one scoring pass over the encoded blocks."""
    from metric_families import FAMILIES, to_spark

    from sparkmed import KMedoids
    from sparkmed.blocks import new_store, release, to_blocks
    from sparkmed.features import prepare
    from sparkmed.passes import score_candidates_pass
    from sparkmed.session import local_session

    spark = local_session("local[2]", "sparkmed-bench-families", driver_memory=args.memory,
                          extra_conf={"spark.sql.execution.arrow.maxRecordsPerBatch": "100000"})
    print(f"{'family':<14} {'rows':>9} {'row width':>9} {'fit s':>7} {'pass s':>7} {'rows/s':>10}")
    print("-" * 62)
    dense = FAMILIES["geo"](args.rows, seed=args.seed)
    dense.frame[[f"f{j}" for j in range(6)]] = np.random.default_rng(0).normal(size=(args.rows, 6))
    dense.params = {"metric": "euclidean", "inputCols": ["lat", "lon"] + [f"f{j}" for j in range(6)]}
    dense.name = "dense-d8"
    for fam in [dense] + [FAMILIES[name](args.rows, seed=args.seed) for name in args.families]:
        df = to_spark(spark, fam, partitions=args.partitions).cache()
        df.count()
        est = KMedoids(k=args.k, seed=args.seed, idCol="id", **fam.params)
        model, fit_s = timed(lambda est=est, df=df: est.fit(df))
        spec = model._feature_spec()
        dim = model.medoids().shape[1]
        blocks = to_blocks(prepare(df, spec), dim, new_store()).persist()
        blocks.count()
        cands = np.stack([model.medoids()] * 10)
        metric = model._kernel_metric()
        _, pass_s = timed(lambda blocks=blocks, dim=dim, cands=cands, metric=metric:
                          score_candidates_pass(blocks, dim, cands, metric, 2.0))
        print(f"{fam.name:<14} {args.rows:>9} {dim:>9} {fit_s:>7.1f} {pass_s:>7.2f} {args.rows / pass_s:>10.3g}",
              flush=True)
        release(blocks)
        blocks.unpersist()
        df.unpersist()
    spark.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--memory", default="12g")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--skip-kmeans", action="store_true")
    ap.add_argument("--families", nargs="*", default=None, help="sparse sets gower geo (see metric_families.py)")
    args = ap.parse_args()
    if args.families is not None:
        if args.rows == 10_000_000:
            args.rows = 500_000
        families(args)
        return

    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import VectorAssembler

    from sparkmed import KMedoids
    from sparkmed.blocks import new_store, release, to_blocks
    from sparkmed.features import FeatureSpec, prepare
    from sparkmed.kernels.assign import score_candidates
    from sparkmed.passes import partition_sums, score_candidates_pass
    from sparkmed.session import local_session

    path = ROOT / "data" / f"blobs_{args.rows}_{D}.parquet"
    if not path.exists():
        _, s = timed(lambda: write_parquet(path, args.rows, args.seed))
        print(f"wrote {path} in {s:.1f} s")
    spark = local_session("local[2]", "sparkmed-bench-spark", driver_memory=args.memory,
                          extra_conf={"spark.sql.execution.arrow.maxRecordsPerBatch": "100000"})
    cols = [f"f{j}" for j in range(D)]
    raw = spark.read.parquet(str(path)).repartition(args.partitions)
    df = VectorAssembler(inputCols=cols, outputCol="features").transform(raw).cache()
    n, load_s = timed(df.count)
    print(f"{n} rows cached in {load_s:.1f} s ({args.partitions} partitions)")

    kmeans_s = float("nan")
    if not args.skip_kmeans:
        km, kmeans_s = timed(lambda: KMeans(k=args.k, maxIter=20, seed=args.seed).fit(df))
        print(f"KMeans(k={args.k}, maxIter=20): {kmeans_s:.1f} s, {km.summary.numIter} iterations")
    model, fit_s = timed(lambda: KMedoids(k=args.k, seed=args.seed, featuresCol="features").fit(df))
    s = model.summary
    print(f"KMedoids(k={args.k}): {fit_s:.1f} s, cost {s.trainingCost:.6g}, rounds {len(s.rounds)}, "
          f"refine passes {len(s.refinePasses)}")
    print("  rounds' best cost:", ", ".join(f"{r.best_cost:.6g}" for r in s.rounds))
    print("  refine passes (loss, swaps):", ", ".join(f"({p.loss:.6g}, {p.swaps})" for p in s.refinePasses))

    prepared = to_blocks(prepare(df, FeatureSpec(featuresCol="features")), D, new_store()).persist()
    prepared.count()
    cands = np.stack([model.medoids()] * 10)
    _, score_s = timed(lambda: score_candidates_pass(prepared, D, cands, "euclidean", 2.0))
    _, empty_s = timed(lambda: partition_sums(prepared, D, 1, lambda x, w: np.zeros(1), "empty pass"))
    import numba

    numba.set_num_threads(1)
    x = np.ascontiguousarray(blobs(2_000_000, D, 20, seed=5))
    score_candidates(x[:1000], cands, "euclidean")
    _, local_s = timed(lambda: score_candidates(x, cands, "euclidean"))
    local_rate = len(x) / local_s

    print()
    print(f"{'what':<48} {'seconds':>9} {'rows/s':>12} {'ratio':>8}")
    print("-" * 80)
    km_label = f"pyspark.ml KMeans fit (k={args.k}, maxIter=20)"
    sm_label = f"sparkmed KMedoids fit (k={args.k}, defaults)"
    print(f"{km_label:<48} {kmeans_s:>9.1f} {'':>12} {1.0:>8.2f}")
    print(f"{sm_label:<48} {fit_s:>9.1f} {'':>12} {fit_s / kmeans_s:>8.2f}")
    for phase, sec in s.timings.items():
        print(f"{'  phase: ' + phase:<48} {sec:>9.1f}")
    print(f"{'empty mapInArrow pass over packed blocks':<48} {empty_s:>9.2f} {n / empty_s:>12.3g}")
    print(f"{'scoring pass, 10 candidate sets × k':<48} {score_s:>9.2f} {n / score_s:>12.3g} "
          f"{(n / score_s) / local_rate:>8.2f}")
    print(f"{'same kernel in-process on numpy (1 thread)':<48} {len(x) / local_rate:>9.2f} {local_rate:>12.3g} "
          f"{1.0:>8.2f}")
    release(prepared)
    prepared.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
