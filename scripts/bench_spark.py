"""Spark benchmark: sparkmed.KMedoids.fit vs pyspark.ml KMeans on the same cached DataFrame, one run.

Data: ``--rows`` (default 10M) rows, d=8, Gaussian blobs (seeded), written once to Parquet under data/.
Prints one table: wall time of KMeans(k, maxIter=20).fit and KMedoids(k).fit on the same cached
DataFrame (ratio), sparkmed's phase timings, and the throughput of one full-data scoring pass
(rows/s) next to an empty mapInArrow pass and the same numba kernel run in-process on a numpy array.
Targets (distributed-fit issue): fit ≤ 0.5× KMeans; a full-data pass ≥ 10M rows/s at d=8.

    .venv/bin/python scripts/bench_spark.py [--rows 10000000] [--k 20] [--memory 12g] [--reps 2]
    .venv/bin/python scripts/bench_spark.py --data overlap --dim 10 --k 25 --columns vector array cols
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
    from sparkmed.data.blocks import new_store, release
    from sparkmed.data.features import prepare
    from sparkmed.data.packing import pack_and_validate
    from sparkmed.fit.passes import score_candidates_pass
    from sparkmed.ml.plan import feature_spec
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
        spec = feature_spec(model, model.getEncoding())
        dim = model.medoids().shape[1]
        blocks, _ = pack_and_validate(prepare(df, spec), spec, new_store())
        cands = np.stack([model.medoids()] * 10)
        enc = model.getEncoding()
        metric = enc.kernel_metric if enc.kind != "dense" else model.getMetric()
        _, pass_s = timed(lambda blocks=blocks, dim=dim, cands=cands, metric=metric:
                          score_candidates_pass(blocks, dim, cands, metric, 2.0))
        print(f"{fam.name:<14} {args.rows:>9} {dim:>9} {fit_s:>7.1f} {pass_s:>7.2f} {args.rows / pass_s:>10.3g}",
              flush=True)
        release(blocks)
        blocks.unpersist()
        df.unpersist()
    spark.stop()


def overlap(n: int, d: int, centers: int, seed: int) -> np.ndarray:
    """Overlapping Gaussian clusters (centres in [-3, 3]^d, unit spread): KMeans runs all its iterations."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-3, 3, size=(centers, d))
    return c[rng.integers(0, centers, size=n)] + rng.normal(size=(n, d))


