"""Seeded benchmark data for each non-dense metric family (sparse vectors, sets, Gower, haversine).

Each family gives the rows as a pandas DataFrame (what Spark reads), the ``KMedoids`` keyword arguments
that cluster it, and the same rows encoded with ``sparkmed.kernels.encoders`` (what a single-machine
reference such as full FasterPAM on the n × n matrix needs). Synthetic on purpose: the machine is offline
and these shapes (few non-zeros, small baskets, mixed columns with nulls, points on the globe) are what
the families exist for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Family:
    name: str
    frame: pd.DataFrame
    params: dict
    kernel_metric: str
    encoded: Callable[[], np.ndarray]  # n × D rows for the in-process reference
    vector_column: str | None = None  # a column of (indices, values) pairs to turn into SparseVectors


def sparse_docs(n: int, seed: int = 0, size: int = 5000, topics: int = 20) -> Family:
    """TF-IDF-like documents: 5–30 non-zeros out of ``size``, drawn mostly from one topic's 250 terms."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, topics, n)
    pairs = []
    for i in range(n):
        nnz = int(rng.integers(5, 31))
        own = rng.integers(250 * t[i], 250 * t[i] + 250, size=nnz)
        other = rng.integers(0, size, size=max(1, nnz // 5))
        idx = np.unique(np.concatenate([own, other]) % size)
        pairs.append((idx.astype(np.int64), rng.exponential(1.0, size=len(idx))))
    frame = pd.DataFrame({"id": np.arange(n), "doc": pairs})

    def encoded() -> np.ndarray:
        from sparkmed.kernels import encode_sparse

        return encode_sparse(pairs)

    return Family("sparse-cosine", frame, {"metric": "cosine", "featuresCol": "features", "vectorFormat": "sparse"},
                  "sparse_cosine", encoded, vector_column="doc")


def baskets(n: int, seed: int = 0, topics: int = 20, vocab: int = 60) -> Family:
    """Shopping baskets: 3–12 items, mostly from one of ``topics`` aisles of ``vocab`` items."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, topics, n)
    rows = []
    for i in range(n):
        size = int(rng.integers(3, 13))
        own = rng.integers(0, vocab, size=size)
        noise = rng.integers(0, vocab * topics, size=int(rng.integers(0, 3)))
        rows.append([f"a{t[i]}_{j}" for j in own] + [f"a{j // vocab}_{j % vocab}" for j in noise])
    frame = pd.DataFrame({"id": np.arange(n), "items": rows})

    def encoded() -> np.ndarray:
        from sparkmed.kernels import encode_sets

        codes = {item: c for c, item in enumerate(sorted({x for r in rows for x in r}))}
        return encode_sets([[codes[x] for x in r] for r in rows])

    return Family("sets-jaccard", frame, {"metric": "jaccard", "featuresCol": "items"}, "set_jaccard", encoded)


def mixed_table(n: int, seed: int = 0, groups: int = 12) -> Family:
    """A customer table: 3 numeric columns, 2 categorical, 1 boolean; about 3% nulls."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "age": 20 + 4 * g + rng.normal(0, 3, n),
        "income": np.exp(8 + 0.15 * g + rng.normal(0, 0.3, n)),
        "visits": rng.poisson(1 + g % 5, n).astype(np.float64),
        "region": np.array([f"r{(v * 7) % 9}" for v in g], dtype=object),
        "channel": np.where(rng.random(n) < 0.8, np.array(["web", "shop", "phone"])[g % 3], "web").astype(object),
        "member": (g % 2 == 0) ^ (rng.random(n) < 0.1),
    })
    for col in ("age", "income", "region"):
        frame.loc[rng.random(n) < 0.03, col] = None
    cols = ["age", "income", "visits", "region", "channel", "member"]

    def encoded() -> np.ndarray:
        from sparkmed.kernels import encode_gower

        vals = np.column_stack([
            frame["age"].astype(float), frame["income"].astype(float), frame["visits"],
            pd.factorize(frame["region"])[0].astype(float), pd.factorize(frame["channel"])[0].astype(float),
            frame["member"].astype(float),
        ])
        vals[:, 3][frame["region"].isna().to_numpy()] = np.nan
        return encode_gower(vals, [0, 0, 0, 1, 1, 2])

    return Family("gower-mixed", frame, {"metric": "gower", "inputCols": cols}, "gower", encoded)


def geo_points(n: int, seed: int = 0, cities: int = 30) -> Family:
    """Points scattered (σ ≈ 50 km) around ``cities`` random places on land-ish latitudes."""
    rng = np.random.default_rng(seed)
    c = np.column_stack([rng.uniform(-55, 65, cities), rng.uniform(-170, 170, cities)])
    lab = rng.integers(0, cities, n)
    pts = c[lab] + rng.normal(0, 0.45, size=(n, 2))
    pts[:, 0] = np.clip(pts[:, 0], -90, 90)
    pts[:, 1] = (pts[:, 1] + 180) % 360 - 180
    frame = pd.DataFrame({"id": np.arange(n), "lat": pts[:, 0], "lon": pts[:, 1]})
    return Family("geo-haversine", frame, {"metric": "haversine", "inputCols": ["lat", "lon"]}, "haversine",
                  lambda: pts.copy())


FAMILIES = {"sparse": sparse_docs, "sets": baskets, "gower": mixed_table, "geo": geo_points}


def to_spark(spark, fam: Family, partitions: int = 4):
    """The family's rows as a Spark DataFrame (SparseVectors built for the sparse family)."""
    if fam.vector_column is None:
        return spark.createDataFrame(fam.frame).repartition(partitions)
    from pyspark.ml.linalg import Vectors, VectorUDT
    from pyspark.sql import types as T

    size = 1 + max(int(idx.max()) for idx, _ in fam.frame[fam.vector_column])
    size = max(size, 5000)
    rows = [(int(i), Vectors.sparse(size, idx.tolist(), vals.tolist()))
            for i, (idx, vals) in zip(fam.frame["id"], fam.frame[fam.vector_column], strict=True)]
    schema = T.StructType([T.StructField("id", T.LongType()), T.StructField("features", VectorUDT())])
    return spark.createDataFrame(rows, schema).repartition(partitions)
