"""Compile and cache, once per installation, the numba kernels a fit runs: ``sparkmed warmup``.

numba compiles a kernel on its first call in every fresh Python process and, with ``cache=True``, stores the
machine code next to the sources (or in ``NUMBA_CACHE_DIR``). Measured here on an empty cache: a Euclidean fit
compiles ~50 s of kernels in each Python worker (swap deltas 19 s, sample matrix 18 s, scoring 6 s, FasterPAM
3-5 s) and ~12 s on the driver; with the cache, the same calls load in ~1 s. A fresh cluster whose
installation was never warmed pays the compile in its first fit.

``warmup`` runs a small real fit through local Spark — the same code paths, argument types and single-thread
serial kernels as the executors — plus ``transform``, ``computeCost`` and the evaluator, for each requested
metric, so that the cache holds exactly the specialisations a fit needs. ``scripts/setup.sh`` runs it after
installing; ``scripts/build_wheel.sh`` runs it on a clean copy of the sources to ship the cache in the wheel
(compiled for the x86-64-v3 CPU level, ``sparkmed.numba_target``), which ``scripts/pack_env.sh`` installs.
"""

from __future__ import annotations

import time

import numpy as np

DEFAULT_METRICS = ("euclidean",)


def warm(metrics: tuple[str, ...] = DEFAULT_METRICS, master: str = "local[2]") -> dict[str, float]:
    """Seconds spent per metric on a 4500-row fit (+ transform, cost, evaluator) in a local session."""
    import pandas as pd

    from sparkmed import KMedoids, MedoidSilhouetteEvaluator
    from sparkmed.session import local_session

    spark = local_session(master, "sparkmed-warmup", shuffle_partitions=2)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 1.0, size=(1500, 4)) for c in (-6.0, 0.0, 6.0)])
    df = spark.createDataFrame(pd.DataFrame({"id": np.arange(len(x)), "features": list(x)})).repartition(2)
    df = df.cache()
    df.count()
    seconds: dict[str, float] = {}
    try:
        for metric in metrics:
            t = time.perf_counter()
            model = KMedoids(k=3, seed=1, idCol="id", metric=metric).fit(df)
            out = model.transform(df)
            model.computeCost(df)
            MedoidSilhouetteEvaluator().evaluate(out)
            seconds[metric] = time.perf_counter() - t
    finally:
        df.unpersist()
    return seconds
