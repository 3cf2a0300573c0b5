"""Full-data passes: one Spark job each, every partition returns additive partial sums to the driver.

Each pass is a ``mapInArrow`` over the index columns of the cached blocks of the prepared data
(``sparkmed.blocks``). Inside a task every block is loaded from the executor's resident store (or, in the
fallback, read from the cached blocks) as n × d float64, a numba kernel from ``sparkmed.kernels`` computes
a vector of partial sums, and the task emits one row per partition (its id and that vector).
The driver adds the vectors in partition order. The medoids and candidates travel in the
UDF closure (no ``sparkContext``, broadcast or accumulators), so every pass runs unchanged under Spark
Connect. Driver memory: O(partitions × vector length).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.blocks import INDEX_COLUMNS, resident, unpack

PARTIAL_SCHEMA = "part int, sums array<double>"

# Descriptions of the full-data passes run while ``counting_passes`` is active (tests guard their number).
_RECORDED: ContextVar[list[str] | None] = ContextVar("sparkmed_full_data_passes", default=None)


@contextmanager
def counting_passes() -> Iterator[list[str]]:
    """Record every full-data pass started inside the block (its description), e.g. to assert how many a fit
    makes: ``with counting_passes() as passes: est.fit(df)``."""
    token = _RECORDED.set([])
    try:
        yield _RECORDED.get()
    finally:
        _RECORDED.reset(token)


def full_data_pass(description: str) -> None:
    """Announce a pass over every row (of the input or of the packed blocks) to ``counting_passes``."""
    recorded = _RECORDED.get()
    if recorded is not None:
        recorded.append(description)

BatchFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def batch_sums(df: DataFrame, length: int, fn: Callable[[pa.RecordBatch], np.ndarray], description: str) -> np.ndarray:
    """Run ``fn(arrow batch) -> float64[length]`` on every Arrow batch of ``df`` and return the total.

    One Spark job; each task returns one vector, the driver adds them in partition order (deterministic).
    ``fn`` must be additive over disjoint row sets.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import numba
        from pyspark import TaskContext

        numba.set_num_threads(1)
        acc = np.zeros(length, dtype=np.float64)
        for batch in batches:
            acc += fn(batch)
        ctx = TaskContext.get()
        part = ctx.partitionId() if ctx is not None else 0
        yield pa.RecordBatch.from_arrays(
            [pa.array([part], pa.int32()), pa.array([acc.tolist()], pa.list_(pa.float64()))],
            names=["part", "sums"],
        )

    session = df.sparkSession
    full_data_pass(description)
    set_job_description(session, description)
    try:
        rows = df.mapInArrow(run, PARTIAL_SCHEMA).collect()
    finally:
        set_job_description(session, None)
    total = np.zeros(length, dtype=np.float64)
    for row in sorted(rows, key=lambda r: r["part"]):
        total += np.asarray(row["sums"], dtype=np.float64)
    return total


