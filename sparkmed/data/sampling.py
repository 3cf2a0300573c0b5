"""Drawing many seeded random samples of the prepared data in ONE Spark pass.

Membership of a row in sample ``s`` is decided by a uniform number computed from a seeded hash of ``(seed, s,
row key)`` — not from partition position or row order — so the samples, and everything fitted on them, are the
same whatever the partitioning, the row order or task retries (the determinism scheme: a result depends only
on the data, the parameters and the seed). A row joins sample ``s`` when its number is below an inclusion rate
chosen so that about ``sample_size + 4·sqrt(sample_size)`` distinct keys qualify; the executor keeps the
``sample_size`` keys with the smallest numbers (bottom-k sampling), which is exact-size and still partition-
independent.
Rows sharing a key (identical points without an ``idCol``) are in or out together and are merged into
one weighted sample point.
"""

from __future__ import annotations

import math

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.data.features import ID, KEY, W, X

SID = "_sm_sid"
U = "_sm_u"

_TWO53 = float(2**53)


def uniform(seed: int, sample_id: int) -> F.Column:
    """A per-(seed, sample, key) uniform number in [0, 1) from the top 53 bits of xxhash64."""
    h = F.xxhash64(F.lit(int(seed)), F.lit(int(sample_id)), F.col(KEY))
    return F.shiftrightunsigned(h, 11).cast("double") / F.lit(_TWO53)


def inclusion_rate(sample_size: int, n_keys: int) -> float:
    """Bernoulli rate giving ≥ sample_size keys with overwhelming probability (4 sigma + slack)."""
    if n_keys <= 0:
        return 1.0
    target = sample_size + 4.0 * math.sqrt(sample_size) + 10.0
    return min(1.0, target / n_keys)


def draw_samples(
    prepared: DataFrame, sample_ids: list[int], *, sample_size: int, n_keys: int, seed: int
) -> DataFrame:
    """All requested samples as one DataFrame (sample id, uniform, key, x, w[, id]); lazy.

    One pass: every row computes its uniform number for every sample id (JVM-side hashing, no Python)
    and is exploded into the samples it falls in. The result has about len(sample_ids) × sample_size rows.
    """
    rate = inclusion_rate(sample_size, n_keys)
    has_id = ID in prepared.columns
    us = [(s, uniform(seed, s)) for s in sample_ids]  # each expression built once (py4j calls cost ~0.1 ms)
    member = [F.when(u < F.lit(rate), F.struct(F.lit(int(s)).alias("s"), u.alias("u"))) for s, u in us]
    hits = F.filter(F.array(*member), lambda e: e.isNotNull())
    cols = [F.col(KEY), F.col(X), F.col(W)] + ([F.col(ID)] if has_id else [])
    exploded = prepared.select(*cols, F.explode(hits).alias("_hit"))
    return exploded.select(
        F.col("_hit.s").alias(SID), F.col("_hit.u").alias(U), *[F.col(c) for c in [KEY, X, W]],
        *([F.col(ID)] if has_id else []),
    )
