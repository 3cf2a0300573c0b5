"""Every full-data pass of sparkmed, each returning a small typed result.

Passes over the packed blocks of a fit (``partition_sums``): candidate scoring, swap deltas, cluster
statistics, and the candidate statistics of ``select_k``. Passes over a user DataFrame (``batch_sums`` or an
aggregation): the silhouettes of the evaluator and ``computeCost``; ``assign_column`` is the per-row
assignment that ``transform`` adds and ``computeCost`` sums. Each pass is ONE Spark job (see
``sparkmed.fit.pass_engine``); the kernels it runs come from ``sparkmed.kernels``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.data.encoding import Encoding, batch_rows
from sparkmed.data.pass_log import full_data_pass
from sparkmed.fit.pass_engine import SumLayout, batch_sums, partition_sums
from sparkmed.spark_compat import arrow_batch_udf


@dataclass(frozen=True)
class SwapDeltaSums:
    """Full-data FasterPAM swap sums: the loss change of swapping medoid i with candidate j is
    ``removal[i] + delta[j, i] + shared[j]`` (``kernels.swap_deltas``)."""

    loss: float
    removal: np.ndarray  # (k,)
    delta: np.ndarray  # (c, k)
    shared: np.ndarray  # (c,)


@dataclass(frozen=True)
class ClusterSums:
    """The summary of one medoid set over all rows."""

    cost: float  # Σ w·d1
    sizes: np.ndarray  # (k,) Σ w per cluster
    cluster_costs: np.ndarray  # (k,) Σ w·d1 per cluster
    silhouette_sum: float  # Σ w·(1 - d1/d2)
    total_weight: float  # Σ w
    transitions: np.ndarray | None = None  # (k_previous, k) Σ w per (previous cluster, cluster); warm starts only


@dataclass(frozen=True)
class CandidateSums:
    """Cost and medoid-silhouette sums of several candidate medoid sets (any k each)."""

    costs: np.ndarray  # (c,) Σ w·d1
    silhouette_sums: np.ndarray  # (c,) Σ w·(1 - d1/d2)
    total_weight: float


@dataclass(frozen=True)
class SilhouetteSums:
    """A silhouette over rows of a DataFrame, with the counts of rows it could not use (each an error)."""

    weighted_sum: float
    total_weight: float
    bad_features: int
    bad_labels: int
    bad_weights: int


def score_candidates_pass(
    blocks: DataFrame, dim: int, candidates: np.ndarray, metric: str, p: float
) -> np.ndarray:
    """Full-data cost Σ w·d(x, nearest medoid) of each candidate medoid set (c × k × d): ONE pass; (c,)."""
    from sparkmed.kernels import score_candidates

    cand = np.ascontiguousarray(candidates, dtype=np.float64)

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        return score_candidates(xs, cand, metric, p=p, weights=ws)

    return partition_sums(blocks, dim, cand.shape[0], fn, f"score {cand.shape[0]} candidate medoid sets")


def swap_delta_pass(
    blocks: DataFrame, dim: int, medoids: np.ndarray, candidates: np.ndarray, metric: str, p: float,
    description: str,
) -> SwapDeltaSums:
    """Exact full-data FasterPAM deltas of swapping every medoid with every candidate point: ONE pass."""
    from sparkmed.kernels import swap_deltas

    med = np.ascontiguousarray(medoids, dtype=np.float64)
    cand = np.ascontiguousarray(candidates, dtype=np.float64)
    layout = SumLayout.of(loss=(), removal=med.shape[0], delta=(cand.shape[0], med.shape[0]), shared=cand.shape[0])

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        loss, removal, delta, shared = swap_deltas(xs, med, cand, metric, p=p, weights=ws)
        return layout.pack(loss=loss, removal=removal, delta=delta, shared=shared)

    return SwapDeltaSums(**layout.unpack(partition_sums(blocks, dim, layout.length, fn, description)))


def cluster_stats_pass(
    blocks: DataFrame, dim: int, medoids: np.ndarray, metric: str, p: float, *, last: bool = False,
    previous: np.ndarray | None = None,
) -> ClusterSums:
    """One pass for the summary of a medoid set. ``last``: also delete the resident blocks
    (``partition_sums``). ``previous`` (a warm start's medoids): the same pass also sums the transition table
    from the previous medoids' clusters to these (``kernels.transition_sums``), so drift costs no extra pass."""
    from sparkmed.kernels import cluster_sums, nearest_two, transition_sums

    med = np.ascontiguousarray(medoids, dtype=np.float64)
    k = med.shape[0]
    prev = None if previous is None else np.ascontiguousarray(previous, dtype=np.float64)
    fields = {"cost": (), "sizes": k, "cluster_costs": k, "silhouette_sum": (), "total_weight": ()}
    if prev is not None:
        fields["transitions"] = (prev.shape[0], k)
    layout = SumLayout.of(**fields)

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        labels, dn, ds = nearest_two(xs, med, metric, p=p)
        sums = cluster_sums(labels, dn, ds, ws, k)
        if prev is not None:
            previous_labels, _, _ = nearest_two(xs, prev, metric, p=p)
            sums["transitions"] = transition_sums(previous_labels, labels, ws, prev.shape[0], k)
        return layout.pack(**sums)

    total = partition_sums(blocks, dim, layout.length, fn, f"cluster statistics for k={k}", last=last)
    return ClusterSums(**layout.unpack(total))


def candidate_stats_pass(
    blocks: DataFrame, dim: int, candidates: list[np.ndarray], metric: str, p: float
) -> CandidateSums:
    """Cost and medoid-silhouette sums of every candidate medoid set (any k each): ONE pass."""
    from sparkmed.kernels import medoid_silhouette_samples, nearest_two

    cands = [np.ascontiguousarray(c, dtype=np.float64) for c in candidates]
    layout = SumLayout.of(costs=len(cands), silhouette_sums=len(cands), total_weight=())

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        costs, sils = np.empty(len(cands)), np.empty(len(cands))
        for i, med in enumerate(cands):
            _, dn, ds = nearest_two(xs, med, metric, p=p)
            costs[i] = float(np.dot(ws, dn))
            sils[i] = float(np.dot(ws, medoid_silhouette_samples(dn, ds)))
        return layout.pack(costs=costs, silhouette_sums=sils, total_weight=float(ws.sum()))

    total = partition_sums(blocks, dim, layout.length, fn, f"score {len(cands)} candidate sets for several k")
    return CandidateSums(**layout.unpack(total))


def silhouette_pass(
    rows: DataFrame, medoids: np.ndarray, enc: Encoding, metric: str, p: float, *, simplified: bool,
    description: str,
) -> SilhouetteSums:
    """Σ w·s and Σ w of the medoid (or, ``simplified``, the simplified) silhouette over ``rows``: ONE pass.

    ``rows``: columns (features as produced by ``feature_column(padded=False)``[, int label], weight).
    Rows with unusable features, labels or weights are counted, not used.
    """
    med = np.ascontiguousarray(medoids, dtype=np.float64)
    k = med.shape[0]
    layout = SumLayout.of(weighted_sum=(), total_weight=(), bad_features=(), bad_labels=(), bad_weights=())

    def per_batch(batch: pa.RecordBatch) -> np.ndarray:
        from sparkmed.kernels import medoid_silhouette_samples, nearest_two, simplified_silhouette_samples

        xs, ok, targets = batch_rows(batch.column(0), enc, med)
        w = batch.column(batch.num_columns - 1).to_numpy(zero_copy_only=False).astype(np.float64)
        bad_w = ~np.isfinite(w) | (w < 0)
        if simplified:
            lab = batch.column(1).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            bad_label = (lab < 0) | (lab >= k)
        else:
            bad_label = np.zeros(len(w), dtype=bool)
        use = ok & ~bad_w & ~bad_label
        if simplified:
            s = simplified_silhouette_samples(xs[use], targets, lab[use], metric, p=p)
        else:
            _, dn, ds = nearest_two(xs[use], targets, metric, p=p)
            s = medoid_silhouette_samples(dn, ds)
        wu = w[use]
        return layout.pack(weighted_sum=float(np.dot(wu, s)), total_weight=float(wu.sum()),
                           bad_features=float((~ok).sum()), bad_labels=float(bad_label.sum()),
                           bad_weights=float(bad_w.sum()))

    sums = layout.unpack(batch_sums(rows, layout.length, per_batch, description))
    return SilhouetteSums(sums["weighted_sum"], sums["total_weight"],
                          *(int(sums[n]) for n in ("bad_features", "bad_labels", "bad_weights")))


def assign_column(features: F.Column, medoids: np.ndarray, metric: str, p: float,
                  encoding: Encoding | None = None) -> F.Column:
    """Column expression: struct(prediction int, distance double) of each row's nearest medoid.

    An Arrow UDF (what ``transform`` adds, and what ``cost_pass`` sums; ``spark_compat.arrow_batch_udf`` picks
    how it runs on each pyspark line): the ``array<double>`` features arrive as an Arrow list array
    (sparse/set rows unpadded, padded per batch by ``encoding.batch_rows``); rows with null or non-finite
    features get nulls.
    """
    med = np.ascontiguousarray(medoids, dtype=np.float64)
    enc = encoding or Encoding()

    def assign(x: pa.Array) -> pa.Array:
        from sparkmed.kernels import nearest_two

        rows, ok, targets = batch_rows(x, enc, med)
        if ok.all():
            labels, dn, _ = nearest_two(rows, targets, metric, p=p)
        else:  # unusable rows (null, wrong size, NaN/inf) never reach the kernel, which refuses them
            labels, dn = np.zeros(len(ok), dtype=np.int64), np.zeros(len(ok))
            if ok.any():
                labels[ok], dn[ok], _ = nearest_two(rows[ok], targets, metric, p=p)
        mask = pa.array(~ok)
        return pa.StructArray.from_arrays(
            [pa.array(labels.astype(np.int32), mask=~ok), pa.array(dn, mask=~ok)],
            names=["prediction", "distance"], mask=mask if not ok.all() else None,
        )

    return arrow_batch_udf("struct<prediction:int,distance:double>", assign)(features)


def cost_pass(dataset: DataFrame, features: F.Column, weight: F.Column, medoids: np.ndarray, metric: str,
              p: float, encoding: Encoding) -> tuple[float, int]:
    """(Σ w·d(x, nearest medoid), rows with unusable features) over ``dataset``: ONE pass (an aggregation)."""
    a = assign_column(features, medoids, metric, p, encoding)
    full_data_pass(f"cost for k={medoids.shape[0]}")
    row = dataset.select(a.alias("a"), weight.alias("w")).agg(
        F.sum(F.col("a.distance") * F.col("w")).alias("cost"),
        F.sum(F.col("a.distance").isNull().cast("long")).alias("bad"),
    ).collect()[0]
    return float(row["cost"] or 0.0), int(row["bad"] or 0)
