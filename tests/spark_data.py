"""Small deterministic data sets for the Spark tests (numpy → Spark DataFrames)."""

from __future__ import annotations

import numpy as np


def blobs(n: int, d: int, centers: int, seed: int, spread: float = 1.0) -> np.ndarray:
    """Gaussian blobs around uniformly drawn centres in [-10, 10]^d, with a little uniform noise."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-10, 10, size=(centers, d))
    labels = rng.integers(0, centers, size=n)
    x = c[labels] + rng.normal(scale=spread, size=(n, d))
    noise = rng.random(n) < 0.02
    x[noise] = rng.uniform(-12, 12, size=(int(noise.sum()), d))
    return x


def to_df(spark, x: np.ndarray, *, partitions: int = 2, with_id: bool = True, weights=None):
    """A DataFrame with ``id`` (long), ``features`` (array<double>) and optionally ``w``."""
    import pandas as pd

    pdf = pd.DataFrame({"features": list(np.asarray(x, dtype=np.float64))})
    if with_id:
        pdf.insert(0, "id", np.arange(len(x), dtype=np.int64))
    if weights is not None:
        pdf["w"] = np.asarray(weights, dtype=np.float64)
    return spark.createDataFrame(pdf).repartition(partitions)
