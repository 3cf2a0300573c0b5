"""Seeded benchmark data sets (generated, or loaded offline from installed packages)."""

from __future__ import annotations

import numpy as np


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


DATASETS = {
    "blobs20k": lambda: blobs(20000, 8, 20, seed=1),
    "digits": digits,
    "china20k": lambda: china_pixels(20000, seed=2),
}