def data_path(args) -> Path:
    path = ROOT / "data" / (f"blobs_{args.rows}_{D}.parquet" if args.data == "blobs"
                            else f"overlap_{args.rows}_{args.dim}_{args.k}.parquet")
    if path.exists():
        return path
    t = time.perf_counter()
    if args.data == "blobs":
        write_parquet(path, args.rows, args.seed)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        writer = None
        for start in range(0, args.rows, 1_000_000):
            x = overlap(min(1_000_000, args.rows - start), args.dim, args.k, seed=args.seed + start)
            table = pa.table({f"f{j}": x[:, j] for j in range(args.dim)})
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        writer.close()
        tmp.rename(path)
    print(f"wrote {path} in {time.perf_counter() - t:.1f} s")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--data", choices=["blobs", "overlap"], default="blobs",
                    help="blobs: d=8, 20 blobs per 1M rows (k=20); overlap: d=--dim, k overlapping clusters")
    ap.add_argument("--dim", type=int, default=10, help="dimension of --data overlap")
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--columns", nargs="+", choices=["vector", "array", "cols"], default=["vector"],
                    help="how KMedoids reads the features: Vector column, array column, inputCols")
    ap.add_argument("--reps", type=int, default=2, help="repetitions of each fit (the table shows the minimum)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--memory", default="12g")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--skip-kmeans", action="store_true")
    ap.add_argument("--jvm-opts", default="", help="spark.driver.extraJavaOptions (e.g. to run an old sparkmed "
                    "whose sessions forced the C1-only JIT with the JVM defaults)")
    ap.add_argument("--families", nargs="*", default=None, help="sparse sets gower geo (see metric_families.py)")
    args = ap.parse_args()
    if args.families is not None:
        if args.rows == 10_000_000:
            args.rows = 500_000
        families(args)
        return

    import resource

    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.functions import vector_to_array

    from sparkmed import KMedoids
    from sparkmed.session import local_session

    try:  # package layout (2026-12); the bench also runs an older sparkmed on PYTHONPATH for old-vs-new tables
        from sparkmed.data.blocks import new_store, release
        from sparkmed.data.features import FeatureSpec, prepare
        from sparkmed.data.packing import pack_and_validate
        from sparkmed.fit.pass_engine import partition_sums
        from sparkmed.fit.passes import score_candidates_pass
        from sparkmed.kernels import score_candidates
    except ImportError:
        from sparkmed.blocks import new_store, release
        from sparkmed.features import FeatureSpec, prepare
        from sparkmed.pack_pass import pack_and_validate
        from sparkmed.passes import partition_sums, score_candidates_pass

        from sparkmed.kernels.assign import score_candidates

    dim = D if args.data == "blobs" else args.dim
    path = data_path(args)
    conf = {"spark.sql.execution.arrow.maxRecordsPerBatch": "100000"}
    if args.jvm_opts:
        conf["spark.driver.extraJavaOptions"] = args.jvm_opts
    spark = local_session("local[2]", "sparkmed-bench-spark", driver_memory=args.memory, extra_conf=conf)
    cols = [f"f{j}" for j in range(dim)]
    raw = spark.read.parquet(str(path)).repartition(args.partitions)
    df = VectorAssembler(inputCols=cols, outputCol="features").transform(raw)
    if "array" in args.columns:
        df = df.withColumn("arr", vector_to_array("features"))
    df = df.cache()
    n, load_s = timed(df.count)
    print(f"{n} rows ({args.data}, d={dim}) cached in {load_s:.1f} s ({args.partitions} partitions)", flush=True)

    def best_of(fn):
        runs = []
        for _ in range(args.reps):
            runs.append(timed(fn))
        return min(runs, key=lambda r: r[1])

    kmeans_s, iters = float("nan"), 0
    if not args.skip_kmeans:
        km, kmeans_s = best_of(lambda: KMeans(k=args.k, maxIter=20, seed=args.seed).fit(df))
        iters = km.summary.numIter
        print(f"KMeans(k={args.k}, maxIter=20): {kmeans_s:.1f} s, {iters} iterations", flush=True)
    readers = {"vector": {"featuresCol": "features"}, "array": {"featuresCol": "arr"}, "cols": {"inputCols": cols}}
    fits = {}
    for kind in args.columns:
        model, fit_s = best_of(lambda kind=kind: KMedoids(k=args.k, seed=args.seed, **readers[kind]).fit(df))
        fits[kind] = (model, fit_s)
        s = model.summary
        print(f"KMedoids(k={args.k}, {kind}): {fit_s:.1f} s, cost {s.trainingCost:.6g}, rounds {len(s.rounds)}, "
              f"refine passes {len(s.refinePasses)}", flush=True)
    model = fits[args.columns[0]][0]

    spec = FeatureSpec(featuresCol="features")
    prepared, _ = pack_and_validate(prepare(df, spec), spec, new_store())  # the fit's own packing and layout
    cands = np.stack([model.medoids()] * 10)
    _, score_s = timed(lambda: score_candidates_pass(prepared, dim, cands, "euclidean", 2.0))
    _, empty_s = timed(lambda: partition_sums(prepared, dim, 1, lambda x, w: np.zeros(1), "empty pass"))
    import numba

    numba.set_num_threads(1)
    x = np.ascontiguousarray(blobs(2_000_000, dim, 20, seed=5))
    score_candidates(x[:1000], cands, "euclidean")
    _, local_s = timed(lambda: score_candidates(x, cands, "euclidean"))
    local_rate = len(x) / local_s
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print()
    print(f"{args.rows} rows, {args.data}, d={dim}, k={args.k}, local[2], best of {args.reps}")
    print(f"{'what':<48} {'seconds':>9} {'rows/s':>12} {'ratio':>8}")
    print("-" * 80)
    km_label = f"pyspark.ml KMeans fit (maxIter=20: {iters} iter.)"
    print(f"{km_label:<48} {kmeans_s:>9.1f} {n / kmeans_s:>12.3g} {1.0:>8.2f}")
    for kind, (_, fit_s) in fits.items():
        print(f"{'sparkmed KMedoids fit, ' + kind:<48} {fit_s:>9.1f} {n / fit_s:>12.3g} {fit_s / kmeans_s:>8.2f}")
    for phase, sec in model.summary.timings.items():
        print(f"{'  phase: ' + phase:<48} {sec:>9.1f}")
    print(f"{'empty pass over the packed blocks':<48} {empty_s:>9.2f} {n / empty_s:>12.3g}")
    print(f"{'scoring pass, 10 candidate sets × k':<48} {score_s:>9.2f} {n / score_s:>12.3g} "
          f"{(n / score_s) / local_rate:>8.2f}")
    print(f"{'same kernel in-process on numpy (1 thread)':<48} {len(x) / local_rate:>9.2f} {local_rate:>12.3g} "
          f"{1.0:>8.2f}")
    print(f"{'driver Python peak RSS (MB)':<48} {peak_mb:>9.0f}")
    release(prepared)
    prepared.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
