"""Seeded benchmark data sets (generated, or loaded offline from installed packages)."""

from __future__ import annotations

import numpy as np

_TWO53 = float(2**53)


def blobs(n: int, d: int = 8, centers: int = 20, seed: int = 0, noise: float = 0.02) -> np.ndarray:
    """Gaussian blobs of unequal spread around uniform centres in [-10, 10]^d plus uniform noise."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-10, 10, size=(centers, d))
    spread = rng.uniform(0.5, 2.0, size=centers)
    labels = rng.integers(0, centers, size=n)
    x = c[labels] + rng.normal(size=(n, d)) * spread[labels, None]
    out = rng.random(n) < noise
    x[out] = rng.uniform(-12, 12, size=(int(out.sum()), d))
    return x


def digits() -> np.ndarray:
    """scikit-learn's bundled handwritten digits, 1797 × 64."""
    from sklearn.datasets import load_digits

    return load_digits().data.astype(np.float64)


def china_pixels(n: int = 20000, seed: int = 0) -> np.ndarray:
    """n random RGB pixels of scikit-learn's bundled china.jpg (273,280 × 3 in all)."""
    from sklearn.datasets import load_sample_image

    px = load_sample_image("china.jpg").reshape(-1, 3).astype(np.float64)
    rng = np.random.default_rng(seed)
    return px[rng.choice(len(px), size=min(n, len(px)), replace=False)]


def generated_blobs(spark, rows: int, dim: int, centers: int, partitions: int, seed: int):
    """``rows`` points (``id`` long, ``features`` array<double>) around ``centers`` centres, made in the JVM.

    Every value is a function of (seed, id, coordinate) through ``xxhash64``, so the data does not depend
    on partitioning and is recomputed bit-identically after an executor loss; no data passes the driver.
    """
    from pyspark.sql import functions as F

    def uniform(salt: int):
        h = F.xxhash64(F.lit(seed), F.lit(salt), F.col("id"))
        return F.shiftrightunsigned(h, 11).cast("double") / F.lit(_TWO53)

    centre = F.pmod(F.xxhash64(F.lit(seed), F.lit(-1), F.col("id")), F.lit(centers))
    coords = []
    for j in range(dim):
        # centre coordinate in [-10, 10) from a hash of (seed, centre, j); noise ~ sum of 3 uniforms (sd 0.5)
        c = F.shiftrightunsigned(F.xxhash64(F.lit(seed), F.lit(1000 + j), centre), 11).cast("double")
        c = c / F.lit(_TWO53) * 20.0 - 10.0
        noise = (uniform(3 * j) + uniform(3 * j + 1) + uniform(3 * j + 2) - 1.5) * 1.0
        coords.append(c + noise)
    return spark.range(0, rows, 1, partitions).select(F.col("id"), F.array(*coords).alias("features"))


DATASETS = {
    "blobs20k": lambda: blobs(20000, 8, 20, seed=1),
    "digits": digits,
    "china20k": lambda: china_pixels(20000, seed=2),
}
