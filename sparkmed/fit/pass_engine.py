"""The engine under every full-data pass: run an additive function over all rows, add the partial sums.

Two forms, both ONE Spark job (plus, rarely, a recovery job) returning one float64 vector per partition that
the driver adds in partition order (deterministic whatever the scheduling):

- :func:`partition_sums` over the packed blocks of the fit (``sparkmed.data.blocks``): each task loads its
  blocks from the executor's resident store as n × d float64; partitions a task could not load (it ran
  away from its data, or an executor was lost) are recomputed from the cached blocks in a second job.
- :func:`batch_sums` over the Arrow batches of any DataFrame (evaluation of new data).

The values travel in the UDF closure (no ``sparkContext``, broadcast or accumulators), so every pass runs
unchanged under Spark Connect. Driver memory: O(partitions × vector length). :class:`SumLayout` names the
parts of a vector so that each pass returns a typed result instead of hand-sliced ranges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.data.blocks import INDEX_COLUMNS, resident, unpack
from sparkmed.data.pass_log import full_data_pass, set_job_description

PARTIAL_SCHEMA = "part int, sums array<double>"

BatchFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SumLayout:
    """Names and shapes of the parts of a pass's sum vector, in order (shape ``()``: one number).

    ``pack`` builds a task's vector from named parts; ``unpack`` gives the parts of the total back, scalars
    as float and the others as float64 arrays of their shape.
    """

    parts: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, **shapes: tuple[int, ...] | int) -> SumLayout:
        return cls(tuple((name, (int(s),) if isinstance(s, int | np.integer) else tuple(int(d) for d in s))
                         for name, s in shapes.items()))

    @property
    def length(self) -> int:
        return sum(int(np.prod(shape, dtype=np.int64)) for _, shape in self.parts)

    def pack(self, **values) -> np.ndarray:
        out = np.empty(self.length, dtype=np.float64)
        at = 0
        for name, shape in self.parts:
            size = int(np.prod(shape, dtype=np.int64))
            part = np.asarray(values[name], dtype=np.float64).ravel()
            if part.size != size:
                raise ValueError(f"pass sum part {name!r}: {part.size} values for shape {shape}")
            out[at : at + size] = part
            at += size
        return out

    def unpack(self, total: np.ndarray) -> dict:
        out, at = {}, 0
        for name, shape in self.parts:
            size = int(np.prod(shape, dtype=np.int64))
            out[name] = float(total[at]) if shape == () else total[at : at + size].reshape(shape)
            at += size
        return out


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
    store (``sparkmed.data.blocks``) and returns its partition's sum, or says which partitions it could not load.
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