def partition_sums(
    blocks: DataFrame, dim: int, length: int, fn: BatchFn, description: str, *, last: bool = False
) -> np.ndarray:
    """Run ``fn(X, w) -> float64[length]`` on every block of ``blocks`` and return the total over all rows.

    One Spark job over the blocks' index columns: each task loads its blocks from the executor's resident
    store (``sparkmed.blocks``) and returns its partition's sum, or says which partitions it could not load.
    Those partitions (none, unless a task ran away from its data or an executor was lost) are recomputed in a
    second job from the cached blocks: per partition the same blocks in the same order, so the same sum.
    ``fn`` must be additive over disjoint row sets. Totals are added in partition order (deterministic).
    ``last``: the fit's last pass; each resident file is deleted once read (later passes use the fallback).
    """

    def sums(blocks_of_batch) -> Iterator[tuple[int, np.ndarray | None]]:
        acc: dict[int, np.ndarray | None] = {}
        for batch in blocks_of_batch:
            for part, block in batch:
                if part not in acc:
                    acc[part] = np.zeros(length, dtype=np.float64)
                if block is None or acc[part] is None:
                    acc[part] = None
                    continue
                if len(block[1]):
                    acc[part] += fn(*block)
        return iter(sorted(acc.items()))

    def from_store(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        yield _rows(sums(resident(b, dim, drop=last) for b in batches))

    def from_cache(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        yield _rows(sums(((part, (xs, ws)) for part, xs, ws in unpack(b, dim)) for b in batches))

    session = blocks.sparkSession
    full_data_pass(description)
    set_job_description(session, description)
    try:
        got = {r["part"]: r["sums"] for r in _run(blocks.select(*INDEX_COLUMNS), from_store)}
        missing = sorted(part for part, v in got.items() if v is None)
        if missing:
            set_job_description(session, f"{description} (recomputing {len(missing)} partitions from the cache)")
            again = _run(blocks.filter(F.col("part").isin(missing)), from_cache)
            got.update({r["part"]: r["sums"] for r in again})
    finally:
        set_job_description(session, None)
    total = np.zeros(length, dtype=np.float64)
    for part in sorted(got):
        if got[part] is None:
            raise RuntimeError(f"sparkmed: partition {part} of the packed data could not be read")
        total += np.asarray(got[part], dtype=np.float64)
    return total


def _rows(items: Iterator[tuple[int, np.ndarray | None]]) -> pa.RecordBatch:
    parts, vectors = [], []
    for part, acc in items:
        parts.append(part)
        vectors.append(None if acc is None else acc.tolist())
    return pa.RecordBatch.from_arrays(
        [pa.array(parts, pa.int32()), pa.array(vectors, pa.list_(pa.float64()))], names=["part", "sums"]
    )


def _run(df: DataFrame, fn: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]) -> list:
    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import numba

        numba.set_num_threads(1)
        yield from fn(batches)

    return df.mapInArrow(task, PARTIAL_SCHEMA).collect()


def set_job_description(session, text: str | None) -> None:
    """Label the next Spark jobs in the UI ("sparkmed: score 10 candidates"); a no-op where unsupported."""
    try:
        sc = session.sparkContext  # classic mode only; Spark Connect has no SparkContext
    except Exception:  # noqa: BLE001 - Connect raises its own error type here
        return
    sc.setJobDescription(None if text is None else f"sparkmed: {text}")


def score_candidates_pass(
    blocks: DataFrame, dim: int, candidates: np.ndarray, metric: str, p: float
) -> np.ndarray:
    """Full-data cost Σ w·d(x, nearest medoid) of each candidate medoid set (c × k × d): ONE pass."""
    from sparkmed.kernels.assign import score_candidates

    cand = np.ascontiguousarray(candidates, dtype=np.float64)

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        return score_candidates(xs, cand, metric, p=p, weights=ws)

    return partition_sums(blocks, dim, cand.shape[0], fn, f"score {cand.shape[0]} candidate medoid sets")


def swap_delta_pass(
    blocks: DataFrame, dim: int, medoids: np.ndarray, candidates: np.ndarray, metric: str, p: float,
    description: str,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Exact full-data FasterPAM deltas of swapping every medoid with every candidate point: ONE pass.

    Returns (loss, removal (k,), delta (c, k), shared (c,)); the loss change of swapping medoid i with
    candidate j is ``removal[i] + delta[j, i] + shared[j]`` (see ``kernels.swap_delta``).
    """
    from sparkmed.kernels.swap_delta import swap_deltas

    med = np.ascontiguousarray(medoids, dtype=np.float64)
    cand = np.ascontiguousarray(candidates, dtype=np.float64)
    k, c = med.shape[0], cand.shape[0]

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        loss, removal, delta, shared = swap_deltas(xs, med, cand, metric, p=p, weights=ws)
        return np.concatenate([[loss], removal, delta.ravel(), shared])

    total = partition_sums(blocks, dim, 1 + k + c * k + c, fn, description)
    return float(total[0]), total[1 : 1 + k], total[1 + k : 1 + k + c * k].reshape(c, k), total[1 + k + c * k :]


def cluster_stats_pass(
    blocks: DataFrame, dim: int, medoids: np.ndarray, metric: str, p: float, *, last: bool = False
) -> tuple[float, np.ndarray, np.ndarray, float, float]:
    """One pass for the summary: (cost, weighted cluster sizes (k,), cost per cluster (k,),
    Σ w·medoid-silhouette, Σ w). ``last``: also delete the resident blocks (``partition_sums``)."""
    from sparkmed.kernels.assign import nearest_two
    from sparkmed.kernels.silhouette import medoid_silhouette_samples

    med = np.ascontiguousarray(medoids, dtype=np.float64)
    k = med.shape[0]

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        labels, dn, ds = nearest_two(xs, med, metric, p=p)
        sizes = np.bincount(labels, weights=ws, minlength=k)
        costs = np.bincount(labels, weights=ws * dn, minlength=k)
        sil = float(np.dot(ws, medoid_silhouette_samples(dn, ds)))
        return np.concatenate([[float(np.dot(ws, dn))], sizes, costs, [sil, float(ws.sum())]])

    total = partition_sums(blocks, dim, 1 + 2 * k + 2, fn, f"cluster statistics for k={k}", last=last)
    return float(total[0]), total[1 : 1 + k], total[1 + k : 1 + 2 * k], float(total[-2]), float(total[-1])


def candidate_stats_pass(
    blocks: DataFrame, dim: int, candidates: list[np.ndarray], metric: str, p: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """(cost Σ w·d1, medoid-silhouette sum Σ w·s, Σ w) of every candidate medoid set (any k each): ONE pass."""
    from sparkmed.kernels.assign import nearest_two
    from sparkmed.kernels.silhouette import medoid_silhouette_samples

    cands = [np.ascontiguousarray(c, dtype=np.float64) for c in candidates]
    c = len(cands)

    def fn(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
        out = np.empty(2 * c + 1)
        for i, med in enumerate(cands):
            _, dn, ds = nearest_two(xs, med, metric, p=p)
            out[i] = float(np.dot(ws, dn))
            out[c + i] = float(np.dot(ws, medoid_silhouette_samples(dn, ds)))
        out[-1] = float(ws.sum())
        return out

    total = partition_sums(blocks, dim, 2 * c + 1, fn, f"score {c} candidate sets for several k")
    return total[:c], total[c : 2 * c], float(total[-1])
